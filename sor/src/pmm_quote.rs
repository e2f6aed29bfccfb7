//! `sor pmm quote`: quotes DODO V2 PMM pools from JSON lines, exactly as the contract's
//! `querySellBase` / `querySellQuote` would, in the shape of
//! ../shared/specs/cli-contract.md.
//!
//! One JSON object per input line, one per output line, in order, flushed per line. A
//! line that cannot be used answers `{"error": "invalid_input", "detail": …}` naming the
//! field; a quote the contract would revert answers `{"error": "revert", "detail":
//! <the contract's reason>}`; the run goes on either way.

use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{self, BufRead, Write};
use venues::pmm::{
    FeeRates, MathVersion, PmmState, RState, U256, query_sell_base, query_sell_quote,
};

/// Longest input line read; a longer one answers `invalid_input` (memory stays bounded).
pub const MAX_LINE: usize = 1 << 20;

/// One answer line.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Answer {
    /// The quote.
    Quote {
        /// What the trader receives after both fees.
        receive: String,
        /// The maintainer fee.
        mt_fee: String,
        /// R after the trade.
        new_r: &'static str,
        /// The new target of the input side.
        new_target: String,
    },
    /// An input or revert error.
    Error {
        /// `invalid_input` or `revert`.
        error: &'static str,
        /// Which field and why, or the contract's revert reason.
        detail: String,
    },
}

fn invalid(detail: impl Into<String>) -> Answer {
    Answer::Error {
        error: "invalid_input",
        detail: detail.into(),
    }
}

/// An unsigned decimal integer string that fits 256 bits.
fn uint(obj: &Map<String, Value>, prefix: &str, key: &str) -> Result<U256, Answer> {
    let field = format!("{prefix}{key}");
    let v = obj
        .get(key)
        .ok_or_else(|| invalid(format!("{field}: missing")))?;
    let s = v.as_str().ok_or_else(|| {
        invalid(format!(
            "{field}: must be a string of decimal digits, got {v}"
        ))
    })?;
    if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "{field}: {s:?} is not an unsigned decimal integer"
        )));
    }
    U256::from_str_radix(s, 10)
        .map_err(|_| invalid(format!("{field}: {s} does not fit in 256 bits")))
}

/// Answers one input line.
pub fn answer_line(line: &str, version: MathVersion) -> Answer {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return invalid(format!("not JSON: {e}")),
    };
    let Some(obj) = value.as_object() else {
        return invalid("the line must be a JSON object");
    };
    let side = match obj.get("side").and_then(Value::as_str) {
        Some("sell_base") => true,
        Some("sell_quote") => false,
        Some(other) => return invalid(format!("side: {other:?} is not sell_base or sell_quote")),
        None => return invalid("side: missing (sell_base or sell_quote)"),
    };
    let parsed = (|| {
        let amount = uint(obj, "", "amount")?;
        let state = obj
            .get("state")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("state: missing or not an object"))?;
        let r = match state.get("r").and_then(Value::as_str) {
            Some(s) => s.parse::<RState>().map_err(|_| {
                invalid(format!("state.r: {s:?} is not ONE, ABOVE_ONE or BELOW_ONE"))
            })?,
            None => return Err(invalid("state.r: missing (ONE, ABOVE_ONE or BELOW_ONE)")),
        };
        let pool = PmmState {
            i: uint(state, "state.", "i")?,
            k: uint(state, "state.", "k")?,
            b: uint(state, "state.", "b")?,
            q: uint(state, "state.", "q")?,
            b0: uint(state, "state.", "b0")?,
            q0: uint(state, "state.", "q0")?,
            r,
        };
        let fees = FeeRates {
            lp_fee_rate: uint(state, "state.", "lp_fee_rate")?,
            mt_fee_rate: uint(state, "state.", "mt_fee_rate")?,
        };
        Ok((amount, pool, fees))
    })();
    let (amount, pool, fees) = match parsed {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let quote = if side {
        query_sell_base(&pool, &fees, amount, version)
    } else {
        query_sell_quote(&pool, &fees, amount, version)
    };
    match quote {
        Ok(q) => Answer::Quote {
            receive: q.receive.to_string(),
            mt_fee: q.mt_fee.to_string(),
            new_r: q.new_r.name(),
            new_target: q.new_target.to_string(),
        },
        Err(revert) => Answer::Error {
            error: "revert",
            detail: revert.reason().to_owned(),
        },
    }
}

/// Reads JSON lines from `input` until it ends and writes one answer per line to
/// `output`, flushing after each. Only an I/O error stops it early.
pub fn run<R: BufRead, W: Write>(input: R, output: W, version: MathVersion) -> io::Result<u64> {
    crate::jsonl::serve(input, output, MAX_LINE, |line| match line {
        Ok(text) => answer_line(text, version),
        Err(detail) => invalid(detail),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        run(input.as_bytes(), &mut out, MathVersion::V2024_01).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    const DSP: &str = r#"{"side": "sell_quote", "amount": "100000000000000000000", "state": {"i": "1000000000000000000", "k": "100000000000000000", "b": "1000000000000000000000", "q": "1000000000000000000000", "b0": "1000000000000000000000", "q0": "1000000000000000000000", "r": "ONE", "lp_fee_rate": "0", "mt_fee_rate": "0"}}"#;

    #[test]
    fn dodos_own_dsp_example() {
        let out = run_text(DSP);
        assert_eq!(out[0]["receive"], "98914196817061816111");
        assert_eq!(out[0]["mt_fee"], "0");
        assert_eq!(out[0]["new_r"], "ABOVE_ONE");
        assert!(out[0]["new_target"].is_string());
    }

    #[test]
    fn bad_lines_answer_invalid_input_naming_the_field_and_the_run_goes_on() {
        let input = [
            "not json",
            r#"{"side": "buy", "amount": "1"}"#,
            &DSP.replace(r#""amount": "100000000000000000000""#, r#""amount": 100"#),
            &DSP.replace(r#""k": "100000000000000000""#, r#""k": "-1""#),
            &DSP.replace(r#""r": "ONE""#, r#""r": "TWO""#),
            &DSP.replace(r#", "mt_fee_rate": "0""#, ""),
            &DSP.replace(
                r#""i": "1000000000000000000""#,
                &format!(r#""i": "{}""#, "9".repeat(79)),
            ),
            DSP,
        ]
        .join("\n");
        let out = run_text(&input);
        assert_eq!(out.len(), 8);
        let details: Vec<String> = out[..7]
            .iter()
            .map(|o| {
                assert_eq!(o["error"], "invalid_input", "{o}");
                o["detail"].as_str().unwrap().to_owned()
            })
            .collect();
        assert!(details[0].starts_with("not JSON"));
        assert!(details[1].starts_with("side:"));
        assert!(details[2].starts_with("amount:"));
        assert!(details[3].starts_with("state.k:"));
        assert!(details[4].starts_with("state.r:"));
        assert!(details[5].starts_with("state.mt_fee_rate: missing"));
        assert!(details[6].starts_with("state.i:"));
        assert_eq!(out[7]["receive"], "98914196817061816111");
    }

    #[test]
    fn a_revert_is_reported_with_the_contracts_reason() {
        // R = BELOW_ONE with B < B0: the target adjustment's B - B0 underflows.
        let stale = DSP
            .replace(r#""r": "ONE""#, r#""r": "BELOW_ONE""#)
            .replace(r#""b": "1000000000000000000000""#, r#""b": "999""#);
        let out = run_text(&stale);
        assert_eq!(out[0]["error"], "revert");
        assert_eq!(out[0]["detail"], "SUB_ERROR");
    }

    #[test]
    fn numbers_stay_strings_and_keys_are_the_contracts() {
        let out = run_text(DSP);
        let keys: Vec<&String> = out[0].as_object().unwrap().keys().collect();
        let mut want = vec!["mt_fee", "new_r", "new_target", "receive"];
        want.sort();
        let mut got: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        got.sort();
        assert_eq!(got, want);
    }
}
