//! `sor serve` without `--sim`: every venue reached at the address its gateway config
//! gives, with credentials from the environment, as it would be in production. The
//! venues here are the simulators, started by the test on loopback; the gateway is the
//! real binary in its own process, stopped with SIGINT.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;
use common::{deep_usdc_exchange, desk1, free_port, pool_chain, pool_market, temp_dir};
use fix::client::{DeskClient, FixFields};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use venues::Level;
use venues::chain::sim::SimPool;
use venues::rfq::{ApiKey, DealerServer, DealerSimConfig, Pricing};

const WAIT: Duration = Duration::from_secs(15);

/// The pool, an exchange book and a dealer.
const OTHER_VENUES: &str = r#"
[[venues]]
id = "book-x"
kind = "book"
instrument = "USDC/USD"
taker_fee_bps = "2"
bids = [["0.9999", "1000"]]
asks = [["1.0001", "1000"]]

[[venues]]
id = "dealer-a"
kind = "rfq"
instrument = "USDC/USD"
bids = [["0.99995", "1000000"]]
asks = [["1.00005", "1000000"]]
"#;

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    child.wait().unwrap()
}

/// The fills of parent `id` until it is filled; `None` when the router had no venue
/// able to take it yet (its market data, ladders or pool state not in yet: the parent
/// is cancelled with nothing filled, and the caller tries again).
fn fills_for(desk: &DeskClient, id: &str) -> Option<Vec<FixFields>> {
    let mut fills = Vec::new();
    loop {
        let r = desk
            .next_app(WAIT, |f| f.msg_type() == "8" && f.get(11) == Some(id))
            .unwrap_or_else(|| panic!("no report for {id}"));
        match r.get(150) {
            Some("0") => continue,
            Some("F") => {
                let done = r.get(39) == Some("2");
                fills.push(r);
                if done {
                    return Some(fills);
                }
            }
            Some("C" | "4")
                if fills.is_empty()
                    && r.get(58).is_some_and(|t| t.contains("no venue could take")) =>
            {
                return None;
            }
            other => panic!("{id}: unexpected {other:?}: {r:?}"),
        }
    }
}

fn order(desk: &DeskClient, id: &str, qty: &str, venue: &str) {
    let fields = [
        (11, id),
        (55, "USDC/USD"),
        (54, "2"),
        (38, qty),
        (40, "1"),
        (60, "20261123-10:00:00.000"),
    ];
    desk.send_order(&fields, &[("Venues", venue)]).unwrap();
}

#[test]
fn sor_serve_reaches_configured_venues_without_sim() {
    let dir = temp_dir("real");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // The venues: an exchange, a dealer, a chain.
    let xport = free_port();
    let exchange = deep_usdc_exchange(xport, &dir, 9);
    let dealer_key = "dealer-a-test-key-7f3c";
    let dealer = rt
        .block_on(DealerServer::start(
            DealerSimConfig::new(
                "dealer-a",
                ApiKey::new(dealer_key).unwrap(),
                "USDC/USD",
                Pricing::Ladders {
                    bid: vec![Level {
                        px: dec!(0.99995),
                        qty: dec!(1000000),
                    }],
                    ask: vec![Level {
                        px: dec!(1.00005),
                        qty: dec!(1000000),
                    }],
                },
            ),
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .unwrap();
    let chain = pool_chain(rt.handle(), Some(Duration::from_millis(200)));

    // The gateway's config: each venue's address, credentials by environment variable.
    let port = free_port();
    std::fs::write(
        dir.join("market.toml"),
        pool_market("real-endpoints", OTHER_VENUES),
    )
    .unwrap();
    let config = format!(
        r#"
[gateway]
port = {port}
data_dir = "{data}"
market = "market.toml"

[desks.DESK1]

[venues.book-x]
fix = {{ host = "127.0.0.1", port = {xport}, target = "XCH", reconnect_secs = 1 }}

[venues.dealer-a]
rfq = {{ url = "{dealer_url}", api_key_env = "TEST_DEALER_A_KEY" }}

[venues.pool-cwusdc]
chain = {{ rpc_url = "{rpc}", pool = "{pool}", router = "{router}", key_env = "TEST_CHAIN_KEY" }}
"#,
        data = dir.join("gateway-data").display(),
        dealer_url = dealer.base_url(),
        rpc = chain.url(),
        pool = SimPool::address_for(1),
        router = chain.router(),
    );
    let config_path = dir.join("gateway.toml");
    std::fs::write(&config_path, config).unwrap();

    // Without the dealer's key in the environment the gateway refuses to start, naming it.
    let out = Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(["serve", config_path.to_str().unwrap()])
        .env_remove("TEST_DEALER_A_KEY")
        .env("TEST_CHAIN_KEY", "11".repeat(32))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("venues.dealer-a.rfq.api_key_env"),
        "{stderr}"
    );
    assert!(!stderr.contains(dealer_key));

    let child = Command::new(env!("CARGO_BIN_EXE_sor"))
        .args(["serve", config_path.to_str().unwrap()])
        .env("TEST_DEALER_A_KEY", dealer_key)
        .env("TEST_CHAIN_KEY", "11".repeat(32))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut gateway = Gateway(child);

    let desk = desk1(port, &dir);
    assert!(desk.wait_logon(WAIT), "desk logon");
    // Market data, ladders and the first block of pool state reach the router.
    std::thread::sleep(Duration::from_millis(1500));

    for (id, qty, venue) in [
        ("x-1", "1000", "book-x"),
        ("d-1", "500000", "dealer-a"),
        ("c-1", "50", "pool-cwusdc"),
    ] {
        // Under load the venues' first state can take longer than the pause above.
        let mut fills = None;
        for attempt in 0..20 {
            let id = format!("{id}-{attempt}");
            order(&desk, &id, qty, venue);
            fills = fills_for(&desk, &id);
            if fills.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let fills = fills.unwrap_or_else(|| panic!("{venue}: no fill in 20 attempts"));
        assert!(fills.iter().all(|f| f.get(30) == Some(venue)), "{fills:?}");
        let cum: Decimal = fills
            .iter()
            .map(|f| f.get(32).unwrap().parse::<Decimal>().unwrap())
            .sum();
        assert_eq!(cum, qty.parse::<Decimal>().unwrap());
    }
    assert_eq!(dealer.trade_count(), 1);

    desk.stop();
    let status = interrupt(&mut gateway.0);
    assert!(status.success(), "gateway exit {status:?}");
    drop(chain);
    exchange.stop();
    rt.block_on(dealer.shutdown());
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}
