//! `sor tca compute`: one JSON input line in, one JSON answer line out, in the exact
//! shape of ../shared/specs/cli-contract.md.
//!
//! A line that cannot be used at all answers `{"error": "invalid_input", "detail": …}`;
//! a bad window, trade, order or fill answers that whole-run error with the field named
//! in `detail`; the run goes on either way.

use super::error::TcaError;
use super::figures::{OrderFigures, order_figures};
use super::parse::parse_request;
use super::reference::{RateError, ReferenceRate, reference_rate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::io::{self, BufRead, Write};

/// Longest input line read; a longer one answers `invalid_input` (memory stays bounded).
pub const MAX_LINE: usize = 1 << 24;

/// The `reference` object of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ReferenceAnswer {
    /// The rate and its partitions.
    Rate {
        /// The reference rate, 10 dp.
        rate: Decimal,
        /// Partitions with at least one eligible trade.
        nonempty_partitions: usize,
        /// Eligible trades in the window.
        eligible_trades: usize,
        /// Each partition's volume-weighted median, 10 dp, or null when empty.
        partition_vwm: Vec<Option<Decimal>>,
        /// Each partition's number of eligible trades.
        partition_trades: Vec<usize>,
    },
    /// No rate: `{"error": "no_eligible_trades"}`.
    Error {
        /// Always `no_eligible_trades`.
        error: &'static str,
    },
}

/// The figures of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// The reference rate, or why there is none.
    pub reference: ReferenceAnswer,
    /// The order's figures, only when the line had an order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderFigures>,
}

/// One answer line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// The figures.
    Figures(Box<Figures>),
    /// A whole-run or input error.
    Error {
        /// `invalid_input`, `invalid_trade`, `invalid_window`, `invalid_order` or
        /// `invalid_fill`.
        error: &'static str,
        /// Which line, trade or field, and why.
        detail: String,
    },
}

impl From<TcaError> for Answer {
    fn from(e: TcaError) -> Self {
        Answer::Error {
            error: e.code(),
            detail: e.detail().to_owned(),
        }
    }
}

fn invalid(detail: impl Into<String>) -> Answer {
    TcaError::InvalidInput(detail.into()).into()
}

impl ReferenceAnswer {
    /// The appendix's `reference` object for a computed rate, or
    /// `{"error": "no_eligible_trades"}`; trades too large to sum are `invalid_trade`.
    pub fn from_rate(rate: Result<ReferenceRate, RateError>) -> Result<Self, TcaError> {
        match rate {
            Ok(r) => Ok(ReferenceAnswer::Rate {
                rate: r.rate,
                nonempty_partitions: r.nonempty_partitions(),
                eligible_trades: r.eligible_trades,
                partition_vwm: r
                    .partitions
                    .iter()
                    .map(|p| p.vwm.map(crate::report::px))
                    .collect(),
                partition_trades: r.partitions.iter().map(|p| p.trades).collect(),
            }),
            Err(RateError::NoEligibleTrades) => Ok(ReferenceAnswer::Error {
                error: "no_eligible_trades",
            }),
            Err(e @ RateError::Overflow(_)) => Err(TcaError::InvalidTrade(e.to_string())),
        }
    }

    /// The published rate, when there is one.
    pub fn rate(&self) -> Option<Decimal> {
        match self {
            ReferenceAnswer::Rate { rate, .. } => Some(*rate),
            ReferenceAnswer::Error { .. } => None,
        }
    }
}

/// Computes the answer to one input line.
pub fn compute(line: &str) -> Result<Figures, TcaError> {
    let request = parse_request(line)?;
    let reference = ReferenceAnswer::from_rate(reference_rate(
        &request.window,
        &request.constituents,
        &request.trades,
    ))?;
    let rate = reference.rate();
    let order = request
        .order
        .as_ref()
        .map(|o| order_figures(o, rate, &request.constituents, &request.trades))
        .transpose()?;
    Ok(Figures { reference, order })
}

/// Answers one input line (without its line end).
pub fn answer_line(line: &str) -> Answer {
    match compute(line) {
        Ok(figures) => Answer::Figures(Box::new(figures)),
        Err(e) => e.into(),
    }
}

/// Reads JSON lines from `input` until it ends and writes one answer per line to
/// `output`, flushing after each; blank lines are skipped. Only an I/O error stops it
/// early. Returns the number of answers written.
pub fn run<R: BufRead, W: Write>(input: R, output: W) -> io::Result<u64> {
    crate::jsonl::serve(input, output, MAX_LINE, |line| match line {
        Ok(text) => answer_line(text),
        Err(detail) => invalid(detail),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn run_text(input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        run(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn one(line: &str) -> Value {
        let out = run_text(line);
        assert_eq!(out.len(), 1);
        out.into_iter().next().unwrap()
    }

    /// benchmark.md 2.3's trades with 3.3's shortfall order (with a mid on its fill).
    const SPEC: &str = r#"{"window_start_ms": 1556719200000, "window_end_ms": 1556722800000, "partitions": 12, "constituents": ["a", "b"], "trades": [[1556719200000, "a", "1.0000", "10"], [1556719499999, "b", "1.0002", "30"], [1556719500000, "a", "0.9990", "5"], [1556719500001, "a", "0.9996", "5"], [1556722800000, "a", "2", "100"], [1556719199999, "a", "2", "100"], [1556719200010, "x", "3", "1000"]], "order": {"side": "sell", "qty": "5000000", "arrival_px": "1.0000", "end_px": "0.9990", "start_ms": 1556719200000, "end_ms": 1556719800000, "fills": [{"ts_ms": 1556719200005, "venue": "a", "px": "0.9998", "qty": "4000000", "fee": "50", "mid": "1.0000"}]}}"#;

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    fn error(line: &str) -> (String, String) {
        let v = one(line);
        assert_eq!(keys(&v), ["detail", "error"], "{v}");
        (
            v["error"].as_str().unwrap().to_owned(),
            v["detail"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn the_spec_example_line_answers_every_figure_as_strings() {
        let v = one(SPEC);
        assert_eq!(keys(&v), ["order", "reference"]);
        let r = &v["reference"];
        assert_eq!(
            keys(r),
            [
                "eligible_trades",
                "nonempty_partitions",
                "partition_trades",
                "partition_vwm",
                "rate"
            ]
        );
        assert_eq!(r["rate"], "0.9996000000");
        assert_eq!(r["nonempty_partitions"], 2);
        assert_eq!(r["eligible_trades"], 4);
        let vwm = r["partition_vwm"].as_array().unwrap();
        assert_eq!(vwm.len(), 12);
        assert_eq!(vwm[0], "1.0002000000");
        assert_eq!(vwm[1], "0.9990000000");
        assert!(vwm[2..].iter().all(Value::is_null));
        assert_eq!(
            r["partition_trades"],
            serde_json::json!([2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        let o = &v["order"];
        assert_eq!(
            keys(o),
            [
                "all_in_px",
                "effective_spread_bps",
                "fees_total",
                "fill_rate",
                "filled_qty",
                "implementation_shortfall",
                "market_volume",
                "market_vwap",
                "participation_rate",
                "slippage_bps",
                "vwap"
            ]
        );
        assert_eq!(
            keys(&o["slippage_bps"]),
            [
                "all_in_vs_arrival",
                "all_in_vs_reference_rate",
                "vs_arrival",
                "vs_market_vwap",
                "vs_reference_rate"
            ]
        );
        let is = &o["implementation_shortfall"];
        assert_eq!(
            keys(is),
            ["bps", "execution_cost", "fees", "opportunity_cost", "total"]
        );
        assert_eq!(is["total"], "1850.00000000");
        assert_eq!(is["bps"], "3.700000");
        assert_eq!(o["effective_spread_bps"], "4.000000");
        assert_eq!(o["vwap"], "0.9998000000");
        // RR 0.9996: a sell above the rate beat it.
        assert_eq!(o["slippage_bps"]["vs_reference_rate"], "-2.000800");
        // The market in [start, end): partitions 0 and 1 of the window, constituents only.
        assert_eq!(o["market_volume"], "50.00000000");
        assert_eq!(o["market_vwap"], "0.9999800000");
    }

    #[test]
    fn no_rate_still_gives_the_order_figures_and_no_order_gives_no_order_key() {
        let no_constituents = SPEC.replace(r#"["a", "b"]"#, "[]");
        let v = one(&no_constituents);
        assert_eq!(
            v["reference"],
            serde_json::json!({"error": "no_eligible_trades"})
        );
        assert_eq!(
            v["order"]["implementation_shortfall"]["total"],
            "1850.00000000"
        );
        assert!(v["order"]["slippage_bps"]["vs_reference_rate"].is_null());
        assert!(v["order"]["slippage_bps"]["all_in_vs_reference_rate"].is_null());
        assert!(v["order"]["market_vwap"].is_null());
        assert!(v["order"]["participation_rate"].is_null());
        assert_eq!(v["order"]["slippage_bps"]["vs_arrival"], "2.000000");

        let cut = SPEC.find(r#", "order""#).unwrap();
        let without = format!("{}}}", &SPEC[..cut]);
        assert_eq!(keys(&one(&without)), ["reference"]);
        let null_order = format!(r#"{}, "order": null}}"#, &SPEC[..cut]);
        assert_eq!(keys(&one(&null_order)), ["reference"]);
    }

    #[test]
    fn window_errors_name_the_parameter() {
        let with = |from: &str, to: &str| error(&SPEC.replace(from, to));
        let (code, detail) = with(r#""partitions": 12"#, r#""partitions": 7"#);
        assert_eq!(code, "invalid_window");
        assert!(detail.starts_with("partitions: ") && detail.contains("whole number of ms"));
        let (code, detail) = with(r#""partitions": 12"#, r#""partitions": 0"#);
        assert_eq!(
            (code.as_str(), &detail[..12]),
            ("invalid_window", "partitions: ")
        );
        let (code, detail) = with(r#""partitions": 12"#, r#""partitions": "12""#);
        assert_eq!(
            (code.as_str(), &detail[..12]),
            ("invalid_window", "partitions: ")
        );
        let (code, detail) = with(
            r#""window_end_ms": 1556722800000"#,
            r#""window_end_ms": 1556719200000"#,
        );
        assert_eq!(code, "invalid_window");
        assert!(detail.starts_with("window_end_ms: "), "{detail}");
        let (code, detail) = with(r#""window_start_ms": 1556719200000, "#, "");
        assert_eq!(
            (code.as_str(), detail.as_str()),
            ("invalid_window", "window_start_ms: missing")
        );
        let (code, detail) = with(
            r#"1556719200000, "window_end"#,
            r#"1556719200000.5, "window_end"#,
        );
        assert_eq!(code, "invalid_window");
        assert!(detail.starts_with("window_start_ms: "), "{detail}");
        // 3,600,000 ms in 1,000 partitions of 3,600 ms is fine.
        assert!(
            one(&SPEC.replace(r#""partitions": 12"#, r#""partitions": 1000"#))["reference"]["rate"]
                .is_string()
        );
    }

    #[test]
    fn malformed_trades_reject_the_whole_line_naming_the_trade_and_field() {
        let trade3 = r#"[1556719500001, "a", "0.9996", "5"]"#;
        let with = |t: &str| error(&SPEC.replace(trade3, t));
        let cases = [
            (
                r#"[1556719500001, "a", "abc", "5"]"#,
                r#"trades[3][2]: "abc" is not a decimal"#,
            ),
            (
                r#"[1556719500001, "a", "0", "5"]"#,
                "trades[3][2]: 0 must be greater than 0",
            ),
            (
                r#"[1556719500001, "a", "1", "-5"]"#,
                "trades[3][3]: -5 must be greater than 0",
            ),
            (
                r#"[1556719500001, "a", 0.9996, "5"]"#,
                "trades[3][2]: must be a decimal string, got 0.9996",
            ),
            (
                r#"[1556719500001, "a", "1e3", "5"]"#,
                r#"trades[3][2]: "1e3" is not a decimal"#,
            ),
            (
                r#"[1556719500001.5, "a", "1", "5"]"#,
                "trades[3][0]: 1556719500001.5 is not an integer number of ms",
            ),
            (
                r#"["1556719500001", "a", "1", "5"]"#,
                r#"trades[3][0]: "1556719500001" is not an integer number of ms"#,
            ),
            (
                r#"[1556719500001, 7, "1", "5"]"#,
                "trades[3][1]: 7 is not a venue name",
            ),
            (
                r#"[1556719500001, "a", "1"]"#,
                r#"trades[3]: [1556719500001,"a","1"] is not [ts_ms, venue, price, size]"#,
            ),
        ];
        for (t, want) in cases {
            let (code, detail) = with(t);
            assert_eq!(code, "invalid_trade", "{t}");
            assert_eq!(detail, want, "{t}");
        }
        // A bad trade from a non-constituent venue outside the window still rejects.
        let (code, detail) = error(&SPEC.replace(
            r#"[1556719200010, "x", "3", "1000"]"#,
            r#"[1556719200010, "x", "3", "0"]"#,
        ));
        assert_eq!(
            (code.as_str(), detail.as_str()),
            ("invalid_trade", "trades[6][3]: 0 must be greater than 0")
        );
    }

    #[test]
    fn order_and_fill_errors_name_the_field() {
        let with = |from: &str, to: &str| error(&SPEC.replace(from, to));
        let (code, detail) = with(r#""qty": "5000000""#, r#""qty": "3999999.99999999""#);
        assert_eq!(code, "invalid_order");
        assert!(
            detail.starts_with("order.fills: filled quantity 4000000 exceeds order.qty"),
            "{detail}"
        );
        let (code, detail) = with(r#""side": "sell""#, r#""side": "SELL""#);
        assert_eq!(
            (code.as_str(), detail.as_str()),
            (
                "invalid_order",
                r#"order.side: "SELL" is not "buy" or "sell""#
            )
        );
        let (code, detail) = with(r#""arrival_px": "1.0000""#, r#""arrival_px": "-1""#);
        assert_eq!(
            (code.as_str(), &detail[..17]),
            ("invalid_order", "order.arrival_px:")
        );
        let (code, detail) = with(r#""end_ms": 1556719800000"#, r#""end_ms": 1556719199999"#);
        assert_eq!(
            (code.as_str(), &detail[..13]),
            ("invalid_order", "order.end_ms:")
        );
        let (code, detail) = with(r#""px": "0.9998""#, r#""px": "x""#);
        assert_eq!(
            (code.as_str(), detail.as_str()),
            ("invalid_fill", r#"order.fills[0].px: "x" is not a decimal"#)
        );
        let (code, detail) = with(r#", "fee": "50""#, "");
        assert_eq!(
            (code.as_str(), detail.as_str()),
            ("invalid_fill", "order.fills[0].fee: missing")
        );
        let (code, detail) = with(r#""mid": "1.0000""#, r#""mid": "0""#);
        assert_eq!(
            (code.as_str(), &detail[..19]),
            ("invalid_fill", "order.fills[0].mid:")
        );
        // A maker rebate (negative fee) is fine; a missing or null mid is absent.
        let rebate = one(&SPEC.replace(r#""fee": "50""#, r#""fee": "-50""#));
        assert_eq!(rebate["order"]["fees_total"], "-50.00000000");
        let no_mid = one(&SPEC.replace(r#""mid": "1.0000""#, r#""mid": null"#));
        assert!(no_mid["order"]["effective_spread_bps"].is_null());
    }

    #[test]
    fn unusable_lines_answer_invalid_input_and_the_run_goes_on() {
        let input = format!(
            "not json\n[1, 2]\n\n{}\n{SPEC}\n",
            SPEC.replace(r#"["a", "b"]"#, r#""a""#)
        );
        let out = run_text(&input);
        assert_eq!(out.len(), 4, "a blank line gets no answer");
        assert_eq!(out[0]["error"], "invalid_input");
        assert!(out[0]["detail"].as_str().unwrap().starts_with("not JSON"));
        assert_eq!(out[1]["error"], "invalid_input");
        assert_eq!(out[2]["error"], "invalid_input");
        assert_eq!(
            out[2]["detail"],
            "constituents: must be an array of venue names"
        );
        assert_eq!(out[3]["reference"]["rate"], "0.9996000000");
    }

    #[test]
    fn a_malformed_line_is_answered_on_its_own_line_naming_the_field() {
        // Line 2 of 3 has a trade with a size of zero and line 3 is cut short: their
        // answers are lines 2 and 3, each naming what is wrong; line 1 is unharmed.
        let bad_trade = SPEC.replace(
            r#"[1556719500001, "a", "0.9996", "5"]"#,
            r#"[1556719500001, "a", "0.9996", "0"]"#,
        );
        let cut = &SPEC[..SPEC.len() / 2];
        let out = run_text(&format!("{SPEC}\n{bad_trade}\n{cut}\n"));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["reference"]["rate"], "0.9996000000");
        assert_eq!(out[1]["error"], "invalid_trade");
        assert_eq!(out[1]["detail"], "trades[3][3]: 0 must be greater than 0");
        assert_eq!(out[2]["error"], "invalid_input");
        let detail = out[2]["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("not JSON: ") && detail.contains("line 1 column"),
            "{detail}"
        );
    }

    #[test]
    fn a_line_longer_than_the_bound_is_invalid_input() {
        let long = format!("{}\n{SPEC}\n", " ".repeat(MAX_LINE + 10));
        let out = run_text(&long);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["error"], "invalid_input");
        assert_eq!(out[1]["reference"]["rate"], "0.9996000000");
    }
}
