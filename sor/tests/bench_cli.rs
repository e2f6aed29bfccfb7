//! `sor bench` as a user runs it: the report directory with report.json, report.md and
//! three SVG charts; errors that name the flag or file, exit code 2, and no directory
//! left half-written.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sor-bench-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Checks that `text` is well-formed XML: one root element, every tag closed in order,
/// attributes quoted, only the five predefined entities or character references.
fn check_xml(text: &str) -> Result<(), String> {
    fn check_text(t: &str) -> Result<(), String> {
        let mut rest = t;
        while let Some(i) = rest.find('&') {
            let after = &rest[i + 1..];
            let end = after
                .find(';')
                .ok_or(format!("unterminated entity in {t:?}"))?;
            let name = &after[..end];
            let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                || (name.starts_with('#') && name.len() > 1);
            if !ok {
                return Err(format!("unknown entity &{name};"));
            }
            rest = &after[end + 1..];
        }
        if t.contains('<') {
            return Err(format!("raw < in {t:?}"));
        }
        Ok(())
    }
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let before = &rest[..open];
        if stack.is_empty() && !before.trim().is_empty() {
            return Err(format!("text outside the root: {before:?}"));
        }
        check_text(before)?;
        rest = &rest[open..];
        if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or("unterminated <?")?;
            rest = &r[end + 2..];
            continue;
        }
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
            continue;
        }
        if let Some(r) = rest.strip_prefix("<!") {
            let end = r.find('>').ok_or("unterminated <!")?;
            rest = &r[end + 1..];
            continue;
        }
        // A tag: find its end outside quoted attribute values.
        let mut quote = None;
        let mut end = None;
        for (i, c) in rest.char_indices().skip(1) {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                (None, '<') => return Err("< inside a tag".into()),
                _ => {}
            }
        }
        let end = end.ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
        if name.is_empty() {
            return Err(format!("a tag without a name: <{tag}>"));
        }
        // Attributes: name="value" pairs.
        let mut attrs = body[name.len()..].trim();
        while !attrs.is_empty() {
            let eq = attrs
                .find('=')
                .ok_or(format!("attribute without = in <{tag}>"))?;
            let value = attrs[eq + 1..].trim_start();
            let q = value.chars().next().ok_or("attribute without a value")?;
            if q != '"' && q != '\'' {
                return Err(format!("unquoted attribute in <{tag}>"));
            }
            let close = value[1..].find(q).ok_or("unterminated attribute")?;
            check_text(&value[1..1 + close])?;
            attrs = value[close + 2..].trim_start();
        }
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name);
        }
    }
    if !rest.trim().is_empty() {
        return Err(format!("text after the root: {rest:?}"));
    }
    if !stack.is_empty() {
        return Err(format!("unclosed: {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

#[test]
fn the_xml_check_catches_what_a_parser_would() {
    assert!(
        check_xml(r#"<?xml version="1.0"?><svg a="1"><text x='2'>a &amp; b</text><rect/></svg>"#)
            .is_ok()
    );
    assert!(check_xml("<svg><text>a</svg></text>").is_err());
    assert!(check_xml("<svg><text>a & b</text></svg>").is_err());
    assert!(check_xml("<svg a=1></svg>").is_err());
    assert!(check_xml("<svg></svg><svg></svg>").is_err());
    assert!(check_xml("<svg>").is_err());
}

fn dec_of(v: &Value) -> rust_decimal::Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("decimals are strings: {v}"))
        .parse()
        .unwrap()
}

#[test]
fn two_scenarios_over_three_seeds_write_the_report_directory() {
    let dir = scratch("ok");
    let out = dir.join("report");
    let o = sor(&[
        "bench",
        "scenarios/corridor.toml",
        "scenarios/corridor-twap.toml",
        "--seeds",
        "3",
        "--first-seed",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        entries(&out),
        [
            "fill_progress.svg",
            "latency.svg",
            "report.json",
            "report.md",
            "slippage.svg"
        ]
    );
    // Nothing else was left beside it.
    assert_eq!(entries(&dir), ["report"]);

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["seeds"], 3);
    assert_eq!(json["first_seed"], 5);
    let scenarios = json["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["corridor", "corridor-twap"]);
    for (sc, algo) in scenarios.iter().zip(["sweep", "twap"]) {
        let st = &sc["strategies"][0];
        assert_eq!(st["strategy"], algo);
        assert_eq!(st["parents"], 3);
        for figure in [
            "all_in_vs_arrival_bps",
            "all_in_vs_reference_bps",
            "gap_to_optimal_bps",
            "vs_best_single_venue_bps",
            "vs_pro_rata_bps",
            "fill_rate",
            "shortfall_bps",
        ] {
            let d = &st[figure];
            assert_eq!(d["n"], 3, "{figure}");
            let (min, p50, p90, max) = (
                dec_of(&d["min"]),
                dec_of(&d["p50"]),
                dec_of(&d["p90"]),
                dec_of(&d["max"]),
            );
            assert!(min <= p50 && p50 <= p90 && p90 <= max, "{figure}: {d}");
            let mean = dec_of(&d["mean"]);
            assert!(min <= mean && mean <= max, "{figure}: {d}");
        }
        for strategy in ["router", "optimal", "best_single_venue", "pro_rata"] {
            assert_eq!(
                st["all_in_vs_arrival_by_strategy_bps"][strategy]["n"], 3,
                "{strategy}"
            );
        }
        // The router is never worse than either baseline on the shipped scenarios.
        assert_eq!(st["never_worse"]["held"], 3, "{st}");
        let seeds: Vec<u64> = st["seeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["seed"].as_u64().unwrap())
            .collect();
        assert_eq!(seeds, [5, 6, 7]);
        assert!(seeds.contains(&st["representative_seed"].as_u64().unwrap()));
        let hops: Vec<(&str, &str)> = sc["latency"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["hop"].as_str().unwrap(), h["clock"].as_str().unwrap()))
            .collect();
        assert_eq!(
            hops,
            [
                ("engine decision", "wall"),
                ("risk check", "wall"),
                ("engine → venue", "simulated"),
                ("venue → ack", "simulated"),
                ("ack → fill", "simulated"),
                ("fill → desk report", "simulated"),
            ]
        );
        for h in sc["latency"].as_array().unwrap() {
            assert!(h["count"].as_u64().unwrap() > 0, "{h}");
            let p = |k: &str| h[k].as_u64().unwrap();
            assert!(
                p("p50_ns") <= p("p90_ns") && p("p99_ns") <= p("max_ns"),
                "{h}"
            );
        }
    }
    let nw = &json["never_worse_than_either_baseline"];
    assert_eq!(
        (nw["held"].as_u64(), nw["compared"].as_u64()),
        (Some(6), Some(6))
    );

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("held on 6 of 6 parents"), "{md}");
    for link in ["(slippage.svg)", "(latency.svg)", "(fill_progress.svg)"] {
        assert!(md.contains(link), "{link}");
    }
    assert!(md.contains("| engine → venue | simulated |"), "{md}");

    for (file, titles) in [
        (
            "slippage.svg",
            vec![
                "All-in slippage vs arrival mid by strategy",
                "corridor sweep",
                "corridor-twap twap",
                "ex-post optimal",
                "best single venue",
                "pro rata to displayed size",
            ],
        ),
        (
            "latency.svg",
            vec![
                "corridor: Latency per hop",
                "corridor-twap: Latency per hop",
                "risk check (wall",
                "engine → venue (simulated",
            ],
        ),
        (
            "fill_progress.svg",
            vec![
                "Fill progress over simulated time: corridor sweep, seed",
                "Fill progress over simulated time: corridor-twap twap, seed",
                "simulated minutes since arrival",
            ],
        ),
    ] {
        let svg = std::fs::read_to_string(out.join(file)).unwrap();
        check_xml(&svg).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(svg.contains("<svg"), "{file}");
        for t in titles {
            assert!(svg.contains(t), "{file}: no {t:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_and_files_exit_2_naming_them_and_write_nothing() {
    let dir = scratch("bad");
    let out = dir.join("report");
    let out_s = out.to_str().unwrap();

    let o = sor(&[
        "bench",
        "scenarios/corridor.toml",
        "--seeds",
        "0",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.starts_with("error: ") && e.contains("--seeds"), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");

    let o = sor(&[
        "bench",
        "scenarios/corridor.toml",
        "no/such/scenario.toml",
        "--seeds",
        "2",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.starts_with("error: no/such/scenario.toml: "), "{e}");

    let o = sor(&[
        "bench",
        "scenarios/corridor.toml",
        "scenarios/corridor.toml",
        "--seeds",
        "2",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("give each scenario once"),
        "{}",
        stderr(&o)
    );

    let o = sor(&["bench", "--seeds", "2", "--out", out_s]);
    assert_eq!(o.status.code(), Some(2), "no scenario");
    // Nothing was created by any of them.
    assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));

    // A non-empty directory is kept as it was unless --force.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("mine.txt"), "keep me").unwrap();
    let o = sor(&[
        "bench",
        "scenarios/canary.toml",
        "--seeds",
        "1",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--out") && e.contains("--force"), "{e}");
    assert_eq!(entries(&out), ["mine.txt"]);
    assert_eq!(entries(&dir), ["report"]);

    let o = sor(&[
        "bench",
        "scenarios/canary.toml",
        "--seeds",
        "1",
        "--out",
        out_s,
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!out.join("mine.txt").exists());
    assert!(out.join("report.json").exists());
    assert_eq!(entries(&dir), ["report"]);
    let _ = std::fs::remove_dir_all(&dir);
}
