//! The FIX exchange adapter against the exchange simulator over 127.0.0.1: orders,
//! fills with fees, IOC remainders, rejects, market data and trade prints, and a
//! reconnect after the exchange restarts with its sequence numbers kept.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use crossbeam_channel::Receiver;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tests::fixtures::{Book, fix_book_link, free_port, temp_dir, usdc_exchange};
use venues::exchange::{ExchangeSim, FixBookLink};
use venues::{CurveShape, Level, LinkEvent, Side, VenueLink, VenueOrder, VenueReport};

const WAIT: Duration = Duration::from_secs(10);

/// QuickFIX's session registry is process-wide: one exchange pair at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn dir(name: &str) -> PathBuf {
    temp_dir(&format!("x-{name}"))
}

fn exchange(port: u16, data: &std::path::Path, reject_rate: f64) -> ExchangeSim {
    usdc_exchange(port, data, Book::Shallow, reject_rate, 5)
}

fn link(port: u16, data: &std::path::Path) -> (FixBookLink, Receiver<LinkEvent>) {
    fix_book_link(port, data, "T1")
}

fn next(rx: &Receiver<LinkEvent>, mut pred: impl FnMut(&LinkEvent) -> bool) -> LinkEvent {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = rx.recv_timeout(left).expect("event in time");
        if pred(&e) {
            return e;
        }
    }
}

fn reports_for(
    rx: &Receiver<LinkEvent>,
    child: &str,
    until_done: impl Fn(&VenueReport) -> bool,
) -> Vec<VenueReport> {
    let mut out = Vec::new();
    loop {
        if let LinkEvent::Report {
            client_id, report, ..
        } = next(
            rx,
            |e| matches!(e, LinkEvent::Report { client_id, .. } if client_id == child),
        ) {
            assert_eq!(client_id, child);
            let done = until_done(&report);
            out.push(report);
            if done {
                return out;
            }
        }
    }
}

fn sell(id: &str, qty: Decimal, limit: Decimal) -> VenueOrder {
    VenueOrder {
        client_id: id.into(),
        instrument: "USDC/USD".into(),
        side: Side::Sell,
        qty,
        limit_px: limit,
    }
}

#[test]
fn ioc_orders_fill_with_fees_and_the_rest_expires() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (port, data) = (free_port(), dir("ioc"));
    let x = exchange(port, &data, 0.0);
    let (l, rx) = link(port, &data);
    next(&rx, |e| matches!(e, LinkEvent::Connection { up: true, .. }));
    // The market data snapshot becomes the venue's curve for takers who sell.
    let liq = next(
        &rx,
        |e| matches!(e, LinkEvent::Liquidity(l) if l.side == Side::Sell),
    );
    let LinkEvent::Liquidity(liq) = liq else {
        unreachable!()
    };
    assert_eq!(
        liq.shape,
        CurveShape::Steps(vec![
            Level {
                px: dec!(0.9999),
                qty: dec!(100)
            },
            Level {
                px: dec!(0.9998),
                qty: dec!(200)
            },
        ])
    );
    assert_eq!(liq.fee_bps, dec!(2));

    l.send(sell("P1.1", dec!(250), dec!(0.9998))).unwrap();
    let r = reports_for(
        &rx,
        "P1.1",
        |r| matches!(r, VenueReport::Fill { qty, px, .. } if *qty == dec!(150) && *px == dec!(0.9998)),
    );
    assert_eq!(r[0], VenueReport::Ack);
    let VenueReport::Fill { exec_id, .. } = &r[1] else {
        panic!("{r:?}")
    };
    assert!(!exec_id.is_empty(), "ExecID(17) names the fill");
    assert_eq!(
        r[1],
        VenueReport::Fill {
            qty: dec!(100),
            px: dec!(0.9999),
            fee: dec!(100) * dec!(0.9999) * dec!(0.0002),
            exec_id: exec_id.clone(),
        }
    );
    assert!(matches!(r[2], VenueReport::Fill { qty, .. } if qty == dec!(150)));

    // What is left is 50 at 0.9998: a sell of 80 fills 50 and the rest expires.
    l.send(sell("P1.2", dec!(80), dec!(0.9990))).unwrap();
    let r = reports_for(&rx, "P1.2", |r| matches!(r, VenueReport::Expired { .. }));
    assert_eq!(r.last(), Some(&VenueReport::Expired { unfilled: dec!(30) }));
    // Every trade printed.
    next(
        &rx,
        |e| matches!(e, LinkEvent::Trade { qty, .. } if *qty == dec!(50)),
    );
    drop(l);
    x.stop();
}

#[test]
fn exchange_rejects_become_child_rejects() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (port, data) = (free_port(), dir("reject"));
    let x = exchange(port, &data, 1.0);
    let (l, rx) = link(port, &data);
    next(&rx, |e| matches!(e, LinkEvent::Connection { up: true, .. }));
    l.send(sell("P2.1", dec!(10), dec!(0.9))).unwrap();
    let r = reports_for(&rx, "P2.1", |r| matches!(r, VenueReport::Rejected { .. }));
    assert!(
        matches!(&r[0], VenueReport::Rejected { reason, .. } if reason == "simulated reject"),
        "{r:?}"
    );
    drop(l);
    x.stop();
}

#[test]
fn the_link_reconnects_when_the_exchange_comes_back_and_refuses_orders_meanwhile() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (port, data) = (free_port(), dir("reconnect"));
    let x = exchange(port, &data, 0.0);
    let (l, rx) = link(port, &data);
    next(&rx, |e| matches!(e, LinkEvent::Connection { up: true, .. }));
    l.send(sell("P3.1", dec!(10), dec!(0.9))).unwrap();
    reports_for(&rx, "P3.1", |r| matches!(r, VenueReport::Fill { .. }));
    x.stop();
    next(&rx, |e| {
        matches!(e, LinkEvent::Connection { up: false, .. })
    });
    // Down: the order never leaves, and the caller is told so.
    assert!(l.send(sell("P3.2", dec!(10), dec!(0.9))).is_err());
    // Back on the same port with the same store: the session resumes its sequence
    // numbers (no reset) and trading goes on.
    let x = exchange(port, &data, 0.0);
    next(&rx, |e| matches!(e, LinkEvent::Connection { up: true, .. }));
    l.send(sell("P3.3", dec!(10), dec!(0.9))).unwrap();
    let r = reports_for(&rx, "P3.3", |r| matches!(r, VenueReport::Fill { .. }));
    assert!(matches!(r.last(), Some(VenueReport::Fill { qty, .. }) if *qty == dec!(10)));
    let seqnums = std::fs::read_dir(data.join("exchange").join("store"))
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().ends_with(".seqnums"));
    assert!(seqnums, "the exchange keeps its sequence numbers on disk");
    drop(l);
    x.stop();
}
