use super::*;
use crate::{AuditLog, MemoryAudit, approve_child};
use rust_decimal_macros::dec;

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000 * MS;
const HOUR: u64 = 3_600 * SEC;
const DAY: u64 = 24 * HOUR;
/// 2024-01-02T00:00:00Z in nanoseconds since the epoch.
const JAN2: u64 = 1_704_153_600 * SEC;

const LIMITS: &str = r#"
currency = "USD"
daily_reset_utc = "17:00"

[desks.DESK1]
max_parent_qty = "30000000"
max_parent_notional = "25000000"
max_open_notional = "10000000"
daily_notional = "12000000"
parent_band_bps = "50"

[desks.DESK2]
venues = ["book-x"]

[desks.DESK2.instruments."USDC/USD"]
venues = ["book-x"]
max_parent_notional = "1000000"

[desks.DESK3.instruments."USDC/USD"]
venues = ["dealer-a"]

[venues.dealer-a]
min_clip = "1000"
max_clip = "5000000"
max_children_per_window = 3
window_ms = 1000
min_spacing_ms = 100
band_bps = "10"

[venues.book-x]
max_clip = "4000000"
daily_notional = "6000000"

[venues.book-x.instruments."USDC/USD"]
max_clip = "3000000"

[venues.new-dealer]
max_clip = "2000000"
max_children_per_window = 10
ramp = "standard"
stage_ceiling = "larger"

[ramps.standard]
clean_fills_to_graduate = 3

[[ramps.standard.stages]]
name = "canary"
max_clip = "1000"
max_children_per_window = 1
min_spacing_ms = 60000

[[ramps.standard.stages]]
name = "repeat"
max_clip = "1000"
min_spacing_ms = 5000

[[ramps.standard.stages]]
name = "larger"
max_clip = "500000"

[[ramps.standard.stages]]
name = "full"
"#;

fn gate() -> Gate {
    Gate::from_toml_str(LIMITS).unwrap()
}

fn child<'a>(desk: &'a str, venue: &'a str, qty: Decimal) -> ChildCheck<'a> {
    ChildCheck {
        desk,
        parent_instrument: "USDC/USD",
        venue,
        instrument: "USDC/USD",
        side: Side::Sell,
        qty,
        notional: qty,
        limit_px: Some(dec!(0.9995)),
        reference_px: Some(dec!(1)),
    }
}

fn parent(desk: &str, qty: Decimal) -> ParentCheck<'_> {
    ParentCheck {
        desk,
        instrument: "USDC/USD",
        side: Side::Sell,
        qty,
        notional: qty,
        currency: "USD",
        limit_px: Some(dec!(0.999)),
        reference_px: Some(dec!(1)),
    }
}

fn room(g: &Gate, desk: &str, venue: &str, now: u64) -> Room {
    g.room(
        &RoomRequest {
            desk,
            parent_instrument: "USDC/USD",
            venue,
            instrument: "USDC/USD",
            notional_per_unit: Some(dec!(1)),
        },
        now,
    )
}

fn by(now: u64) -> Actor<'static> {
    Actor {
        who: "alice",
        reason: "test",
        now,
    }
}

fn done<'a>(
    desk: &'a str,
    venue: &'a str,
    a: &crate::Approved,
    filled: Decimal,
    outcome: ChildOutcome,
) -> ChildDone<'a> {
    ChildDone {
        desk,
        venue,
        sent_at: a.approved_at(),
        sent_notional: a.notional(),
        filled_notional: filled,
        outcome,
    }
}

fn audit() -> (AuditLog, MemoryAudit) {
    AuditLog::memory()
}

#[test]
fn parent_checks_and_the_desk_message_format() {
    let g = gate();
    let t = JAN2;
    assert!(g.check_parent(&parent("DESK1", dec!(20000000)), t).is_ok());
    let e = g
        .check_parent(&parent("DESK1", dec!(26000000)), t)
        .unwrap_err();
    assert_eq!(e.rule, Rule::MaxParentNotional);
    assert_eq!(
        e.to_string(),
        "risk: max parent notional 25000000 USD exceeded by 1000000"
    );
    let e = g
        .check_parent(
            &ParentCheck {
                notional: dec!(1),
                ..parent("DESK1", dec!(31000000))
            },
            t,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: max parent qty 30000000 USDC/USD exceeded by 1000000"
    );
    // The desk-instrument limit applies on top of the desk's.
    let e = g
        .check_parent(&parent("DESK2", dec!(1500000)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: max parent notional 1000000 USD exceeded by 500000"
    );
    // Fat finger: sell limit 0.994 is 60 bps under the reference; the band is 50.
    let e = g
        .check_parent(
            &ParentCheck {
                limit_px: Some(dec!(0.994)),
                ..parent("DESK1", dec!(1))
            },
            t,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: parent price band 50 bps exceeded by 10"
    );
    // A better-than-reference limit is never a fat finger; a buy is mirrored.
    assert!(
        g.check_parent(
            &ParentCheck {
                limit_px: Some(dec!(1.2)),
                ..parent("DESK1", dec!(1))
            },
            t
        )
        .is_ok()
    );
    let buy = ParentCheck {
        side: Side::Buy,
        limit_px: Some(dec!(1.0051)),
        ..parent("DESK1", dec!(1))
    };
    assert_eq!(
        g.check_parent(&buy, t).unwrap_err().rule,
        Rule::ParentPriceBand
    );
    let buy = ParentCheck {
        limit_px: Some(dec!(1.005)),
        ..buy
    };
    assert!(g.check_parent(&buy, t).is_ok());
    let e = g
        .check_parent(
            &ParentCheck {
                reference_px: None,
                ..parent("DESK1", dec!(1))
            },
            t,
        )
        .unwrap_err();
    assert_eq!(e.rule, Rule::MissingPrice);
    let e = g.check_parent(&parent("DESK9", dec!(1)), t).unwrap_err();
    assert_eq!(e.to_string(), "risk: unknown desk DESK9");
    let e = g
        .check_parent(
            &ParentCheck {
                currency: "EUR",
                ..parent("DESK1", dec!(1))
            },
            t,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: notional currency must be USD, got EUR"
    );
    let e = g.check_parent(&parent("DESK1", dec!(0)), t).unwrap_err();
    assert_eq!(e.rule, Rule::NonPositiveQty);
}

#[test]
fn the_sample_file_drives_a_gate() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/limits.toml");
    let g = Gate::new(Limits::load(path).unwrap()).unwrap();
    let t = JAN2 + 12 * HOUR;
    assert!(g.check_parent(&parent("DESK1", dec!(17780000)), t).is_ok());
    assert!(
        g.check_child(&child("DESK1", "dealer-a", dec!(2000000)), t)
            .is_ok()
    );
    assert_eq!(g.stage("dealer-c"), Some("canary"));
    let e = g
        .check_child(&child("DESK1", "dealer-c", dec!(200000)), t)
        .unwrap_err();
    assert_eq!(e.rule, Rule::StageMaxClip);
    let e = g
        .check_child(&child("DESK2", "dealer-a", dec!(200000)), t)
        .unwrap_err();
    assert_eq!(e.rule, Rule::VenueNotAllowed);
    let e = Limits::load("/nonexistent/limits.toml").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/limits.toml: cannot read: "),
        "{e}"
    );
}

#[test]
fn clips_take_the_tightest_limit() {
    let g = gate();
    let t = JAN2;
    let e = g
        .check_child(&child("DESK1", "dealer-a", dec!(999)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: min clip at dealer-a 1000 USDC/USD not reached, short by 1"
    );
    let e = g
        .check_child(&child("DESK1", "dealer-a", dec!(5000000.5)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: max clip at dealer-a 5000000 USDC/USD exceeded by 0.5"
    );
    // book-x: venue 4M, venue-instrument 3M.
    let e = g
        .check_child(&child("DESK1", "book-x", dec!(3500000)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: max clip at book-x 3000000 USDC/USD exceeded by 500000"
    );
    // In another instrument only the venue's own clip applies.
    let other = ChildCheck {
        instrument: "cWUSDC/USDC",
        ..child("DESK1", "book-x", dec!(3500000))
    };
    assert!(g.check_child(&other, t).is_ok());
    let r = room(&g, "DESK1", "book-x", t);
    assert_eq!(r.max_qty, Some(dec!(3000000)));
    let e = g
        .check_child(&child("DESK1", "dealer-z", dec!(1)), t)
        .unwrap_err();
    assert_eq!(e.to_string(), "risk: unknown venue dealer-z");
    assert_eq!(
        room(&g, "DESK1", "dealer-z", t).blocked,
        Some(Rule::UnknownVenue)
    );
}

#[test]
fn price_band_on_the_child_limit() {
    let g = gate();
    let t = JAN2;
    // dealer-a's band is 10 bps: a sell at 0.9990 is exactly 10 bps worse: allowed.
    let at = |px: Decimal, side: Side| ChildCheck {
        limit_px: Some(px),
        side,
        ..child("DESK1", "dealer-a", dec!(5000))
    };
    assert!(g.check_child(&at(dec!(0.9990), Side::Sell), t).is_ok());
    let e = g
        .check_child(&at(dec!(0.99899), Side::Sell), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: price band at dealer-a 10 bps exceeded by 0.1"
    );
    assert!(g.check_child(&at(dec!(1.001), Side::Buy), t).is_ok());
    assert_eq!(
        g.check_child(&at(dec!(1.0011), Side::Buy), t)
            .unwrap_err()
            .rule,
        Rule::PriceBand
    );
    assert!(g.check_child(&at(dec!(0.5), Side::Buy), t).is_ok());
    let no_px = ChildCheck {
        limit_px: None,
        ..child("DESK1", "dealer-a", dec!(5000))
    };
    let e = g.check_child(&no_px, t).unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: price band input at dealer-a needs a positive limit price and reference price"
    );
    // book-x has no band: no price needed.
    assert!(
        g.check_child(
            &ChildCheck {
                limit_px: None,
                ..child("DESK1", "book-x", dec!(5000))
            },
            t
        )
        .is_ok()
    );
}

#[test]
fn allow_lists_per_desk_and_per_desk_instrument() {
    let g = gate();
    let t = JAN2;
    let e = g
        .check_child(&child("DESK2", "dealer-a", dec!(5000)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: venue allow-list at desk DESK2 does not include dealer-a"
    );
    assert!(
        g.check_child(&child("DESK2", "book-x", dec!(5000)), t)
            .is_ok()
    );
    let e = g
        .check_child(&child("DESK3", "book-x", dec!(5000)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: venue allow-list at desk DESK3 for USDC/USD does not include book-x"
    );
    // DESK3's list is for USDC/USD parents only.
    let other = ChildCheck {
        parent_instrument: "cWUSDT/USDT",
        ..child("DESK3", "book-x", dec!(5000))
    };
    assert!(g.check_child(&other, t).is_ok());
    assert_eq!(
        room(&g, "DESK3", "book-x", t).blocked,
        Some(Rule::VenueNotAllowed)
    );
    assert_eq!(room(&g, "DESK3", "book-x", t).max_qty, Some(dec!(0)));
}

#[test]
fn cadence_with_explicit_times() {
    let mut g = gate();
    let t0 = JAN2 + 10 * SEC;
    let c = child("DESK1", "dealer-a", dec!(5000));
    approve_child(&mut g, &c, t0).unwrap();
    // 100 ms spacing: 60 ms later is too soon, with the time to wait.
    let e = approve_child(&mut g, &c, t0 + 60 * MS).unwrap_err();
    assert_eq!(e.rule, Rule::MinSpacing);
    assert_eq!(e.retry.as_ref().unwrap().at, t0 + 100 * MS);
    assert_eq!(
        e.to_string(),
        "risk: min spacing at dealer-a 100ms, next child allowed in 40ms"
    );
    assert_eq!(
        room(&g, "DESK1", "dealer-a", t0 + 60 * MS).next_allowed_at,
        Some(t0 + 100 * MS)
    );
    approve_child(&mut g, &c, t0 + 100 * MS).unwrap();
    approve_child(&mut g, &c, t0 + 200 * MS).unwrap();
    // 3 per 1000 ms: the 4th must wait until the first leaves the window.
    let e = approve_child(&mut g, &c, t0 + 300 * MS).unwrap_err();
    assert_eq!(e.rule, Rule::MaxChildrenPerWindow);
    assert_eq!(
        e.to_string(),
        "risk: max children per window at dealer-a 3 children per 1000ms reached, next child allowed in 700ms"
    );
    assert_eq!(
        room(&g, "DESK1", "dealer-a", t0 + 300 * MS).next_allowed_at,
        Some(t0 + SEC)
    );
    assert!(g.check_child(&c, t0 + SEC - 1).is_err());
    assert!(g.check_child(&c, t0 + SEC).is_ok());
    assert_eq!(
        room(&g, "DESK1", "dealer-a", t0 + SEC).next_allowed_at,
        None
    );
    // Other venues are not affected.
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(5000)), t0 + 300 * MS)
            .is_ok()
    );
}

#[test]
fn overall_cadence_counts_every_venue() {
    let text = format!(
        "{LIMITS}\n[overall]\nmax_children_per_window = 2\nwindow_ms = 500\nmin_spacing_ms = 10\n"
    );
    let mut g = Gate::from_toml_str(&text).unwrap();
    let t = JAN2;
    approve_child(&mut g, &child("DESK1", "dealer-a", dec!(5000)), t).unwrap();
    let e = approve_child(&mut g, &child("DESK1", "book-x", dec!(5000)), t + 5 * MS).unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: min spacing 10ms, next child allowed in 5ms"
    );
    approve_child(&mut g, &child("DESK1", "book-x", dec!(5000)), t + 10 * MS).unwrap();
    let e = approve_child(&mut g, &child("DESK2", "book-x", dec!(5000)), t + 20 * MS).unwrap_err();
    assert_eq!(e.rule, Rule::MaxChildrenPerWindow);
    assert_eq!(e.scope, None);
    assert!(approve_child(&mut g, &child("DESK2", "book-x", dec!(5000)), t + 500 * MS).is_ok());
}

#[test]
fn open_and_daily_notional_with_release() {
    let mut g = gate();
    let t = JAN2 + 18 * HOUR; // after the 17:00 reset
    let a = approve_child(&mut g, &child("DESK1", "book-x", dec!(3000000)), t).unwrap();
    let b = approve_child(&mut g, &child("DESK1", "book-x", dec!(3000000)), t + SEC).unwrap();
    // book-x's daily cap is 6M: nothing left there.
    let e = g
        .check_child(&child("DESK1", "book-x", dec!(1)), t + 2 * SEC)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: daily notional at venue book-x 6000000 USD exceeded by 1"
    );
    let r = room(&g, "DESK1", "book-x", t + 2 * SEC);
    assert_eq!(
        (r.max_qty, r.blocked),
        (Some(dec!(0)), Some(Rule::DailyNotional))
    );
    // DESK1's open notional is 6M of 10M.
    let e = g
        .check_child(&child("DESK1", "dealer-a", dec!(4000001)), t + 2 * SEC)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: max open notional at desk DESK1 10000000 USD exceeded by 1"
    );
    let r = room(&g, "DESK1", "dealer-a", t + 2 * SEC);
    assert_eq!(r.max_notional, Some(dec!(4000000)));
    assert_eq!(r.max_qty, Some(dec!(4000000)));
    // a fills 1M of 3M: 3M leaves open notional, 2M goes back to the daily caps.
    g.on_child_done(
        &done(
            "DESK1",
            "book-x",
            &a,
            dec!(1000000),
            ChildOutcome::CleanFill,
        ),
        t + 3 * SEC,
    );
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(2000000)), t + 3 * SEC)
            .is_ok()
    );
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(2000001)), t + 3 * SEC)
            .is_err()
    );
    let s = g.snapshot(t + 3 * SEC);
    assert_eq!(s.desks["DESK1"].open_notional, dec!(3000000));
    assert_eq!(s.desks["DESK1"].daily_notional, dec!(4000000));
    assert_eq!(s.venues["book-x"].notional.daily_notional, dec!(4000000));
    g.on_child_done(
        &done(
            "DESK1",
            "book-x",
            &b,
            dec!(3000000),
            ChildOutcome::CleanFill,
        ),
        t + 4 * SEC,
    );
    assert_eq!(g.snapshot(t + 4 * SEC).overall.open_notional, dec!(0));
}

#[test]
fn daily_caps_reset_at_the_configured_utc_time() {
    let mut g = gate();
    let before = JAN2 + 16 * HOUR + 59 * 60 * SEC; // 16:59 UTC
    approve_child(&mut g, &child("DESK1", "book-x", dec!(3000000)), before).unwrap();
    approve_child(
        &mut g,
        &child("DESK1", "book-x", dec!(3000000)),
        before + SEC,
    )
    .unwrap();
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(1)), before + 2 * SEC)
            .is_err()
    );
    let reset = JAN2 + 17 * HOUR;
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(1)), reset - 1)
            .is_err()
    );
    // From 17:00:00 the day starts afresh (open notional does not reset).
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(3000000)), reset)
            .is_ok()
    );
    let s = g.snapshot(reset);
    assert_eq!(s.venues["book-x"].notional.daily_notional, dec!(0));
    assert_eq!(s.venues["book-x"].notional.open_notional, dec!(6000000));
    assert_eq!(s.daily_period_start, reset);
    // A child sent yesterday and done today gives nothing back to today's cap.
    approve_child(
        &mut g,
        &child("DESK1", "book-x", dec!(1000000)),
        reset + SEC,
    )
    .unwrap();
    let old = ChildDone {
        desk: "DESK1",
        venue: "book-x",
        sent_at: before,
        sent_notional: dec!(3000000),
        filled_notional: dec!(0),
        outcome: ChildOutcome::NoFill,
    };
    g.on_child_done(&old, reset + 2 * SEC);
    assert_eq!(
        g.snapshot(reset + 2 * SEC).venues["book-x"]
            .notional
            .daily_notional,
        dec!(1000000)
    );
    // Changing the reset time moves the boundary.
    let (mut log, _) = audit();
    g.set_limit(&mut log, &by(reset), "daily_reset_utc", "\"18:00\"")
        .unwrap();
    assert_eq!(
        g.snapshot(reset + 3 * SEC).venues["book-x"]
            .notional
            .daily_notional,
        dec!(1000000)
    );
    assert_eq!(
        g.snapshot(JAN2 + 18 * HOUR).venues["book-x"]
            .notional
            .daily_notional,
        dec!(0)
    );
    assert_eq!(g.snapshot(JAN2 + DAY).daily_period_start, JAN2 + 18 * HOUR);
}

#[test]
fn stages_graduate_after_n_clean_fills_up_to_the_ceiling_and_demote_on_error() {
    let mut g = gate();
    let mut t = JAN2;
    let v = "new-dealer";
    assert_eq!(g.stage(v), Some("canary"));
    // Canary: max clip 1000 (tighter than the venue's 2M), one child a minute.
    let e = g
        .check_child(&child("DESK1", v, dec!(1001)), t)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: stage max clip at new-dealer 1000 USDC/USD exceeded by 1 (stage canary)"
    );
    assert_eq!(room(&g, "DESK1", v, t).max_qty, Some(dec!(1000)));
    let fill = |g: &mut Gate, t: u64, outcome: ChildOutcome| {
        let a = approve_child(g, &child("DESK1", v, dec!(1000)), t).unwrap();
        g.on_child_done(&done("DESK1", v, &a, dec!(1000), outcome), t + MS)
    };
    assert_eq!(fill(&mut g, t, ChildOutcome::CleanFill), None);
    let e = g
        .check_child(&child("DESK1", v, dec!(1000)), t + 500 * MS)
        .unwrap_err();
    assert_eq!(e.rule, Rule::StageMaxChildrenPerWindow);
    assert_eq!(
        e.to_string(),
        "risk: stage max children per window at new-dealer 1 children per 1000ms reached, next child allowed in 500ms (stage canary)"
    );
    t += 60 * SEC;
    let e = g
        .check_child(&child("DESK1", v, dec!(1000)), t - 1)
        .unwrap_err();
    assert_eq!(e.rule, Rule::StageMinSpacing);
    assert!(e.to_string().ends_with("(stage canary)"), "{e}");
    assert_eq!(fill(&mut g, t, ChildOutcome::CleanFill), None);
    t += 60 * SEC;
    // A child that ends unfilled changes nothing.
    assert_eq!(fill(&mut g, t, ChildOutcome::NoFill), None);
    t += 60 * SEC;
    let change = fill(&mut g, t, ChildOutcome::CleanFill).unwrap();
    assert_eq!(
        (change.from.as_str(), change.to.as_str(), change.cause),
        ("canary", "repeat", StageCause::Graduated)
    );
    assert_eq!(g.stage(v), Some("repeat"));
    // Repeat: 5 s spacing.
    for _ in 0..2 {
        t += 5 * SEC;
        assert_eq!(fill(&mut g, t, ChildOutcome::CleanFill), None);
    }
    t += 5 * SEC;
    assert_eq!(
        fill(&mut g, t, ChildOutcome::CleanFill).unwrap().to,
        "larger"
    );
    // Larger is the ceiling: clean fills do not move it further.
    for _ in 0..5 {
        t += 5 * SEC;
        assert_eq!(fill(&mut g, t, ChildOutcome::CleanFill), None);
    }
    assert_eq!(g.stage(v), Some("larger"));
    assert_eq!(room(&g, "DESK1", v, t + SEC).max_qty, Some(dec!(500000)));
    // An error demotes one stage and resets the count.
    t += 5 * SEC;
    let change = fill(&mut g, t, ChildOutcome::Error).unwrap();
    assert_eq!(
        (change.to.as_str(), change.cause),
        ("repeat", StageCause::Demoted)
    );
    let snap = g.snapshot(t);
    let ramp = snap.venues[v].ramp.as_ref().unwrap();
    assert_eq!((ramp.clean_fills, ramp.ceiling.as_str()), (0, "larger"));
    // Raising the ceiling lets it climb to full; capping it moves it down at once.
    let (mut log, mem) = audit();
    g.cap_stage(&mut log, &by(t), v, "full").unwrap();
    g.set_stage(&mut log, &by(t), v, "full").unwrap();
    assert_eq!(
        room(&g, "DESK1", v, t + 10 * SEC).max_qty,
        Some(dec!(2000000))
    );
    g.cap_stage(&mut log, &by(t), v, "canary").unwrap();
    assert_eq!(g.stage(v), Some("canary"));
    let e = g.set_stage(&mut log, &by(t), v, "larger").unwrap_err();
    assert_eq!(
        e.to_string(),
        "venue \"new-dealer\": stage \"larger\" is above the ceiling \"canary\"; raise the ceiling first"
    );
    let e = g.set_stage(&mut log, &by(t), v, "huge").unwrap_err();
    assert!(matches!(e, ControlError::UnknownStage { .. }), "{e}");
    assert!(matches!(
        g.set_stage(&mut log, &by(t), "dealer-a", "full")
            .unwrap_err(),
        ControlError::NoRamp { .. }
    ));
    let recs = mem.records();
    assert_eq!(recs.len(), 3);
    assert_eq!(
        (recs[1].what.as_str(), recs[1].key.as_str()),
        ("set_stage", "venues.new-dealer.stage")
    );
    assert_eq!(
        (recs[1].old.clone(), recs[1].new.clone()),
        (serde_json::json!("repeat"), serde_json::json!("full"))
    );
    assert_eq!(recs[2].key, "venues.new-dealer.stage_ceiling");
    assert_eq!(
        (recs[2].old.clone(), recs[2].new.clone()),
        (serde_json::json!("full"), serde_json::json!("canary"))
    );
}

#[test]
fn kill_switch_stops_the_very_next_check() {
    let mut g = gate();
    let (mut log, mem) = audit();
    let t = JAN2;
    let c = child("DESK1", "book-x", dec!(5000));
    assert!(g.check_child(&c, t).is_ok());
    g.engage_kill(&mut log, &by(t), KillScope::Venue("book-x".into()), true)
        .unwrap();
    let e = g.check_child(&c, t).unwrap_err();
    assert_eq!(e.to_string(), "risk: kill switch engaged at venue book-x");
    assert_eq!(
        room(&g, "DESK1", "book-x", t).blocked,
        Some(Rule::KillSwitch)
    );
    assert!(g.must_cancel("DESK2", "book-x") && !g.must_cancel("DESK1", "dealer-a"));
    assert!(
        g.check_child(&child("DESK1", "dealer-a", dec!(5000)), t)
            .is_ok()
    );
    assert_eq!(g.kill_generation(), 1);

    g.engage_kill(&mut log, &by(t), KillScope::Desk("DESK1".into()), false)
        .unwrap();
    let e = g
        .check_child(&child("DESK1", "dealer-a", dec!(5000)), t)
        .unwrap_err();
    assert_eq!(e.to_string(), "risk: kill switch engaged at desk DESK1");
    assert!(!g.must_cancel("DESK1", "dealer-a"));
    assert_eq!(
        g.check_parent(&parent("DESK1", dec!(1)), t)
            .unwrap_err()
            .rule,
        Rule::KillSwitch
    );

    g.engage_kill(&mut log, &by(t), KillScope::Global, true)
        .unwrap();
    let e = g
        .check_child(&child("DESK2", "book-x", dec!(5000)), t)
        .unwrap_err();
    assert_eq!(e.to_string(), "risk: kill switch engaged (global)");
    assert!(g.must_cancel("anyone", "anywhere"));

    for s in [
        KillScope::Global,
        KillScope::Desk("DESK1".into()),
        KillScope::Venue("book-x".into()),
    ] {
        g.release_kill(&mut log, &by(t), s).unwrap();
    }
    assert!(g.check_child(&c, t).is_ok());
    assert_eq!(g.kill_generation(), 6);
    let e = g
        .release_kill(&mut log, &by(t), KillScope::Global)
        .unwrap_err();
    assert_eq!(e.to_string(), "kill switch at global is not engaged");
    let e = g
        .engage_kill(&mut log, &by(t), KillScope::Venue("book-z".into()), true)
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown venue \"book-z\"");
    let recs = mem.records();
    assert_eq!(recs.len(), 6);
    assert_eq!(
        (recs[0].what.as_str(), recs[0].key.as_str()),
        ("engage_kill", "kill.venues.book-x")
    );
    assert_eq!(recs[0].old, serde_json::Value::Null);
    assert_eq!(recs[0].new["cancel_working"], true);
    assert_eq!(recs[3].what, "release_kill");
    assert_eq!(recs[3].new, serde_json::Value::Null);
    assert_eq!(recs[3].old["by"], "alice");
}

#[test]
fn kill_switches_survive_a_new_limits_file() {
    let mut g = gate();
    let (mut log, _) = audit();
    g.engage_kill(&mut log, &by(1), KillScope::Venue("book-x".into()), true)
        .unwrap();
    let l = Limits::from_toml_str(LIMITS).unwrap();
    g.replace_limits(&mut log, &by(2), l).unwrap();
    assert_eq!(
        g.check_child(&child("DESK1", "book-x", dec!(5000)), JAN2)
            .unwrap_err()
            .rule,
        Rule::KillSwitch
    );
}

#[test]
fn set_limit_validates_like_the_file_and_audits_old_and_new() {
    let mut g = gate();
    let (mut log, mem) = audit();
    let t = JAN2;
    let rec = g
        .set_limit(&mut log, &by(t), "venues.dealer-a.max_clip", "1500000")
        .unwrap();
    assert_eq!(
        (rec.old.clone(), rec.new.clone()),
        (serde_json::json!("5000000"), serde_json::json!("1500000"))
    );
    assert_eq!(
        g.check_child(&child("DESK1", "dealer-a", dec!(1500001)), t)
            .unwrap_err()
            .limit,
        dec!(1500000)
    );
    // Exact decimals typed as text, floats included.
    g.set_limit(&mut log, &by(t), "venues.dealer-a.band_bps", "12.5")
        .unwrap();
    assert_eq!(g.limits().venues["dealer-a"].band_bps, Some(dec!(12.5)));
    // Quoted keys, new instrument entries.
    g.set_limit(
        &mut log,
        &by(t),
        "instruments.\"USDC/USD\".max_clip",
        "\"1000000\"",
    )
    .unwrap();
    assert_eq!(
        g.check_child(&child("DESK1", "dealer-a", dec!(1000001)), t)
            .unwrap_err()
            .limit,
        dec!(1000000)
    );
    g.set_limit(&mut log, &by(t), "desks.DESK1.venues", "[\"book-x\"]")
        .unwrap();
    assert_eq!(
        g.check_child(&child("DESK1", "dealer-a", dec!(5000)), t)
            .unwrap_err()
            .rule,
        Rule::VenueNotAllowed
    );
    g.clear_limit(&mut log, &by(t), "desks.DESK1.venues")
        .unwrap();
    assert!(
        g.check_child(&child("DESK1", "dealer-a", dec!(5000)), t)
            .is_ok()
    );
    g.set_limit(&mut log, &by(t), "ramps.standard.stages.0.max_clip", "2000")
        .unwrap();
    assert_eq!(room(&g, "DESK1", "new-dealer", t).max_qty, Some(dec!(2000)));
    let before = g.limits().clone();
    let n = mem.lines().len();
    let bad = [
        (
            "venues.dealer-a.max_clip",
            "-5",
            "venues.dealer-a.max_clip: must be > 0, got -5",
        ),
        (
            "venues.dealer-a.max_clip",
            "abc",
            "venues.dealer-a.max_clip: \"abc\" is not a plain decimal like \"0.9999\"",
        ),
        (
            "venues.dealer-a.min_clip",
            "6000000",
            "venues.dealer-a.min_clip: must be <= max_clip 1500000, got 6000000",
        ),
        (
            "venues.dealer-a.max_clp",
            "5",
            "venues.dealer-a.max_clp: unknown field `max_clp`, expected one of",
        ),
        (
            "venues.dealer-zz.max_clip",
            "5",
            "venues.dealer-zz.max_clip: no venue \"dealer-zz\" in the limits; add it with a new limits file",
        ),
        (
            "venues.new-dealer.stage_ceiling",
            "giant",
            "venues.new-dealer.stage_ceiling: no stage \"giant\" in ramp \"standard\" (canary, repeat, larger, full)",
        ),
        (
            "desks.DESK1.venues",
            "[\"nowhere\"]",
            "desks.DESK1.venues: no venue \"nowhere\" in [venues] (book-x, dealer-a, new-dealer)",
        ),
        (
            "bogus.x",
            "1",
            "bogus.x: unknown key; the file's sections are currency, daily_reset_utc, overall, desks, venues, instruments, ramps",
        ),
        (
            "venues.dealer-a.max_clip.x",
            "1",
            "venues.dealer-a.max_clip.x: venues.dealer-a.max_clip is not a table",
        ),
        (
            "ramps.standard.stages.9.max_clip",
            "1",
            "ramps.standard.stages.9.max_clip: no element \"9\" (there are 4)",
        ),
        (
            "currency",
            "",
            "currency: must be a currency code like \"USD\", got \"\"",
        ),
        (
            "venues.dealer-a.window_ms",
            "1.5",
            "venues.dealer-a.window_ms: invalid type: string \"1.5\", expected u64",
        ),
    ];
    for (key, value, want) in bad {
        let e = g.set_limit(&mut log, &by(t), key, value).unwrap_err();
        assert!(
            e.to_string().starts_with(want),
            "{key}={value}: got {e}, want {want}"
        );
        assert_eq!(g.limits(), &before, "{key} changed the limits");
    }
    assert!(
        g.clear_limit(&mut log, &by(t), "currency")
            .unwrap_err()
            .to_string()
            .starts_with("currency: missing field")
    );
    assert_eq!(mem.lines().len(), n, "refused changes are not audited");
    let e = g
        .set_limit(
            &mut log,
            &Actor {
                who: "",
                reason: "x",
                now: t,
            },
            "venues.dealer-a.max_clip",
            "1",
        )
        .unwrap_err();
    assert!(matches!(e, ControlError::Unattributed));
    let recs = mem.records();
    assert_eq!(recs[0].who, "alice");
    assert_eq!(recs[0].at, t);
    assert_eq!(recs[0].what, "set_limit");
    assert_eq!(recs[0].key, "venues.dealer-a.max_clip");
    assert_eq!(recs[0].reason, "test");
    assert_eq!(recs[2].key, "instruments.\"USDC/USD\".max_clip");
    assert_eq!(recs[2].old, serde_json::Value::Null);
    assert_eq!(recs[4].what, "clear_limit");
    assert_eq!(recs[4].new, serde_json::Value::Null);
}

#[test]
fn a_failed_audit_write_leaves_everything_unchanged() {
    let mut g = gate();
    let (mut log, mem) = audit();
    mem.set_failing(true);
    let e = g
        .set_limit(&mut log, &by(1), "venues.dealer-a.max_clip", "10000")
        .unwrap_err();
    assert!(e.to_string().ends_with("the change was not made"), "{e}");
    assert_eq!(g.limits().venues["dealer-a"].max_clip, Some(dec!(5000000)));
    assert!(
        g.engage_kill(&mut log, &by(1), KillScope::Global, true)
            .is_err()
    );
    assert!(
        g.check_child(&child("DESK1", "book-x", dec!(5000)), JAN2)
            .is_ok()
    );
    assert_eq!((g.version(), g.kill_generation()), (0, 0));
}

#[test]
fn replace_limits_is_all_or_nothing_and_carries_usage_over() {
    let mut g = gate();
    let (mut log, mem) = audit();
    let t = JAN2 + 18 * HOUR;
    approve_child(&mut g, &child("DESK1", "book-x", dec!(3000000)), t).unwrap();
    // Move new-dealer to "larger".
    g.set_stage(&mut log, &by(t), "new-dealer", "larger")
        .unwrap();
    // An invalid file changes nothing.
    let mut bad = g.limits().clone();
    bad.venues.get_mut("book-x").unwrap().max_clip = Some(dec!(-1));
    let e = g.replace_limits(&mut log, &by(t), bad).unwrap_err();
    assert_eq!(e.to_string(), "venues.book-x.max_clip: must be > 0, got -1");
    assert_eq!(g.limits().venues["book-x"].max_clip, Some(dec!(4000000)));
    // A valid one keeps usage and stages by name.
    let mut new = g.limits().clone();
    new.venues.get_mut("book-x").unwrap().daily_notional = Some(dec!(3500000));
    new.venues.get_mut("new-dealer").unwrap().stage_ceiling = Some("repeat".into());
    new.venues
        .insert("book-z".into(), crate::VenueLimits::default());
    g.replace_limits(&mut log, &by(t), new).unwrap();
    let e = g
        .check_child(&child("DESK1", "book-x", dec!(500001)), t + SEC)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "risk: daily notional at venue book-x 3500000 USD exceeded by 1"
    );
    assert_eq!(
        g.stage("new-dealer"),
        Some("repeat"),
        "capped at the new ceiling"
    );
    assert!(
        g.check_child(&child("DESK1", "book-z", dec!(5000)), t + SEC)
            .is_ok()
    );
    let recs = mem.records();
    assert_eq!(recs.last().unwrap().what, "replace_limits");
    assert_eq!(recs.last().unwrap().key, "limits");
    assert_eq!(
        recs.last().unwrap().old["venues"]["book-x"]["daily_notional"],
        "6000000"
    );
    assert_eq!(
        recs.last().unwrap().new["venues"]["book-x"]["daily_notional"],
        "3500000"
    );
}

#[test]
fn set_limit_takes_effect_for_the_next_child_and_resizes_windows() {
    let mut g = gate();
    let (mut log, _) = audit();
    let t = JAN2;
    let c = child("DESK1", "dealer-a", dec!(5000));
    for i in 0..3 {
        approve_child(&mut g, &c, t + i * 100 * MS).unwrap();
    }
    assert_eq!(
        g.check_child(&c, t + 300 * MS).unwrap_err().rule,
        Rule::MaxChildrenPerWindow
    );
    g.set_limit(
        &mut log,
        &by(t),
        "venues.dealer-a.max_children_per_window",
        "5",
    )
    .unwrap();
    approve_child(&mut g, &c, t + 300 * MS).unwrap();
    approve_child(&mut g, &c, t + 400 * MS).unwrap();
    assert_eq!(
        g.check_child(&c, t + 500 * MS).unwrap_err().rule,
        Rule::MaxChildrenPerWindow
    );
    g.set_limit(
        &mut log,
        &by(t),
        "venues.dealer-a.max_children_per_window",
        "2",
    )
    .unwrap();
    let e = g.check_child(&c, t + 1200 * MS).unwrap_err();
    assert_eq!(e.retry.as_ref().unwrap().at, t + 1300 * MS);
    assert!(g.check_child(&c, t + 1300 * MS).is_ok());
    let s = g.snapshot(t + 1000 * MS);
    assert_eq!(s.venues["dealer-a"].window.children_in_window, 2);
}

#[test]
fn snapshot_is_json_with_decimal_strings() {
    let mut g = gate();
    approve_child(&mut g, &child("DESK1", "new-dealer", dec!(1000)), JAN2).unwrap();
    let v = serde_json::to_value(g.snapshot(JAN2 + SEC / 2)).unwrap();
    assert_eq!(v["venues"]["new-dealer"]["open_notional"], "1000");
    assert_eq!(v["venues"]["new-dealer"]["children_in_window"], 1);
    assert_eq!(v["venues"]["new-dealer"]["ramp"]["stage"], "canary");
    assert_eq!(v["limits"]["venues"]["dealer-a"]["max_clip"], "5000000");
    assert_eq!(v["desks"]["DESK1"]["daily_notional"], "1000");
    assert_eq!(v["kills"]["global"], serde_json::Value::Null);
    let back: GateSnapshot = serde_json::from_value(v).unwrap();
    assert_eq!(back, g.snapshot(JAN2 + SEC / 2));
}

#[test]
fn hostile_numbers_do_not_panic() {
    let text = r#"
currency = "USD"
[overall]
daily_notional = "79228162514264337593543950335"
max_open_notional = "79228162514264337593543950335"
[desks.D]
parent_band_bps = "10000"
[venues.v]
band_bps = "10000"
"#;
    let mut g = Gate::from_toml_str(text).unwrap();
    let big = Decimal::MAX;
    let c = ChildCheck {
        desk: "D",
        parent_instrument: "X",
        venue: "v",
        instrument: "X",
        side: Side::Buy,
        qty: big,
        notional: big,
        limit_px: Some(big),
        reference_px: Some(dec!(0.0000000000000000000000000001)),
    };
    assert_eq!(
        g.check_child(&c, u64::MAX).unwrap_err().rule,
        Rule::PriceBand
    );
    let c = ChildCheck {
        limit_px: Some(dec!(1)),
        reference_px: Some(dec!(1)),
        ..c
    };
    approve_child(&mut g, &c, u64::MAX).unwrap();
    assert_eq!(
        g.check_child(&c, u64::MAX).unwrap_err().rule,
        Rule::MaxOpenNotional
    );
    let p = ParentCheck {
        desk: "D",
        instrument: "X",
        side: Side::Sell,
        qty: big,
        notional: big,
        currency: "USD",
        limit_px: Some(dec!(-1)),
        reference_px: Some(big),
    };
    assert_eq!(g.check_parent(&p, 0).unwrap_err().rule, Rule::MissingPrice);
    let _ = g.room(
        &RoomRequest {
            desk: "D",
            parent_instrument: "X",
            venue: "v",
            instrument: "X",
            notional_per_unit: Some(dec!(0.0000000000000000000000000001)),
        },
        0,
    );
    g.on_child_done(
        &ChildDone {
            desk: "D",
            venue: "v",
            sent_at: 0,
            sent_notional: big,
            filled_notional: -big,
            outcome: ChildOutcome::Error,
        },
        u64::MAX,
    );
    let _ = g.snapshot(u64::MAX);
}
