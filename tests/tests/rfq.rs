//! OTC RFQ over real HTTP and WebSocket on 127.0.0.1: simulated dealers
//! (`venues::rfq::DealerServer`), the client, parallel RFQ and `RfqLink`.
//!
//! Every random draw is seeded (last look at probability 0 or 1, or a seed picked by
//! the in-process simulator), and no test asserts a wall-clock duration: time limits
//! only ever separate "at once" from "seconds later".
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use crossbeam_channel::Receiver;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::time::Duration;
use venues::rfq::auction::{OrderOutcome, QuoteOutcome, SkipReason};
use venues::rfq::wire::{OrderResult, QuoteRequest, RejectReason};
use venues::rfq::{
    ApiKey, Auction, AuctionConfig, AuctionRequest, AuctionResult, AuthScheme, ClientError,
    DealerClient, DealerConfig, DealerServer, DealerSimConfig, Fault, LadderEvent, Pricing,
    RfqLink, RfqLinkConfig,
};
use venues::sim::{RfqConfig, RfqDealerSim, VenueSim};
use venues::{
    Level, LinkError, LinkEvent, RejectKind, Side, VenueId, VenueLink, VenueOrder, VenueReport,
};

const KEY: &str = "test-key-123";
const INSTRUMENT: &str = "USDC/USD";
/// Long enough that nothing legitimate ever waits this long.
const PATIENCE: Duration = Duration::from_secs(20);

fn key() -> ApiKey {
    ApiKey::new(KEY).unwrap()
}

/// One tier of 10M each side: bid `bid`, ask `bid + 0.0004`.
fn flat(bid: Decimal) -> Pricing {
    Pricing::Ladders {
        bid: vec![Level {
            px: bid,
            qty: dec!(10000000),
        }],
        ask: vec![Level {
            px: bid + dec!(0.0004),
            qty: dec!(10000000),
        }],
    }
}

async fn dealer(id: &str, bid: Decimal, tweak: impl FnOnce(&mut DealerSimConfig)) -> DealerServer {
    let mut c = DealerSimConfig::new(id, key(), INSTRUMENT, flat(bid));
    c.quote_validity = Duration::from_secs(10);
    tweak(&mut c);
    DealerServer::start(c, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn dealer_config(server: &DealerServer) -> DealerConfig {
    let mut c = DealerConfig::new(server.id().as_str(), &server.base_url(), key(), INSTRUMENT);
    c.request_timeout = Duration::from_secs(5);
    c
}

fn client(server: &DealerServer, tweak: impl FnOnce(&mut DealerConfig)) -> DealerClient {
    let mut c = dealer_config(server);
    tweak(&mut c);
    DealerClient::new(c).unwrap()
}

fn auction_config() -> AuctionConfig {
    AuctionConfig {
        quote_deadline: Duration::from_secs(3),
        safety_margin: Duration::from_millis(50),
        max_rounds: 2,
        max_orders: 4,
    }
}

fn sell(id: &str, qty: Decimal) -> AuctionRequest {
    AuctionRequest {
        request_id: id.to_owned(),
        instrument: INSTRUMENT.to_owned(),
        side: Side::Sell,
        quantity: qty,
        limit: Some(dec!(0.999)),
    }
}

fn quote_request(id: &str, qty: Decimal) -> QuoteRequest {
    QuoteRequest {
        client_request_id: id.to_owned(),
        instrument: INSTRUMENT.to_owned(),
        side: Side::Sell,
        quantity: qty,
    }
}

fn filled_by(result: &AuctionResult) -> &str {
    match result {
        AuctionResult::Filled { dealer, .. } => dealer.as_str(),
        other => panic!("expected a fill, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_quote_wins_across_three_dealers() {
    let a = dealer("dealer-a", dec!(0.9995), |_| {}).await;
    let b = dealer("dealer-b", dec!(0.9998), |_| {}).await;
    let c = dealer("dealer-c", dec!(0.9997), |_| {}).await;
    let auction = Auction::new(
        vec![client(&a, |_| {}), client(&b, |_| {}), client(&c, |_| {})],
        auction_config(),
    );
    let out = auction.run(&sell("P1.1", dec!(2000000))).await;
    assert_eq!(filled_by(&out.result), "dealer-b");
    let trade = out.trade().unwrap();
    assert_eq!((trade.price, trade.quantity), (dec!(0.9998), dec!(2000000)));
    assert_eq!(
        (a.trade_count(), b.trade_count(), c.trade_count()),
        (0, 1, 0)
    );
    assert_eq!(out.attempts.len(), 3);
    assert!(
        out.attempts
            .iter()
            .all(|x| matches!(x.quote, QuoteOutcome::Quoted { .. }))
    );
    // A buyer gets the lowest ask: dealer-a's 0.9999.
    let out = auction
        .run(&AuctionRequest {
            side: Side::Buy,
            limit: Some(dec!(1.001)),
            ..sell("P1.2", dec!(1000000))
        })
        .await;
    assert_eq!(filled_by(&out.result), "dealer-a");
    assert_eq!(out.trade().unwrap().price, dec!(0.9999));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_compare_net_of_each_dealers_fee() {
    let a = dealer("dealer-a", dec!(0.9999), |_| {}).await;
    let b = dealer("dealer-b", dec!(0.9997), |_| {}).await;
    // 0.9999 less 3 bps = 0.99960003 < 0.9997.
    let auction = Auction::new(
        vec![client(&a, |c| c.fee_bps = dec!(3)), client(&b, |_| {})],
        auction_config(),
    );
    let out = auction.run(&sell("P2.1", dec!(100))).await;
    assert_eq!(filled_by(&out.result), "dealer-b");
    assert_eq!(a.trade_count(), 0);
    match &out.attempts[0].quote {
        QuoteOutcome::Quoted { net_price, .. } => assert_eq!(*net_price, dec!(0.99960003)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_quote_is_never_accepted() {
    // 20 ms of validity is inside the 50 ms safety margin: no acceptance goes out.
    let d = dealer("dealer-a", dec!(0.9998), |c| {
        c.quote_validity = Duration::from_millis(20)
    })
    .await;
    let dc = client(&d, |_| {});
    let auction = Auction::new(vec![dc.clone()], auction_config());
    let out = auction.run(&sell("P3.1", dec!(100))).await;
    assert_eq!(out.result, AuctionResult::NotFilled);
    assert_eq!(out.attempts.len(), 2, "re-quoted once, then gave up");
    for a in &out.attempts {
        assert!(
            matches!(a.order, Some((_, OrderOutcome::ExpiredBeforeAccept { .. }))),
            "{a:?}"
        );
    }
    assert_eq!(d.trade_count(), 0);
    assert_eq!(
        out.reject_kind().0,
        RejectKind::QuoteExpired,
        "{:?}",
        out.reject_kind()
    );

    // And the dealer itself refuses an acceptance that arrives late.
    let q = dc
        .request_quote(&quote_request("r1", dec!(100)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let answer = dc
        .place_order_once(&q.acceptance("late-1".into()))
        .await
        .unwrap();
    assert!(
        matches!(&answer, OrderResult::Rejected(r) if r.reason == RejectReason::QuoteExpired),
        "{answer:?}"
    );
    assert_eq!(d.trade_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_look_reject_routes_to_the_next_best_dealer() {
    let a = dealer("dealer-a", dec!(0.9999), |c| c.last_look_reject = 1.0).await;
    let b = dealer("dealer-b", dec!(0.9997), |_| {}).await;
    let auction = Auction::new(
        vec![client(&a, |_| {}), client(&b, |_| {})],
        auction_config(),
    );
    let out = auction.run(&sell("P4.1", dec!(500000))).await;
    assert_eq!(filled_by(&out.result), "dealer-b");
    assert!(matches!(
        &out.attempts[0].order,
        Some((id, OrderOutcome::Rejected { reason: RejectReason::LastLook, .. })) if id == "P4.1.1.dealer-a"
    ));
    assert_eq!((a.trade_count(), b.trade_count()), (0, 1));
}

/// A seed whose first last-look draw (at probability 1/2) declines and second accepts,
/// found with the in-process simulator that the server runs.
fn seed_declining_then_accepting() -> u64 {
    (0..10_000)
        .find(|&seed| {
            let mut sim = RfqDealerSim::new(RfqConfig {
                id: VenueId("x".into()),
                instrument: INSTRUMENT.into(),
                bid_ladder: vec![Level {
                    px: dec!(1),
                    qty: dec!(10),
                }],
                ask_ladder: vec![],
                quote_validity: 1_000_000_000,
                accept_delay: 0,
                last_look_reject: 0.5,
                capacity: None,
                seed,
            });
            let mut next = || {
                let q = sim.request_quote(Side::Sell, dec!(1), 0).unwrap();
                sim.accept(&q, 0)
            };
            matches!(next(), VenueReport::Rejected { .. })
                && matches!(next(), VenueReport::Fill { .. })
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_look_reject_is_requoted_within_the_round_bound() {
    let seed = seed_declining_then_accepting();
    let d = dealer("dealer-a", dec!(0.9998), |c| {
        c.last_look_reject = 0.5;
        c.seed = seed;
    })
    .await;
    let auction = Auction::new(vec![client(&d, |_| {})], auction_config());
    let out = auction.run(&sell("P5.1", dec!(100))).await;
    assert_eq!(filled_by(&out.result), "dealer-a");
    assert_eq!(out.attempts.len(), 2);
    assert!(matches!(
        out.attempts[0].order,
        Some((
            _,
            OrderOutcome::Rejected {
                reason: RejectReason::LastLook,
                ..
            }
        ))
    ));
    assert_eq!((d.quotes_issued(), d.trade_count()), (2, 1));

    // A dealer that always declines is asked max_rounds times, then left.
    let never = dealer("dealer-n", dec!(0.9998), |c| c.last_look_reject = 1.0).await;
    let config = AuctionConfig {
        max_rounds: 3,
        ..auction_config()
    };
    let out = Auction::new(vec![client(&never, |_| {})], config)
        .run(&sell("P5.2", dec!(100)))
        .await;
    assert_eq!(out.result, AuctionResult::NotFilled);
    assert_eq!(out.reject_kind().0, RejectKind::LastLook);
    assert_eq!((never.quotes_issued(), never.trade_count()), (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_5xx_slow_and_malformed_dealers_are_skipped_and_no_fill_is_assumed() {
    let good = dealer("good", dec!(0.9995), |_| {}).await;
    let down = dealer("down", dec!(0.9999), |_| {}).await;
    let broken = dealer("broken", dec!(0.9999), |_| {}).await;
    let slow = dealer("slow", dec!(0.9999), |_| {}).await;
    let garbled = dealer("garbled", dec!(0.9999), |_| {}).await;
    down.set_fault(Fault::Down).await.unwrap();
    broken.set_fault(Fault::ServerError).await.unwrap();
    slow.set_fault(Fault::Slow(Duration::from_secs(30)))
        .await
        .unwrap();
    garbled.set_fault(Fault::Malformed).await.unwrap();
    let config = AuctionConfig {
        quote_deadline: Duration::from_secs(2),
        ..auction_config()
    };
    let dealers = [&good, &down, &broken, &slow, &garbled];
    let auction = Auction::new(dealers.iter().map(|d| client(d, |_| {})).collect(), config);
    let out = auction.run(&sell("P6.1", dec!(100))).await;
    assert_eq!(filled_by(&out.result), "good");
    let skipped: Vec<_> = out
        .attempts
        .iter()
        .map(|a| match &a.quote {
            QuoteOutcome::Skipped { reason, .. } => Some(*reason),
            QuoteOutcome::Quoted { .. } => None,
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            None,
            Some(SkipReason::Down),
            Some(SkipReason::ServerError),
            Some(SkipReason::Timeout),
            Some(SkipReason::Malformed),
        ]
    );
    let trades: Vec<u64> = dealers.iter().map(|d| d.trade_count()).collect();
    assert_eq!(trades, vec![1, 0, 0, 0, 0]);

    // With only the faulty ones, nothing trades and nothing is assumed.
    let auction = Auction::new(
        dealers[1..].iter().map(|d| client(d, |_| {})).collect(),
        config_with_deadline(Duration::from_millis(500)),
    );
    let out = auction.run(&sell("P6.2", dec!(100))).await;
    assert_eq!(out.result, AuctionResult::NotFilled);
    assert!(out.attempts.iter().all(|a| a.order.is_none()));
    assert_eq!(out.trade(), None);
}

fn config_with_deadline(d: Duration) -> AuctionConfig {
    AuctionConfig {
        quote_deadline: d,
        ..auction_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_order_with_the_same_client_id_trades_once() {
    let d = dealer("dealer-a", dec!(0.9998), |_| {}).await;
    // Each attempt gives up after 300 ms; the dealer loses its first answer.
    let dc = client(&d, |c| {
        c.request_timeout = Duration::from_millis(300);
        c.order_attempts = 3;
    });
    let q = dc
        .request_quote(&quote_request("r1", dec!(1000)))
        .await
        .unwrap();
    d.set_fault(Fault::LoseOrderResponses(1)).await.unwrap();
    let order = q.acceptance("C-1".into());
    let answer = dc.place_order(&order).await.unwrap();
    let OrderResult::Filled(trade) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(d.trade_count(), 1);
    // Sent again: the same trade, still one trade.
    let again = dc.place_order_once(&order).await.unwrap();
    assert_eq!(again, OrderResult::Filled(trade.clone()));
    assert_eq!(d.trade_count(), 1);
    // Reconciliation sees it; an order never sent is unknown.
    assert_eq!(
        dc.trade("C-1").await.unwrap(),
        Some(OrderResult::Filled(trade))
    );
    assert_eq!(dc.trade("C-never").await.unwrap(), None);
    // The same id for another order conflicts and trades nothing.
    let q2 = dc
        .request_quote(&quote_request("r2", dec!(5)))
        .await
        .unwrap();
    let err = dc
        .place_order_once(&q2.acceptance("C-1".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Refused { status: 409, .. }),
        "{err}"
    );
    assert_eq!(d.trade_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auction_stops_at_an_unresolved_acceptance_and_never_trades_elsewhere() {
    let a = dealer("dealer-a", dec!(0.9999), |_| {}).await;
    let b = dealer("dealer-b", dec!(0.9997), |_| {}).await;
    a.set_fault(Fault::LoseOrderResponses(10)).await.unwrap();
    let auction = Auction::new(
        vec![
            client(&a, |c| {
                c.request_timeout = Duration::from_millis(300);
                c.order_attempts = 2;
            }),
            client(&b, |_| {}),
        ],
        auction_config(),
    );
    let out = auction.run(&sell("P7.1", dec!(100))).await;
    assert_eq!(
        out.result,
        AuctionResult::Unresolved {
            dealer: VenueId("dealer-a".into()),
            client_order_id: "P7.1.1.dealer-a".into(),
        }
    );
    assert_eq!((a.trade_count(), b.trade_count()), (1, 0));
    let found = client(&a, |_| {}).trade("P7.1.1.dealer-a").await.unwrap();
    assert!(matches!(found, Some(OrderResult::Filled(_))), "{found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_key_gets_401() {
    let d = dealer("dealer-a", dec!(0.9998), |_| {}).await;
    let wrong = client(&d, |c| c.api_key = ApiKey::new("wrong-key").unwrap());
    let err = wrong
        .request_quote(&quote_request("r1", dec!(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("wrong-key"));

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = r#"{"client_request_id":"r","instrument":"USDC/USD","side":"sell","quantity":"1"}"#;
    let bare = http
        .post(format!("{}/v1/quotes", d.base_url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status().as_u16(), 401);
    let text = bare.text().await.unwrap();
    assert!(text.contains("unauthorized"), "{text}");
    let lookup = http
        .get(format!("{}/v1/trades/x", d.base_url()))
        .header("x-api-key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status().as_u16(), 401);

    // The right key as a Bearer token works.
    let bearer = client(&d, |c| c.auth = AuthScheme::Bearer);
    assert!(
        bearer
            .request_quote(&quote_request("r2", dec!(1)))
            .await
            .is_ok()
    );
    assert_eq!(d.quotes_issued(), 1);
}

// ---- RfqLink: the engine's side, driven from a plain thread like the engine's. ----

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn link_config(server: &DealerServer, stream_ladder: bool) -> RfqLinkConfig {
    let mut c = RfqLinkConfig::new(dealer_config(server));
    c.auction = auction_config();
    c.stream_ladder = stream_ladder;
    c
}

fn child(id: &str, side: Side, qty: Decimal, limit: Decimal) -> VenueOrder {
    VenueOrder {
        client_id: id.to_owned(),
        instrument: INSTRUMENT.to_owned(),
        side,
        qty,
        limit_px: limit,
    }
}

/// The reports on `client_id` until one is final (fill, reject, expiry).
fn reports(rx: &Receiver<LinkEvent>, client_id: &str) -> Vec<VenueReport> {
    let mut out = Vec::new();
    loop {
        match rx.recv_timeout(PATIENCE).unwrap() {
            LinkEvent::Report {
                client_id: id,
                report,
                ..
            } if id == client_id => {
                let done = !matches!(report, VenueReport::Ack);
                out.push(report);
                if done {
                    return out;
                }
            }
            _ => {}
        }
    }
}

/// The next event that `pick` accepts; others are skipped.
fn wait_for<T>(rx: &Receiver<LinkEvent>, mut pick: impl FnMut(&LinkEvent) -> Option<T>) -> T {
    loop {
        let ev = rx.recv_timeout(PATIENCE).unwrap();
        if let Some(t) = pick(&ev) {
            return t;
        }
    }
}

#[test]
fn rfq_link_sends_ack_then_fill() {
    let rt = runtime();
    let d = rt.block_on(dealer("dealer-a", dec!(0.9998), |_| {}));
    let (tx, rx) = crossbeam_channel::bounded(64);
    let mut config = link_config(&d, false);
    config.dealer.fee_bps = dec!(1);
    let link = RfqLink::start(config, rt.handle().clone(), tx).unwrap();
    assert_eq!(link.id().as_str(), "dealer-a");
    link.send(child("P1.1", Side::Sell, dec!(1000000), dec!(0.999)))
        .unwrap();
    let r = reports(&rx, "P1.1");
    let VenueReport::Fill { exec_id, .. } = &r[1] else {
        panic!("{r:?}")
    };
    assert!(!exec_id.is_empty(), "the dealer's trade id names the fill");
    assert_eq!(
        r,
        vec![
            VenueReport::Ack,
            VenueReport::Fill {
                qty: dec!(1000000),
                px: dec!(0.9998),
                fee: dec!(99.98),
                exec_id: exec_id.clone(),
            }
        ]
    );
    assert_eq!(d.trade_count(), 1);
    // A limit the quote cannot meet: refused before any acceptance.
    link.send(child("P1.2", Side::Sell, dec!(10), dec!(0.99990)))
        .unwrap();
    assert!(matches!(
        reports(&rx, "P1.2")[..],
        [VenueReport::Rejected {
            kind: RejectKind::QuoteOffLimit,
            ..
        }]
    ));
    // Another instrument: invalid.
    let mut other = child("P1.3", Side::Sell, dec!(10), dec!(0.9));
    other.instrument = "USDT/USD".into();
    link.send(other).unwrap();
    assert!(matches!(
        reports(&rx, "P1.3")[..],
        [VenueReport::Rejected {
            kind: RejectKind::Invalid,
            ..
        }]
    ));
    assert_eq!(d.trade_count(), 1);
    assert_eq!(
        link.cancel("P1.1"),
        Err(LinkError::UnknownChild {
            venue: VenueId("dealer-a".into()),
            client_id: "P1.1".into()
        })
    );
}

#[test]
fn rfq_link_reports_last_look_as_rejected() {
    let rt = runtime();
    let d = rt.block_on(dealer("dealer-a", dec!(0.9998), |c| {
        c.last_look_reject = 1.0
    }));
    let (tx, rx) = crossbeam_channel::bounded(64);
    let link = RfqLink::start(link_config(&d, false), rt.handle().clone(), tx).unwrap();
    link.send(child("P2.1", Side::Sell, dec!(100), dec!(0.999)))
        .unwrap();
    let r = reports(&rx, "P2.1");
    assert!(
        matches!(
            r[..],
            [VenueReport::Rejected {
                kind: RejectKind::LastLook,
                ..
            }]
        ),
        "{r:?}"
    );
    assert_eq!(d.trade_count(), 0);
}

#[test]
fn rfq_link_cancel_while_quoting_ends_the_child_unfilled() {
    let rt = runtime();
    // The dealer takes 2 s to answer anything: the cancel lands while quoting.
    let d = rt.block_on(dealer("dealer-a", dec!(0.9998), |c| {
        c.latency.base = Duration::from_secs(2)
    }));
    let (tx, rx) = crossbeam_channel::bounded(64);
    let link = RfqLink::start(link_config(&d, false), rt.handle().clone(), tx).unwrap();
    link.send(child("P3.1", Side::Sell, dec!(100), dec!(0.999)))
        .unwrap();
    assert_eq!(link.cancel("P3.1"), Ok(()));
    assert_eq!(
        reports(&rx, "P3.1"),
        vec![VenueReport::Expired {
            unfilled: dec!(100)
        }]
    );
    assert_eq!(d.trade_count(), 0);
    assert_eq!(link.in_flight(), 0);
}

#[test]
fn rfq_link_reconciles_a_lost_answer_with_a_trade_lookup() {
    let rt = runtime();
    let d = rt.block_on(dealer("dealer-a", dec!(0.9998), |_| {}));
    rt.block_on(d.set_fault(Fault::LoseOrderResponses(5)))
        .unwrap();
    let (tx, rx) = crossbeam_channel::bounded(64);
    let mut config = link_config(&d, false);
    config.dealer.request_timeout = Duration::from_millis(300);
    config.dealer.order_attempts = 2;
    config.reconcile_every = Duration::from_millis(50);
    let link = RfqLink::start(config, rt.handle().clone(), tx).unwrap();
    link.send(child("P4.1", Side::Sell, dec!(100), dec!(0.999)))
        .unwrap();
    let r = reports(&rx, "P4.1");
    let VenueReport::Fill { exec_id, .. } = &r[1] else {
        panic!("{r:?}")
    };
    assert_eq!(
        r,
        vec![
            VenueReport::Ack,
            VenueReport::Fill {
                qty: dec!(100),
                px: dec!(0.9998),
                fee: dec!(0),
                exec_id: exec_id.clone(),
            }
        ]
    );
    assert_eq!(d.trade_count(), 1);
}

fn ladder_dealer() -> RfqConfig {
    let tier = |px, qty| Level { px, qty };
    RfqConfig {
        id: VenueId("dealer-l".into()),
        instrument: INSTRUMENT.into(),
        bid_ladder: vec![
            tier(dec!(0.9999), dec!(1000000)),
            tier(dec!(0.9997), dec!(5000000)),
        ],
        ask_ladder: vec![
            tier(dec!(1.0001), dec!(1000000)),
            tier(dec!(1.0003), dec!(5000000)),
        ],
        quote_validity: 5_000_000_000,
        accept_delay: 0,
        last_look_reject: 0.0,
        capacity: Some(dec!(3000000)),
        seed: 3,
    }
}

fn liquidity_pair(rx: &Receiver<LinkEvent>) -> [venues::Liquidity; 2] {
    let sell = wait_for(rx, |e| match e {
        LinkEvent::Liquidity(l) if l.side == Side::Sell => Some(l.clone()),
        _ => None,
    });
    let buy = wait_for(rx, |e| match e {
        LinkEvent::Liquidity(l) if l.side == Side::Buy => Some(l.clone()),
        _ => None,
    });
    [sell, buy]
}

#[test]
fn rfq_link_streams_the_ladder_as_liquidity_shaped_like_the_simulator() {
    let rt = runtime();
    let cfg = ladder_dealer();
    let d = rt.block_on(async {
        DealerServer::start(
            DealerSimConfig::from_rfq_config(&cfg, key()),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap()
    });
    let mut sim = RfqDealerSim::new(cfg);
    let (tx, rx) = crossbeam_channel::bounded(64);
    let link = RfqLink::start(link_config(&d, true), rt.handle().clone(), tx).unwrap();
    let up = wait_for(&rx, |e| match e {
        LinkEvent::Connection { up, .. } => Some(*up),
        _ => None,
    });
    assert!(up);
    let [sell, buy] = liquidity_pair(&rx);
    assert_eq!(sell, sim.liquidity(Side::Sell, 0));
    assert_eq!(buy, sim.liquidity(Side::Buy, 0));

    // A 2.5M trade leaves 0.5M of capacity: a ladder showing it follows at once (its
    // events and the child's reports may interleave).
    let order = child("P5.1", Side::Sell, dec!(2500000), dec!(0.999));
    link.send(order.clone()).unwrap();
    let expected = sim.execute(&order, 0);
    let (mut r, mut sell, mut buy) = (Vec::new(), None, None);
    while r.len() < 2 || sell.is_none() || buy.is_none() {
        match rx.recv_timeout(PATIENCE).unwrap() {
            LinkEvent::Report {
                client_id, report, ..
            } if client_id == "P5.1" => r.push(report),
            LinkEvent::Liquidity(l) if l.shape.depth() == dec!(500000) => match l.side {
                Side::Sell => sell = Some(l),
                Side::Buy => buy = Some(l),
            },
            _ => {}
        }
    }
    assert_eq!(r, expected);
    assert!(
        matches!(r[..], [VenueReport::Ack, VenueReport::Fill { .. }]),
        "{r:?}"
    );
    assert_eq!(sell.unwrap(), sim.liquidity(Side::Sell, 0));
    assert_eq!(buy.unwrap(), sim.liquidity(Side::Buy, 0));
}

#[test]
fn rfq_link_reports_a_dealer_going_down_and_coming_back() {
    let rt = runtime();
    let d = rt.block_on(dealer("dealer-a", dec!(0.9998), |_| {}));
    let (tx, rx) = crossbeam_channel::bounded(64);
    let mut config = link_config(&d, true);
    config.dealer.reconnect_min = Duration::from_millis(20);
    config.dealer.reconnect_max = Duration::from_millis(200);
    let _link = RfqLink::start(config, rt.handle().clone(), tx).unwrap();
    let connection = |rx: &Receiver<LinkEvent>| {
        wait_for(rx, |e| match e {
            LinkEvent::Connection { up, reason, .. } => Some((*up, reason.clone())),
            _ => None,
        })
    };
    assert!(connection(&rx).0);
    liquidity_pair(&rx);
    rt.block_on(d.set_fault(Fault::Down)).unwrap();
    let (up, reason) = connection(&rx);
    assert!(!up, "{reason}");
    rt.block_on(d.set_fault(Fault::None)).unwrap();
    assert!(connection(&rx).0);
    // The ladder is sent again after the reconnect.
    liquidity_pair(&rx);
}

async fn next(sub: &mut venues::rfq::LadderSubscription) -> LadderEvent {
    tokio::time::timeout(PATIENCE, sub.next())
        .await
        .unwrap()
        .unwrap()
}

#[test]
fn a_silent_ladder_stream_misses_its_heartbeat_and_reconnects() {
    let rt = runtime();
    let d = rt.block_on(dealer("dealer-a", dec!(0.9998), |c| {
        c.heartbeat_interval = Duration::from_millis(50)
    }));
    let dc = client(&d, |c| {
        c.heartbeat_timeout = Duration::from_millis(300);
        c.reconnect_min = Duration::from_millis(20);
    });
    rt.block_on(async {
        let mut sub = dc.subscribe_ladder(&tokio::runtime::Handle::current());
        assert_eq!(next(&mut sub).await, LadderEvent::Up);
        assert!(matches!(
            next(&mut sub).await,
            LadderEvent::Ladder { seq: 1, .. }
        ));
        d.set_fault(Fault::SilentStream).await.unwrap();
        let reason = loop {
            match next(&mut sub).await {
                LadderEvent::Down { reason } => break reason,
                LadderEvent::Ladder { .. } => {}
                LadderEvent::Up => panic!("up while silent"),
            }
        };
        assert!(reason.contains("heartbeat"), "{reason}");
        d.set_fault(Fault::None).await.unwrap();
        loop {
            if next(&mut sub).await == LadderEvent::Up {
                break;
            }
        }
    });
}
