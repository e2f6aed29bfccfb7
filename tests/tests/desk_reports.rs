//! Every desk report of a corridor run, as the FIX ExecutionReport a desk would get.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use quickfix::FieldMap;
use rust_decimal::Decimal;
use sor::ingress::exec_report;
use sor::scenario::Scenario;
use sor::sim::{Pace, run};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn field(m: &quickfix::Message, tag: i32) -> Option<String> {
    m.get_field(tag)
}

#[test]
fn corridor_reports_map_to_coherent_execution_reports() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/corridor.toml");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("last_look_reject = 0.05", "last_look_reject = 0.5");
    let outcome = run(Scenario::parse(&text, Some(5)).unwrap(), Pace::Instant).unwrap();
    let mut exec_ids = BTreeSet::new();
    let mut cum = Decimal::ZERO;
    let mut amount = Decimal::ZERO;
    for (n, r) in outcome.desk_reports.iter().enumerate() {
        let parent = &outcome.engine.parents()[&r.parent];
        let Some(er) = exec_report(
            parent,
            r,
            format!("{}-{n}", r.parent),
            "20261122-10:00:00.000".into(),
        ) else {
            continue;
        };
        let msg = er.to_message().unwrap();
        assert!(exec_ids.insert(field(&msg, 17).unwrap()), "ExecID unique");
        let dec = |tag| field(&msg, tag).unwrap().parse::<Decimal>().unwrap();
        if field(&msg, 150).as_deref() == Some("F") && field(&msg, 32).is_some() {
            cum += dec(32);
            amount += dec(32) * dec(31);
            assert_eq!(dec(14), cum, "CumQty = Σ LastQty");
            assert_eq!(dec(6), amount / cum, "AvgPx = Σ(LastQty·LastPx)/CumQty");
        }
        let status = field(&msg, 39).unwrap();
        if status == "0" || status == "1" {
            assert_eq!(
                dec(14) + dec(151),
                dec(38),
                "CumQty + LeavesQty = OrderQty while open"
            );
        } else {
            assert_eq!(dec(151), Decimal::ZERO, "LeavesQty = 0 once done");
        }
    }
    let parent = outcome.engine.parents().values().next().unwrap();
    assert_eq!(
        cum,
        parent.order.filled(),
        "every venue fill reached the desk"
    );
    assert!(cum > Decimal::ZERO);
}
