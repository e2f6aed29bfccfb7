//! Reconciling children with a FIX exchange after a gateway restart, over 127.0.0.1: a
//! new link (the restarted gateway's) asks the exchange simulator for each child the
//! journal shows working, and gets back exactly what the journal missed.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use crossbeam_channel::{Receiver, bounded};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::path::Path;
use std::time::{Duration, Instant};
use tests::fixtures::{Book, fix_book_link, free_port, temp_dir, usdc_exchange};
use venues::exchange::FixBookLink;
use venues::{Known, Level, LinkEvent, RejectKind, Side, VenueLink, VenueOrder, VenueReport};

const WAIT: Duration = Duration::from_secs(10);

fn link(port: u16, data: &Path) -> (FixBookLink, Receiver<LinkEvent>) {
    fix_book_link(port, data, "R7")
}

/// Reports for `child` until `done` says so.
fn reports(
    rx: &Receiver<LinkEvent>,
    child: &str,
    done: impl Fn(&[VenueReport]) -> bool,
) -> Vec<VenueReport> {
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    while !done(&out) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(LinkEvent::Report {
                client_id, report, ..
            }) if client_id == child => out.push(report),
            Ok(_) => {}
            Err(_) => panic!("{child}: only {out:?}"),
        }
    }
    out
}

fn filled(reports: &[VenueReport]) -> Decimal {
    VenueReport::filled(reports)
}

fn wait_up(l: &FixBookLink) {
    let deadline = Instant::now() + WAIT;
    while !l.is_up() {
        assert!(Instant::now() < deadline, "link never logged on");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_restarted_link_recovers_exactly_what_its_journal_missed() {
    let data = temp_dir("reconcile");
    let port = free_port();
    let exchange = usdc_exchange(port, &data, Book::Shallow, 0.0, 3);

    // Before the crash: P1.1 sells 150 and fills 100 @ 0.9999 + 50 @ 0.9998.
    let (before, rx) = link(port, &data);
    wait_up(&before);
    before
        .send(VenueOrder {
            client_id: "P1.1".into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            qty: dec!(150),
            limit_px: dec!(0.9990),
        })
        .unwrap();
    let seen = reports(&rx, "P1.1", |r| filled(r) == dec!(150));
    assert_eq!(filled(&seen), dec!(150));
    drop(before);

    // The journal had only the first 100 of it; P1.2 was journaled but never sent.
    let (after, rx) = link(port, &data);
    after
        .reconcile(
            "P1.1",
            Known {
                filled: dec!(100),
                gross: dec!(100) * dec!(0.9999),
                fixed_cost: Decimal::ZERO,
            },
        )
        .unwrap();
    after.reconcile("P1.2", Known::NOTHING).unwrap();
    let missed = reports(&rx, "P1.1", |r| !r.is_empty());
    assert_eq!(missed.len(), 1, "{missed:?}");
    match &missed[0] {
        VenueReport::Fill { qty, px, fee, .. } => {
            assert_eq!(*qty, dec!(50));
            assert_eq!(
                *px,
                dec!(0.9998),
                "the price that makes the exchange's AvgPx"
            );
            assert_eq!(*fee, dec!(50) * dec!(0.9998) * dec!(0.0002));
        }
        other => panic!("{other:?}"),
    }
    let never = reports(&rx, "P1.2", |r| !r.is_empty());
    assert!(
        matches!(
            never.as_slice(),
            [VenueReport::Rejected {
                kind: RejectKind::Unreachable,
                ..
            }]
        ),
        "{never:?}"
    );
    // Nothing else arrives about either child: no fill counted twice.
    let quiet = Instant::now() + Duration::from_millis(500);
    while let Some(left) = quiet.checked_duration_since(Instant::now()) {
        if let Ok(LinkEvent::Report {
            client_id, report, ..
        }) = rx.recv_timeout(left)
        {
            panic!("unexpected report for {client_id}: {report:?}");
        }
    }
    drop(after);
    exchange.stop();
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_restarted_rfq_link_finds_its_childs_trade_at_the_dealer_by_order_id() {
    use venues::rfq::{
        ApiKey, DealerConfig, DealerServer, DealerSimConfig, Pricing, RfqLink, RfqLinkConfig,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let key = || ApiKey::new("reconcile-key-1").unwrap();
    let mut sim = DealerSimConfig::new(
        "dealer-a",
        key(),
        "USDC/USD",
        Pricing::Ladders {
            bid: vec![Level {
                px: dec!(0.99995),
                qty: dec!(10000000),
            }],
            ask: vec![Level {
                px: dec!(1.00005),
                qty: dec!(10000000),
            }],
        },
    );
    sim.quote_validity = Duration::from_secs(10);
    let server = rt
        .block_on(DealerServer::start(sim, "127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let start = |prefix: &str| {
        let (tx, rx) = bounded(1000);
        let config = RfqLinkConfig {
            order_prefix: prefix.into(),
            stream_ladder: false,
            ..RfqLinkConfig::new(DealerConfig::new(
                "dealer-a",
                &server.base_url(),
                key(),
                "USDC/USD",
            ))
        };
        (RfqLink::start(config, rt.handle().clone(), tx).unwrap(), rx)
    };

    // Before the crash: P1.1 trades at the dealer.
    let (before, rx) = start("R9");
    before
        .send(VenueOrder {
            client_id: "P1.1".into(),
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            qty: dec!(250000),
            limit_px: dec!(0.9990),
        })
        .unwrap();
    let traded = reports(&rx, "P1.1", |r| filled(r) > Decimal::ZERO);
    assert_eq!(filled(&traded), dec!(250000));
    drop(before);

    // After: the journal never saw that fill; P1.2 never reached the dealer.
    let (after, rx) = start("R9");
    after.reconcile("P1.1", Known::NOTHING).unwrap();
    let found = reports(&rx, "P1.1", |r| filled(r) > Decimal::ZERO);
    assert_eq!(filled(&found), dec!(250000), "{found:?}");
    after.reconcile("P1.2", Known::NOTHING).unwrap();
    let never = reports(&rx, "P1.2", |r| !r.is_empty());
    assert!(
        matches!(
            never.as_slice(),
            [VenueReport::Rejected {
                kind: RejectKind::Unreachable,
                ..
            }]
        ),
        "{never:?}"
    );
    // A new run without the journal (another prefix) cannot pick up the old trade.
    let (other_run, rx) = start("R10");
    other_run.reconcile("P1.1", Known::NOTHING).unwrap();
    let fresh = reports(&rx, "P1.1", |r| !r.is_empty());
    assert!(
        matches!(fresh.as_slice(), [VenueReport::Rejected { .. }]),
        "{fresh:?}"
    );
    assert_eq!(server.trade_count(), 1, "one trade in all");
    drop((after, other_run));
    rt.block_on(server.shutdown());
}
