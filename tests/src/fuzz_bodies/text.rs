//! The text parsers: scenario and market files, the gateway config, the risk limits
//! file, and a `sor tca compute` input line. Each takes arbitrary UTF-8 (other bytes
//! are not text and are skipped) and must answer with a value or an error, never a
//! panic; where a parse succeeds, the properties its documentation promises must hold.

use risk::Limits;
use sor::scenario::Scenario;
use sor::serve::config::GatewayConfig;
use sor::tca::batch::answer_line;
use std::path::Path;

/// Target `scenario`: [`Scenario::parse`] and [`Scenario::parse_market`].
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let full = Scenario::parse(text, None);
    let market = Scenario::parse_market(text);
    if let Err(e) = &full {
        assert!(!e.to_string().is_empty(), "an error without a reason");
    }
    if let Err(e) = &market {
        assert!(!e.to_string().is_empty(), "an error without a reason");
    }
    // A market file is a scenario whose parents are optional: whatever parses as a
    // scenario parses as a market file.
    if full.is_ok() {
        assert!(market.is_ok(), "a scenario that is not a market file");
    }
    if let Ok(s) = full {
        assert!(!s.parents.is_empty(), "a scenario without parents");
    }
}

/// Target `gateway_config`: [`GatewayConfig::parse`] (what `sor serve CONFIG` reads).
pub fn gateway_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match GatewayConfig::parse(text, Path::new("/etc/sor")) {
        Ok(c) => {
            assert!(!c.comp_id.is_empty() && !c.comp_id.contains(char::is_whitespace));
            assert!((1..=1_000_000).contains(&c.inbound_queue), "{c:?}");
            assert!(c.shutdown_grace_ms <= 60_000, "{c:?}");
            assert!(!c.desks.comp_ids().is_empty(), "{c:?}");
            assert!(!c.desks.comp_ids().contains(&c.comp_id), "{c:?}");
        }
        Err(e) => assert!(!e.0.is_empty(), "an error without a reason"),
    }
}

/// Target `risk_limits`: [`Limits::from_toml_str`]; limits that parse are valid and
/// survive [`Limits::to_toml_string`] and back unchanged (what the admin API's edits rely on).
pub fn risk_limits(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Limits::from_toml_str(text) {
        Ok(limits) => {
            assert_eq!(limits.validate(), Ok(()));
            let written = match limits.to_toml_string() {
                Ok(t) => t,
                Err(e) => panic!("valid limits cannot be written: {e}\n{limits:?}"),
            };
            match Limits::from_toml_str(&written) {
                Ok(again) => assert_eq!(again, limits, "written as:\n{written}"),
                Err(e) => panic!("written limits do not read back: {e}\n{written}"),
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an error without a reason"),
    }
}

/// The error codes a `sor tca compute` answer may carry (cli-contract.md).
const TCA_ERRORS: &[&str] = &[
    "invalid_input",
    "invalid_trade",
    "invalid_window",
    "invalid_order",
    "invalid_fill",
];

/// Target `tca_line`: [`answer_line`] always answers, in the contract's shape: an
/// object with `reference` (and `order` only if the line had one), or an error object
/// with a known code and a `detail` string and nothing else.
pub fn tca_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let answer = answer_line(line);
    let json = match serde_json::to_value(&answer) {
        Ok(v) => v,
        Err(e) => panic!("answer to {line:?} cannot be written: {e}"),
    };
    let Some(obj) = json.as_object() else {
        panic!("answer to {line:?} is not an object: {json}");
    };
    if let Some(code) = obj.get("error") {
        let known = code.as_str().is_some_and(|c| TCA_ERRORS.contains(&c));
        assert!(known, "unknown error code in {json}");
        assert!(obj.get("detail").is_some_and(|d| d.is_string()), "{json}");
        assert_eq!(obj.len(), 2, "extra keys in {json}");
    } else {
        assert!(obj.contains_key("reference"), "no reference in {json}");
        assert!(
            obj.keys().all(|k| k == "reference" || k == "order"),
            "extra keys in {json}"
        );
        let reference = &obj["reference"];
        let ok = reference.get("rate").is_some_and(|r| r.is_string())
            || reference.get("error").and_then(|e| e.as_str()) == Some("no_eligible_trades");
        assert!(
            ok,
            "reference is neither a rate nor no_eligible_trades: {json}"
        );
    }
}
