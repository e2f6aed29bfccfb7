//! The bodies of the cargo-fuzz targets in `tests/fuzz/`: one plain function per
//! target, so the fuzzer (`cargo fuzz run --fuzz-dir tests/fuzz <target>`, nightly
//! flags) and the normal test suite (`tests/tests/fuzz_seeds.rs`, stable, in CI) run
//! the same checks on the same inputs. A body panics only when it finds a bug: a panic
//! or an arithmetic overflow in the code under test, or a broken invariant.
//! See `docs/fuzzing.md`.

mod desk_fix;
mod input;
mod pool_math;
mod text;

pub use desk_fix::{desk_fix, desk_fix_fields, reframed};
pub use input::Input;
pub use pool_math::{PoolCase, check_pool_case, pool_math};
pub use text::{gateway_config, risk_limits, scenario, tca_line};

/// A fuzz target's body: takes the fuzzer's bytes, panics on a bug.
pub type Body = fn(&[u8]);

/// Every target by name (its cargo-fuzz target and its corpus directory
/// `tests/fuzz/corpus/<name>/`).
pub const TARGETS: &[(&str, Body)] = &[
    ("desk_fix", desk_fix),
    ("desk_fix_fields", desk_fix_fields),
    ("scenario", scenario),
    ("gateway_config", gateway_config),
    ("risk_limits", risk_limits),
    ("pool_math", pool_math),
    ("tca_line", tca_line),
];
