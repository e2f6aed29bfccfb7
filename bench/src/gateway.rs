//! What the gateway's load and latency benchmarks share: the market (one deep FIX book),
//! loopback ports and desk clients.

use fix::client::{ClientConfig, DeskClient};
use fix::session::SessionError;
use std::path::Path;

/// The gateway's market in the gateway benchmarks: one book venue `book-x`, deep
/// enough that no parent of theirs walks it, no simulated latency.
pub const ONE_BOOK_MARKET: &str = r#"
name = "gateway-bench"
seed = 1
[valuation]
currency = "USD"
[valuation.references]
USDC = "1"
[[venues]]
id = "book-x"
kind = "book"
instrument = "USDC/USD"
latency_ms = 0
taker_fee_bps = "2"
replenish_per_sec = "1"
depth = { mid = "1.00000", half_spread = "0.00005", tick = "0.00001", levels = 20, first_qty = "100000000", qty_step = "0" }
"#;

/// A loopback port free when asked (`fallback` if the system gives none).
pub fn free_port(fallback: u16) -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(fallback)
}

/// A desk client `desk` → `gateway` on loopback `port`, its store under
/// `dir/client-<desk>`, without a password.
pub fn desk_client(
    port: u16,
    desk: &str,
    gateway: &str,
    dir: &Path,
) -> Result<DeskClient, SessionError> {
    DeskClient::start(ClientConfig {
        host: "127.0.0.1".into(),
        port,
        desk: desk.into(),
        gateway: gateway.into(),
        credentials: None,
        data_dir: dir.join(format!("client-{desk}")),
        heartbeat_secs: 30,
    })
}
