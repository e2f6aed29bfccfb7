//! The risk officer's admin API: read the live pre-trade limits and usage, and change
//! limits, kill switches and ramp stages while the gateway runs. Every change is written
//! to the audit log before it takes effect; if the audit write fails, nothing changes.
//!
//! The server ([`server::AdminServer`]) listens on a loopback address only (it has no
//! TLS; reach it over SSH from elsewhere). `sor risk` ([`cli`]) is its command line;
//! [`client::AdminClient`] its client library.
//!
//! # Authentication
//!
//! Every request carries `Authorization: Bearer <token>`. The server keeps only the
//! tokens' SHA-256 hashes, each with a name and a role (`config/admin-tokens.toml`):
//!
//! ```toml
//! [[tokens]]
//! name = "alice"                 # recorded as `who` in the audit log
//! role = "risk_officer"          # reads and changes; "trader" reads only
//! sha256 = "…64 hex digits…"     # printf %s "$TOKEN" | sha256sum
//! ```
//!
//! No token, a malformed header or an unknown token: `401` with
//! `WWW-Authenticate: Bearer`. A `trader` token on a change: `403`.
//!
//! # Endpoints
//!
//! All bodies are JSON; decimals are strings (`"1500000"`), times are nanoseconds since
//! the Unix epoch.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `GET /v1/limits` | | the limits in force, as the limits file's fields |
//! | `GET /v1/usage` | | limits and usage now (see below) |
//! | `POST /v1/limits` | `{"key", "value", "reason"}` | sets one limit |
//! | `POST /v1/limits/clear` | `{"key", "reason"}` | removes one limit (it no longer binds) |
//! | `POST /v1/kill` | `{"scope", "cancel_working", "reason"}` | engages a kill switch |
//! | `POST /v1/release` | `{"scope", "reason"}` | releases a kill switch |
//! | `POST /v1/stage` | `{"venue", "stage", "reason"}` | moves a venue to a ramp stage (at most its ceiling) |
//! | `POST /v1/stage/cap` | `{"venue", "ceiling", "reason"}` | sets the highest stage a venue may graduate to |
//!
//! Every field is required and unknown fields are refused. `reason` must not be empty.
//!
//! - `key` is a dotted path into the limits file: `venues.dealer-a.max_clip`,
//!   `desks.DESK1.daily_notional`, `overall.min_spacing_ms`, `ramps.pools.stages.0.max_clip`;
//!   a segment with other characters than letters, digits, `-` and `_` is
//!   double-quoted: `instruments."USDC/USD".max_clip` (in JSON:
//!   `"instruments.\"USDC/USD\".max_clip"`). A desk, venue or ramp that the limits do not
//!   name cannot be created this way; the whole result is validated like the file.
//! - `value` is the value as the limits file writes it, in a JSON string: `"1500000"`,
//!   `"20"`, `"true"`, `"[\"book-x\", \"book-y\"]"`, `"canary"`. A JSON integer, boolean or
//!   list of strings is taken too; a JSON number with a fraction is refused (write
//!   `"0.5"`).
//! - `scope` is `"global"`, `{"desk": "DESK1"}` or `{"venue": "dealer-a"}`.
//! - `cancel_working` (`true`/`false`): whether the engine also cancels the children
//!   already working in the scope. Either way no new child is sent there.
//!
//! A change answers `200` with its audit record:
//!
//! ```json
//! {"who": "alice", "at": 1700000000000000000, "what": "set_limit",
//!  "key": "venues.dealer-a.max_clip", "old": "5000000", "new": "1500000",
//!  "reason": "dealer asked"}
//! ```
//!
//! `what` is `set_limit`, `clear_limit`, `engage_kill`, `release_kill`, `set_stage` or
//! `cap_stage`; `key` is the limit's key, `kill.global`, `kill.desks.X`,
//! `kill.venues.X`, `venues.X.stage` or `venues.X.stage_ceiling`; `old` and `new` are
//! `null` where there was or is no value.
//!
//! `GET /v1/usage` answers `{at, version, daily_period_start, limits, overall:
//! {open_notional, daily_notional}, overall_window: {children_in_window, window_ms,
//! last_child_at}, desks: {D: {open_notional, daily_notional}}, venues: {V:
//! {open_notional, daily_notional, children_in_window, window_ms, last_child_at, ramp:
//! null | {ramp, stage, stage_index, ceiling, clean_fills, clean_fills_to_graduate}}},
//! kills: {global, desks, venues, generation}}`, each engaged kill being `{cancel_working,
//! at, by, reason}`.
//!
//! # Errors
//!
//! Every refusal is `{"error": "<code>", "detail": "<text>"}`; the text names the field
//! or the rule, and nothing was changed.
//!
//! | status | `error` | when |
//! |---|---|---|
//! | 400 | `bad_request` | malformed JSON, a missing, unknown or mistyped field, an empty `reason` (e.g. ``missing field `reason` ``, `value: write a decimal as a JSON string ("0.5"), not a JSON number`) |
//! | 400 | `invalid_limit` | the change would make the limits invalid (`venues.dealer-a.max_clip: must be > 0, got -5`) or the key is unknown |
//! | 400 | `unknown_name` | a desk or venue the limits do not name |
//! | 400 | `no_ramp`, `unknown_stage`, `above_ceiling` | a stage change the venue's ramp does not allow |
//! | 400 | `not_engaged` | releasing a kill switch that is not engaged |
//! | 401 | `unauthorized` | no token, a malformed header, an unknown token |
//! | 403 | `forbidden` | the token's role may not change (`role trader may not change limits`) |
//! | 409 | `conflict` | another change landed while this one was being recorded; try again |
//! | 413 | `payload_too_large` | a body over 64 KiB |
//! | 500 | `audit_failed` | the audit record could not be written; the change was not made |
//!
//! # `sor risk`
//!
//! ```text
//! export SOR_ADMIN_TOKEN=...        # or --token-env VAR
//! sor risk show
//! sor risk usage
//! sor risk set venues.dealer-a.max_clip 1500000 --reason "dealer asked"
//! sor risk clear venues.book-y.band_bps --reason "..."
//! sor risk kill [--desk D | --venue V] [--cancel] --reason "..."
//! sor risk release [--desk D | --venue V] --reason "..."
//! sor risk stage pool-cwusdc small --reason "..."
//! sor risk cap pool-cwusdc full --reason "..."
//! ```
//!
//! `--url` (default `http://127.0.0.1:9879`) picks the API. It prints the answer as
//! JSON and exits 0; 2 for bad arguments or a missing token variable; 1 when the API
//! refuses or cannot be reached, with one line on stderr such as
//! `error: 403 forbidden: role trader may not change limits`.

pub mod cli;
pub mod client;
pub mod server;
pub mod wire;

pub use client::{AdminClient, ClientError};
pub use server::{AdminError, AdminServer, AdminState};
