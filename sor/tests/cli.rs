//! The `sor` binary as a user runs it: exit codes, one-line errors, the report.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn sor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("run sor")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str()
        .expect("decimals are strings")
        .parse()
        .expect("a decimal")
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        vec!["run"],
        vec!["frobnicate"],
        vec!["run", "scenarios/corridor.toml", "--speed", "2"],
        vec![
            "run",
            "scenarios/corridor.toml",
            "--realtime",
            "--speed",
            "0",
        ],
        vec!["run", "scenarios/corridor.toml", "--seed", "minus-one"],
    ] {
        let o = sor(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.trim_end().lines().count(), 1, "{args:?}: {e}");
        assert!(e.starts_with("error: "), "{e}");
    }
}

#[test]
fn a_missing_or_bad_scenario_exits_2_naming_the_problem() {
    let o = sor(&["run", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: no/such/file.toml: "),
        "{}",
        stderr(&o)
    );

    let dir = std::env::temp_dir().join(format!("sor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(workspace().join("scenarios/corridor.toml")).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("taker_fee_bps = \"2.5\"", "taker_fee_bps = 2.5"),
    )
    .unwrap();
    let o = sor(&["run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.contains("venues[4].taker_fee_bps: 2.5 is a float"), "{e}");
    assert!(o.stdout.is_empty(), "no report for a bad scenario");
}

#[test]
fn the_corridor_report_adds_up() {
    let o = sor(&["run", "scenarios/corridor.toml", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["seed"], 7);
    let p = &r["parents"][0];
    let qty = dec(&p["qty"]);
    let venues = p["venues"].as_array().unwrap();
    let filled: rust_decimal::Decimal = venues.iter().map(|v| dec(&v["filled"])).sum();
    assert_eq!(filled + dec(&p["unfilled"]), qty);
    assert_eq!(filled, dec(&p["filled"]));
    // The parent's VWAP is the fills' VWAP: Σ per-venue amount / Σ qty.
    // Its cost figures are the benchmark module's (benchmark.md's appendix names).
    let o = &p["tca"]["order"];
    let amount: rust_decimal::Decimal = p["tca"]["venues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| dec(&v["order"]["filled_qty"]) * dec(&v["order"]["vwap"]))
        .sum();
    // Published precision: prices to 10 places, quantities to 8, bps to 6.
    assert_eq!(
        o["vwap"].as_str().unwrap().split('.').nth(1).unwrap().len(),
        10
    );
    assert_eq!(
        p["filled"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        8
    );
    let bps = o["slippage_bps"]["vs_reference_rate"].as_str().unwrap();
    assert_eq!(bps.split('.').nth(1).unwrap().len(), 6);
    let diff = (amount / filled - dec(&o["vwap"])).abs();
    assert!(
        diff < rust_decimal::Decimal::new(1, 9),
        "vwap {} vs fills {}",
        o["vwap"],
        amount / filled
    );
}

#[test]
fn the_seed_flag_is_used_and_the_text_report_prints() {
    let o = sor(&["run", "scenarios/corridor.toml", "--seed", "42"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("scenario corridor  seed 42"), "{text}");
    assert!(
        text.contains("filled 17780000 + unfilled 0 = 17780000"),
        "{text}"
    );
}

#[test]
fn pmm_quote_answers_line_by_line_and_exits_0() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(["pmm", "quote"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let dsp = r#"{"side": "sell_quote", "amount": "100000000000000000000", "state": {"i": "1000000000000000000", "k": "100000000000000000", "b": "1000000000000000000000", "q": "1000000000000000000000", "b0": "1000000000000000000000", "q0": "1000000000000000000000", "r": "ONE", "lp_fee_rate": "0", "mt_fee_rate": "0"}}"#;
    let input = format!("{dsp}\n{{broken\n{dsp}\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["receive"], "98914196817061816111");
    assert_eq!(lines[1]["error"], "invalid_input");
    assert_eq!(lines[2], lines[0]);
    let o = sor(&["pmm", "quote", "--math", "1999-01"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}

#[test]
fn tca_compute_answers_line_by_line_and_exits_0() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(["tca", "compute"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // benchmark.md 2.3's trades and 3.3's shortfall order.
    let line = r#"{"window_start_ms": 1556719200000, "window_end_ms": 1556722800000, "partitions": 12, "constituents": ["a", "b"], "trades": [[1556719200000, "a", "1.0000", "10"], [1556719499999, "b", "1.0002", "30"], [1556719500000, "a", "0.9990", "5"], [1556719500001, "a", "0.9996", "5"], [1556722800000, "a", "2", "100"], [1556719200010, "x", "3", "1000"]], "order": {"side": "sell", "qty": "5000000", "arrival_px": "1.0000", "end_px": "0.9990", "start_ms": 1556719200000, "end_ms": 1556719800000, "fills": [{"ts_ms": 1556719200005, "venue": "a", "px": "0.9998", "qty": "4000000", "fee": "50", "mid": "1.0000"}]}}"#;
    let bad_window = line.replace(r#""partitions": 12"#, r#""partitions": 7"#);
    let bad_trade = line.replace(r#""0.9996""#, r#""abc""#);
    let input = format!("{line}\n{{broken\n{bad_window}\n{bad_trade}\n{line}\n");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0]["reference"]["rate"], "0.9996000000");
    let is = &lines[0]["order"]["implementation_shortfall"];
    assert_eq!(is["total"], "1850.00000000");
    assert_eq!(is["bps"], "3.700000");
    assert_eq!(lines[0]["order"]["effective_spread_bps"], "4.000000");
    assert_eq!(lines[1]["error"], "invalid_input");
    assert_eq!(lines[2]["error"], "invalid_window");
    assert_eq!(lines[3]["error"], "invalid_trade");
    assert_eq!(
        lines[3]["detail"],
        r#"trades[3][2]: "abc" is not a decimal"#
    );
    assert_eq!(lines[4], lines[0]);
    let o = sor(&["tca", "compute", "--frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim_end().lines().count(), 1);
}

#[test]
fn journal_check_and_print_read_a_journal_and_name_damage() {
    use sor::domain::ParentId;
    use sor::engine::Event;
    use sor::journal::FsyncPolicy;
    use sor::serve::durable::{Durable, Entry, JournalSettings};
    let dir = std::env::temp_dir().join(format!("sor-cli-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let (mut d, _) = Durable::open(&JournalSettings {
            dir: dir.clone(),
            fsync: FsyncPolicy::EachRecord,
            segment_bytes: 1 << 20,
        })
        .unwrap();
        d.mark(&Entry::Start {
            run_prefix: "R9".into(),
            started_unix_ms: 1,
        })
        .unwrap();
        for i in 0..3 {
            d.record(
                100 + i,
                &Event::CancelParent {
                    parent: ParentId(format!("P{i}")),
                },
            )
            .unwrap();
        }
        d.commit().unwrap();
    }
    let path = dir.to_str().unwrap();

    let out = sor(&["journal", "check", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("4 records in 1 segments"), "{text}");
    assert!(text.contains("event cancel_parent"), "{text}");
    assert!(text.contains("tail: clean"), "{text}");

    let out = sor(&["journal", "print", path, "--from", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["lsn"], 2);
    assert_eq!(lines[0]["entry"], "event");
    assert_eq!(lines[2]["event"]["parent"], "P2");

    // A crash mid-write: reported, not an error (a start cuts it).
    let segment = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let good_len = bytes.len();
    bytes.extend_from_slice(&[7, 0, 0]);
    std::fs::write(&segment, &bytes).unwrap();
    let out = sor(&["journal", "check", path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("tail: torn at {}", segment.display()))
            && text.contains(&format!("offset {good_len}")),
        "{text}"
    );
    assert!(
        std::fs::metadata(&segment).unwrap().len() == bytes.len() as u64,
        "check changes nothing"
    );

    // Damage inside: a start would refuse it, and so does check, naming file and offset.
    bytes.truncate(good_len);
    bytes[20] ^= 0xff; // the first record's payload
    std::fs::write(&segment, &bytes).unwrap();
    let out = sor(&["journal", "check", path]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: journal check: ") && err.contains(&segment.display().to_string()),
        "{err}"
    );

    let out = sor(&["journal", "check", "/nonexistent/journal"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/journal: no such journal directory"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
