//! RFQ round trip over loopback HTTP against simulated dealers with zero simulated
//! latency: `cargo run --release -p bench --bin rfq-roundtrip [ITERATIONS]`.
//!
//! Measures, into hdrhistograms, per iteration on one keep-alive connection: the quote
//! (`POST /v1/quotes`), the acceptance (`POST /v1/orders`), and the whole round trip
//! request → quote → trade; then a parallel RFQ over three dealers (quote all, accept
//! the best); then sequential quotes per second on one connection to each dealer. The
//! dealers run on their own one-worker runtime (thread), the client on a
//! current-thread runtime in the main thread: two threads, like two processes on the
//! machine's two cores.

use hdrhistogram::Histogram;
use rust_decimal::Decimal;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use venues::rfq::wire::{OrderResult, QuoteRequest};
use venues::rfq::{
    ApiKey, Auction, AuctionConfig, AuctionRequest, AuctionResult, DealerClient, DealerConfig,
    DealerServer, DealerSimConfig, Pricing,
};
use venues::{Level, Side};

const INSTRUMENT: &str = "USDC/USD";
const KEY: &str = "bench-key";

fn histogram() -> Result<Histogram<u64>, String> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| e.to_string())
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1);
    let _ = h.record(ns);
}

fn row(name: &str, h: &Histogram<u64>) {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:<28} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>8.1}",
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        h.max() as f64 / 1000.0
    );
}

fn dealer_config(id: &str, bid: Decimal, seed: u64) -> Result<DealerSimConfig, String> {
    let key = ApiKey::new(KEY).map_err(|e| e.to_string())?;
    let tier = |px: Decimal, qty: i64| Level {
        px,
        qty: Decimal::from(qty),
    };
    let spread = Decimal::new(4, 4);
    let mut c = DealerSimConfig::new(
        id,
        key,
        INSTRUMENT,
        Pricing::Ladders {
            bid: vec![tier(bid, 1_000_000), tier(bid - spread, 10_000_000)],
            ask: vec![
                tier(bid + spread, 1_000_000),
                tier(bid + spread + spread, 10_000_000),
            ],
        },
    );
    c.quote_validity = Duration::from_secs(10);
    c.seed = seed;
    Ok(c)
}

fn client(server_url: &str, id: &str) -> Result<DealerClient, String> {
    let key = ApiKey::new(KEY).map_err(|e| e.to_string())?;
    DealerClient::new(DealerConfig::new(id, server_url, key, INSTRUMENT)).map_err(|e| e.to_string())
}

fn quote_request(id: String) -> QuoteRequest {
    QuoteRequest {
        client_request_id: id,
        instrument: INSTRUMENT.to_owned(),
        side: Side::Sell,
        quantity: Decimal::from(250_000),
    }
}

fn main() -> ExitCode {
    let iterations: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 5_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: ITERATIONS must be a whole number greater than 0");
            return ExitCode::from(2);
        }
    };
    match run(iterations) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(iterations: u64) -> Result<(), String> {
    let servers_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("dealers")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let bids = [
        Decimal::new(9998, 4),
        Decimal::new(9997, 4),
        Decimal::new(9996, 4),
    ];
    let mut servers = Vec::new();
    for (i, bid) in bids.iter().enumerate() {
        let id = format!("dealer-{}", i + 1);
        let config = dealer_config(&id, *bid, i as u64 + 1)?;
        let bind = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
        let server = servers_rt
            .block_on(DealerServer::start(config, bind))
            .map_err(|e| e.to_string())?;
        servers.push(server);
    }
    let clients = servers
        .iter()
        .map(|s| client(&s.base_url(), s.id().as_str()))
        .collect::<Result<Vec<_>, _>>()?;

    let result = client_rt.block_on(async {
        let one = &clients[0];
        // Warm-up: connection, allocator, caches.
        for i in 0..iterations.min(500) {
            let q = one
                .request_quote(&quote_request(format!("w{i}")))
                .await
                .map_err(|e| e.to_string())?;
            one.place_order_once(&q.acceptance(format!("w{i}")))
                .await
                .map_err(|e| e.to_string())?;
        }
        let (mut h_quote, mut h_order, mut h_rt) = (histogram()?, histogram()?, histogram()?);
        for i in 0..iterations {
            let t0 = Instant::now();
            let q = one
                .request_quote(&quote_request(format!("q{i}")))
                .await
                .map_err(|e| e.to_string())?;
            let t1 = Instant::now();
            let answer = one
                .place_order_once(&q.acceptance(format!("o{i}")))
                .await
                .map_err(|e| e.to_string())?;
            let t2 = Instant::now();
            if !matches!(answer, OrderResult::Filled(_)) {
                return Err(format!("iteration {i}: not filled: {answer:?}"));
            }
            record(&mut h_quote, t1 - t0);
            record(&mut h_order, t2 - t1);
            record(&mut h_rt, t2 - t0);
        }

        let auction = Auction::new(
            clients.clone(),
            AuctionConfig {
                quote_deadline: Duration::from_secs(1),
                ..AuctionConfig::default()
            },
        );
        let auctions = (iterations / 2).max(1);
        let mut h_auction = histogram()?;
        for i in 0..auctions {
            let req = AuctionRequest {
                request_id: format!("a{i}"),
                instrument: INSTRUMENT.to_owned(),
                side: Side::Sell,
                quantity: Decimal::from(250_000),
                limit: Some(Decimal::new(999, 3)),
            };
            let t0 = Instant::now();
            let out = auction.run(&req).await;
            record(&mut h_auction, t0.elapsed());
            if !matches!(out.result, AuctionResult::Filled { .. }) {
                return Err(format!("auction {i}: {:?}", out.result));
            }
        }

        let mut rates = Vec::new();
        for c in &clients {
            let t0 = Instant::now();
            for i in 0..iterations {
                c.request_quote(&quote_request(format!("r{i}")))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            rates.push((
                c.venue().clone(),
                iterations as f64 / t0.elapsed().as_secs_f64(),
            ));
        }
        Ok::<_, String>((h_quote, h_order, h_rt, h_auction, auctions, rates))
    });
    let (h_quote, h_order, h_rt, h_auction, auctions, rates) = result?;

    println!(
        "RFQ over loopback HTTP/1.1, keep-alive, zero simulated latency (n = {iterations}; auctions n = {auctions})"
    );
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>9} {:>8}",
        "path (µs)", "p50", "p90", "p99", "p99.9", "max"
    );
    row("quote (POST /v1/quotes)", &h_quote);
    row("accept (POST /v1/orders)", &h_order);
    row("round trip quote → trade", &h_rt);
    row("auction, 3 dealers → trade", &h_auction);
    println!();
    println!("sequential quotes per second, one keep-alive connection per dealer:");
    for (venue, rate) in rates {
        println!("  {venue:<10} {rate:>10.0} quotes/s");
    }
    let trades: u64 = servers.iter().map(|s| s.trade_count()).sum();
    println!("trades confirmed by the dealers: {trades}");
    for s in servers {
        servers_rt.block_on(s.shutdown());
    }
    Ok(())
}
