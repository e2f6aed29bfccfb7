//! `sor serve`: the long-running gateway.
//!
//! Desks connect over FIX 4.4 to the acceptor ([`fix::desk::DeskApp`]); their
//! requests are handled on the desk session's own thread when the engine is free
//! ([`shared::SharedCore`]: run to completion), else go through a bounded queue to the
//! engine thread ([`core::Core`]). The engine routes children to the venues through
//! [`venues::VenueLink`]s and answers the desks with ExecutionReports. [`Gateway::start`] brings it all up (returning once the
//! acceptor listens) and [`Gateway::stop`] takes it down in order: the engine first
//! (cancelling open parents if so configured, so the desks hear the outcome), then the
//! venue links, then the FIX sessions (Logout).

pub mod admission;
pub mod config;
pub mod core;
pub mod cpu_time;
pub mod durable;
pub mod inspect;
pub mod risk_live;
pub mod shared;
pub mod sim_link;

pub use config::{
    ChainConnect, ConfigError, FixConnect, GatewayConfig, OnShutdown, RfqConnect, RiskSetup,
    VenueConnect,
};
pub use core::{Control, CoreSummary, Hops, Inbound, InlineCounts};

use crate::clock::SystemClock;
use crate::engine::Engine;
use crate::gate::AnyGate;
use crate::ingress;
use crate::scenario::Scenario;
use crossbeam_channel::{Sender, bounded};
use durable::{Durable, Entry, Recovery};
use fix::desk::{
    DEFAULT_OUTBOX_CAPACITY, DeskApp, DeskHandler, DeskOutbox, DeskRequest, ExecIds, Refusal,
    WriterStats,
};
use fix::session::{EndpointConfig, Role, SessionError, SessionHost};
use risk::{Gate, MinimalGate};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use venues::chain::sim::{ChainSim, ChainSimConfig, SimPool};
use venues::chain::{ChainLink, ChainLinkConfig, KeySource, SecretKeyHex, TokenInfo};
use venues::exchange::{ExchangeConfig, ExchangeSim, FixBookConfig, FixBookLink, SymbolConfig};
use venues::pool_math::ExactPmm;
use venues::rfq::{
    ApiKey, DealerConfig, DealerServer, DealerSimConfig, LatencyModel, RfqLink, RfqLinkConfig,
};
use venues::sim::{BookConfig, PoolConfig, RfqConfig};
use venues::{InlineEvents, InlineSlot, LinkEvent, LinkSink, Nanos, VenueLink};

/// Bound of the venues → engine queue (adapters block when it is full).
const LINK_QUEUE: usize = 65_536;
/// How often a simulated venue republishes its liquidity.
const SIM_REFRESH: Duration = Duration::from_millis(100);

/// Why the gateway could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration or market file is invalid.
    #[error("{0}")]
    Config(String),
    /// A FIX endpoint could not start.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A thread could not be started.
    #[error("starting thread {what}: {source}")]
    Thread {
        /// Which.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The engine thread died.
    #[error("engine thread panicked")]
    EnginePanicked,
    /// The journal could not be opened, read or replayed.
    #[error("{0}")]
    Journal(String),
}

/// The desk acceptor's side of the engine queue.
struct DeskSide {
    tx: Sender<Inbound>,
    /// The engine, shared with its thread.
    core: Arc<shared::SharedCore<AnyGate>>,
    /// Whether a desk's thread may handle its own request (run to completion).
    inline: bool,
    /// Whether to read the thread's CPU time over each parent's hop (`hop_cpu_time`).
    hop_cpu_time: bool,
    capacity: usize,
    service: Arc<admission::ServiceTime>,
    max_wait: Duration,
}

impl DeskHandler for DeskSide {
    fn request(&self, desk: &str, request: DeskRequest, received: Instant) -> Result<(), Refusal> {
        // New parents are admitted by the time the queue ahead would take; cancels and
        // status requests only by the queue's room.
        if matches!(request, DeskRequest::New(_)) {
            let queued = self.tx.len();
            if let Some(wait) = self.service.over(queued, self.max_wait) {
                return Err(Refusal::Busy(format!(
                    "the {queued} requests queued ahead would keep it about {} ms (max_queue_wait_ms = {}); nothing was done, retry later",
                    wait.as_millis(),
                    self.max_wait.as_millis()
                )));
            }
        }
        let inbound = match request {
            DeskRequest::New(order) => {
                let parent = ingress::parent_from_fix(desk, order)
                    .map_err(|e| Refusal::Invalid(e.to_string()))?;
                // Read before `decoded`, so the CPU time spans the whole hop.
                let cpu = self.hop_cpu_time.then(cpu_time::CpuMark::now);
                Inbound::New {
                    parent,
                    arrival: core::Arrival {
                        received,
                        decoded: Instant::now(),
                        cpu,
                    },
                }
            }
            DeskRequest::Cancel(request) => Inbound::Cancel {
                desk: desk.to_owned(),
                request,
            },
            DeskRequest::Status(request) => Inbound::Status {
                desk: desk.to_owned(),
                request,
            },
        };
        let inbound = if self.inline {
            match self.core.try_inline(inbound, &self.tx) {
                None => return Ok(()),
                Some(queued) => queued,
            }
        } else {
            inbound
        };
        self.core.enqueue(inbound, &self.tx).map_err(|e| match e {
            shared::NotQueued::Full => Refusal::Busy(format!(
                "inbound queue full ({} requests); nothing was done, retry later",
                self.capacity
            )),
            shared::NotQueued::Stopped => {
                Refusal::Busy("the gateway is shutting down; nothing was done".into())
            }
        })
    }
}

/// The venue sessions' side of the engine: a FIX venue's event is handled on the
/// session's thread when the engine is free (see [`shared::SharedCore::try_inline_link`]).
struct VenueSide {
    /// Weak: the links that hold this are owned by the engine.
    core: std::sync::Weak<shared::SharedCore<AnyGate>>,
}

impl InlineEvents for VenueSide {
    fn try_handle(&self, event: LinkEvent) -> Option<LinkEvent> {
        match self.core.upgrade() {
            Some(core) => core.try_inline_link(event),
            None => Some(event),
        }
    }
}

/// How long `--sim` waits for a FIX venue session to log on before going on without it.
const FIX_LOGON_WAIT: Duration = Duration::from_secs(5);

/// Starts the FIX exchange simulator for `book` on a free loopback port and the
/// gateway's FIX adapter connected to it.
fn start_fix_book(
    config: &GatewayConfig,
    book: &BookConfig,
    one_way: Nanos,
    seed: u64,
    run_prefix: &str,
    sink: LinkSink,
    inline: &InlineSlot,
) -> Result<(ExchangeSim, FixBookLink), ServeError> {
    let venue = book.id.clone();
    let comp_id: String = venue
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '-'
            }
        })
        .collect();
    let dir = config.data_dir.join("venues").join(venue.as_str());
    // A free port is only free until someone else binds it: another process (or our own
    // desk acceptor's port, chosen before) may take it first, so try a few.
    let mut attempt = 0;
    let (exchange, port) = loop {
        attempt += 1;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|source| ServeError::Thread {
                what: format!("a port for exchange {venue}"),
                source,
            })?;
        if port == config.port {
            continue;
        }
        let started = ExchangeSim::start(ExchangeConfig {
            comp_id: comp_id.clone(),
            port,
            clients: vec![config.comp_id.clone()],
            data_dir: dir.join("exchange"),
            symbols: vec![SymbolConfig {
                symbol: book.instrument.clone(),
                bids: book.bids.clone(),
                asks: book.asks.clone(),
                taker_fee_bps: book.taker_fee_bps,
                replenish_per_sec: book.replenish_per_sec,
            }],
            latency: Duration::from_nanos(one_way),
            reject_rate: 0.0,
            seed,
            refresh: SIM_REFRESH,
        });
        match started {
            Ok(x) => break (x, port),
            Err(e) if attempt < 5 => {
                tracing::warn!(%venue, port, "exchange simulator could not start ({e}); another port");
            }
            Err(e) => return Err(e.into()),
        }
    };
    let link = FixBookLink::start(
        FixBookConfig {
            venue: venue.clone(),
            instrument: book.instrument.clone(),
            host: "127.0.0.1".into(),
            port,
            sender: config.comp_id.clone(),
            target: comp_id,
            data_dir: dir.join("link"),
            taker_fee_bps: book.taker_fee_bps,
            cl_ord_prefix: run_prefix.to_owned(),
            reconnect_secs: 1,
        },
        sink,
        inline.clone(),
    )?;
    let deadline = Instant::now() + FIX_LOGON_WAIT;
    while !link.is_up() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if link.is_up() {
        tracing::info!(%venue, port, "FIX venue session up (exchange simulator)");
    } else {
        tracing::warn!(%venue, port, "FIX venue session not up yet; the gateway routes around it");
    }
    Ok((exchange, link))
}

/// Starts the HTTP/WebSocket dealer simulator for `dealer` on a free loopback port
/// (answering after the venue's one-way latency) and the RFQ adapter connected to it,
/// with a fresh API key for this run.
fn start_rfq_dealer(
    runtime: &tokio::runtime::Runtime,
    dealer: &RfqConfig,
    one_way: Nanos,
    run_prefix: &str,
    sink: LinkSink,
) -> Result<(DealerServer, RfqLink), ServeError> {
    use rand::Rng;
    let key = format!("sim-{:032x}", rand::rng().random::<u128>());
    let api_key = |k: &str| ApiKey::new(k).map_err(|e| ServeError::Config(e.to_string()));
    let mut sim = DealerSimConfig::from_rfq_config(dealer, api_key(&key)?);
    sim.latency = LatencyModel {
        base: Duration::from_nanos(one_way),
        jitter: Duration::ZERO,
    };
    let bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = runtime
        .block_on(DealerServer::start(sim, bind))
        .map_err(|e| ServeError::Config(format!("dealer simulator {}: {e}", dealer.id)))?;
    let config = RfqLinkConfig {
        order_prefix: run_prefix.to_owned(),
        ..RfqLinkConfig::new(DealerConfig::new(
            dealer.id.as_str(),
            &server.base_url(),
            api_key(&key)?,
            &dealer.instrument,
        ))
    };
    let link = RfqLink::start(config, runtime.handle().clone(), sink)
        .map_err(|e| ServeError::Config(format!("RFQ link {}: {e}", dealer.id)))?;
    tracing::info!(venue = %dealer.id, url = %server.base_url(), "RFQ dealer up (dealer simulator)");
    Ok((server, link))
}

/// Gas units one simulated swap burns (the chain simulator's and the adapter's estimate).
const SIM_SWAP_GAS: u64 = 150_000;
/// How often the chain simulator mines a block.
const SIM_BLOCK_INTERVAL: Duration = Duration::from_millis(250);

/// Starts one chain simulator holding every exact pool of the market (gas priced so a
/// swap costs what the market file says) and a JSON-RPC adapter per pool, signing
/// with a key made for this run; each adapter's swap log is under `data_dir`.
fn start_chain(
    runtime: &tokio::runtime::Runtime,
    pools: &[(PoolConfig, ExactPmm)],
    seed: u64,
    sink: LinkSink,
    data_dir: &std::path::Path,
) -> Result<(ChainSim, Vec<ChainLink>), ServeError> {
    use rand::Rng;
    let config_err = |what: String| ServeError::Config(what);
    // Gas price in wei such that SIM_SWAP_GAS units cost the pool's gas_cost.
    let wei = |cost: rust_decimal::Decimal| -> u128 {
        use rust_decimal::prelude::ToPrimitive;
        (cost * rust_decimal::Decimal::from(1_000_000_000_000_000_000u64)
            / rust_decimal::Decimal::from(SIM_SWAP_GAS))
        .floor()
        .to_u128()
        .unwrap_or(0)
    };
    let base_fee = pools.first().map_or(0, |(p, _)| wei(p.gas_cost));
    let mut sim_pools = Vec::new();
    for (n, (_, exact)) in pools.iter().enumerate() {
        let n = u8::try_from(n + 1).map_err(|_| config_err("more than 255 pools".into()))?;
        let mut p = SimPool::new(n, exact.state, exact.fees);
        p.version = exact.version;
        sim_pools.push(p);
    }
    let chain = ChainSim::start(
        ChainSimConfig {
            block_interval: Some(SIM_BLOCK_INTERVAL),
            base_fee,
            priority_fee: 0,
            swap_gas: SIM_SWAP_GAS,
            revert_gas: SIM_SWAP_GAS,
            pools: sim_pools,
            seed,
            ..ChainSimConfig::default()
        },
        runtime.handle(),
    )
    .map_err(|e| config_err(format!("chain simulator: {e}")))?;
    let mut rng = rand::rng();
    let key = format!(
        "{:032x}{:032x}",
        rng.random::<u128>() >> 4,
        rng.random::<u128>()
    );
    let mut links = Vec::new();
    for (n, (pool, exact)) in pools.iter().enumerate() {
        let n = u8::try_from(n + 1).map_err(|_| config_err("more than 255 pools".into()))?;
        let mut c = ChainLinkConfig::new(
            pool.id.clone(),
            pool.instrument.clone(),
            chain.url(),
            SimPool::address_for(n),
            chain.router(),
        );
        let (base, quote) = pool.instrument.split_once('/').unwrap_or(("BASE", "QUOTE"));
        c.base = TokenInfo {
            symbol: base.to_owned(),
            decimals: exact.base_decimals,
        };
        c.quote = TokenInfo {
            symbol: quote.to_owned(),
            decimals: exact.quote_decimals,
        };
        c.math = exact.version;
        c.native_asset = pool.gas_asset.clone();
        c.gas_estimate = SIM_SWAP_GAS;
        c.gas_limit = SIM_SWAP_GAS * 2;
        c.key = KeySource::Hex(SecretKeyHex::new(key.clone()));
        c.poll_interval = SIM_BLOCK_INTERVAL;
        c.receipt_poll = Duration::from_millis(50);
        // The simulator mines every 250 ms: a swap without a receipt after 5 s is gone
        // (and a swap logged by an earlier run's simulator is never found, so a restart
        // does not hold new work for the default 30 s).
        c.receipt_timeout = Duration::from_secs(5);
        c.samples = pool.samples;
        c.intent_log = Some(swap_log(data_dir, &pool.id));
        let link = ChainLink::start(c, runtime.handle(), sink.clone())
            .map_err(|e| config_err(format!("chain link {}: {e}", pool.id)))?;
        links.push(link);
    }
    tracing::info!(url = %chain.url(), pools = pools.len(), "chain simulator up");
    Ok((chain, links))
}

/// Where a chain venue's write-ahead swap log lives (the adapter creates the directory).
fn swap_log(data_dir: &std::path::Path, venue: &venues::VenueId) -> std::path::PathBuf {
    data_dir
        .join("chain")
        .join(format!("{}.swaps.jsonl", venue.as_str()))
}

/// Builds the adapter for a real venue from its configured connection; the market
/// file's simulator of that venue only lends its instrument, fee and pool decimals.
fn connect_venue(
    config: &GatewayConfig,
    market: &dyn venues::sim::VenueSim,
    conn: &VenueConnect,
    runtime: &tokio::runtime::Runtime,
    run_prefix: &str,
    sink: LinkSink,
    inline: &InlineSlot,
) -> Result<Box<dyn VenueLink>, ServeError> {
    let venue = market.id().clone();
    let err = |field: &str, e: String| ServeError::Config(format!("venues.{venue}.{field}: {e}"));
    if let Some(fix) = &conn.fix {
        let link = FixBookLink::start(
            FixBookConfig {
                venue: venue.clone(),
                instrument: market.instrument().to_owned(),
                host: fix.host.clone(),
                port: fix.port,
                sender: fix.sender.clone().unwrap_or_else(|| config.comp_id.clone()),
                target: fix.target.clone(),
                data_dir: config.data_dir.join("venues").join(venue.as_str()),
                taker_fee_bps: market
                    .book_config()
                    .map_or(rust_decimal::Decimal::ZERO, |b| b.taker_fee_bps),
                cl_ord_prefix: run_prefix.to_owned(),
                reconnect_secs: fix.reconnect_secs,
            },
            sink,
            inline.clone(),
        )
        .map_err(|e| err("fix", e.to_string()))?;
        return Ok(Box::new(link));
    }
    if let Some(rfq) = &conn.rfq {
        let key = ApiKey::from_env(&rfq.api_key_env)
            .map_err(|e| err("rfq.api_key_env", e.to_string()))?;
        let dealer = DealerConfig::new(venue.as_str(), &rfq.url, key, market.instrument());
        let config = RfqLinkConfig {
            order_prefix: run_prefix.to_owned(),
            ..RfqLinkConfig::new(dealer)
        };
        let link = RfqLink::start(config, runtime.handle().clone(), sink)
            .map_err(|e| err("rfq", e.to_string()))?;
        return Ok(Box::new(link));
    }
    if let Some(chain) = &conn.chain {
        let address = |field: &str, raw: &str| {
            raw.parse::<venues::chain::Address>().map_err(|_| {
                err(
                    field,
                    format!("{raw:?} is not a 0x-prefixed 20-byte address"),
                )
            })
        };
        let mut c = ChainLinkConfig::new(
            venue.clone(),
            market.instrument().to_owned(),
            chain.rpc_url.clone(),
            address("chain.pool", &chain.pool)?,
            address("chain.router", &chain.router)?,
        );
        c.chain_id = chain.chain_id;
        c.key = KeySource::Env(chain.key_env.clone());
        if let Some((pool, exact)) = market.chain_pool() {
            let (base, quote) = pool.instrument.split_once('/').unwrap_or(("BASE", "QUOTE"));
            c.base = TokenInfo {
                symbol: base.to_owned(),
                decimals: exact.base_decimals,
            };
            c.quote = TokenInfo {
                symbol: quote.to_owned(),
                decimals: exact.quote_decimals,
            };
            c.math = exact.version;
            c.native_asset = pool.gas_asset.clone();
            c.samples = pool.samples;
        }
        c.intent_log = Some(swap_log(&config.data_dir, &venue));
        let link =
            ChainLink::start(c, runtime.handle(), sink).map_err(|e| err("chain", e.to_string()))?;
        return Ok(Box::new(link));
    }
    Err(err("", "give one of fix, rfq or chain".into()))
}

/// A running gateway.
pub struct Gateway {
    acceptor: Option<SessionHost>,
    outbox: Option<Arc<DeskOutbox>>,
    ctrl: Sender<Control>,
    engine: Option<JoinHandle<CoreSummary>>,
    links: Vec<JoinHandle<()>>,
    exchanges: Vec<ExchangeSim>,
    dealers: Vec<DealerServer>,
    chains: Vec<ChainSim>,
    risk_live: Option<risk_live::RiskLive>,
    runtime: Option<tokio::runtime::Runtime>,
    on_shutdown: OnShutdown,
    grace: Duration,
    port: u16,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// How the gateway ended.
#[derive(Debug)]
pub struct StopSummary {
    /// What the engine thread said.
    pub core: CoreSummary,
    /// The policy applied to open parents.
    pub on_shutdown: OnShutdown,
    /// Every desk's reports, from queued by the engine to written by QuickFIX (the
    /// desk writer's wake-up, the build and the socket write), in nanoseconds.
    pub desk_report_out: hdrhistogram::Histogram<u64>,
}

impl Gateway {
    /// Starts the gateway on `config` with the venues of `market`, each simulated
    /// in-process behind a [`sim_link::SimLink`] (`--sim`).
    pub fn start_sim(config: &GatewayConfig, market: Scenario) -> Result<Self, ServeError> {
        Self::start(config, market, true)
    }

    /// Starts the gateway on `config` with the venues of `market`: a venue with a
    /// connection in `config.venues` is reached there; any other is simulated when
    /// `sim` is set, and is an error otherwise.
    pub fn start(config: &GatewayConfig, market: Scenario, sim: bool) -> Result<Self, ServeError> {
        let clock = SystemClock::unix();
        let (link_tx, link_rx) = bounded::<LinkEvent>(LINK_QUEUE);
        // Set once the engine exists: FIX venue sessions then hand it their events
        // directly when it is free (run to completion).
        let venue_inline = InlineSlot::default();
        let mut links: Vec<Box<dyn VenueLink>> = Vec::new();
        let mut link_threads = Vec::new();
        let Scenario {
            engine: engine_config,
            risk,
            risk_limits,
            venues,
            seed,
            ..
        } = market;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // The journal comes first: a restart keeps the run's ClOrdID prefix, so the
        // children it replays are the ones the venues know.
        let (mut durable, recovery) = match &config.journal {
            Some(settings) => {
                let (d, r) = Durable::open(settings)
                    .map_err(|e| ServeError::Journal(format!("{}: {e}", settings.dir.display())))?;
                if let Some(cut) = &r.tail_repair {
                    tracing::warn!(
                        segment = %cut.segment.display(),
                        offset = cut.offset,
                        bytes_cut = cut.bytes_cut,
                        "journal: torn tail cut: {}",
                        cut.reason
                    );
                }
                (Some(d), r)
            }
            None => (None, Recovery::default()),
        };
        let run_prefix = match &recovery.run_prefix {
            Some(p) => p.clone(),
            None => {
                let prefix = format!("R{}", started.as_millis());
                if let Some(d) = &mut durable {
                    d.mark(&Entry::Start {
                        run_prefix: prefix.clone(),
                        started_unix_ms: u64::try_from(started.as_millis()).unwrap_or(u64::MAX),
                    })
                    .map_err(|e| ServeError::Journal(e.to_string()))?;
                }
                prefix
            }
        };
        let mut exchanges = Vec::new();
        let mut dealers = Vec::new();
        let mut chain_pools = Vec::new();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rfq")
            .enable_all()
            .build()
            .map_err(|source| ServeError::Thread {
                what: "the RFQ runtime".into(),
                source,
            })?;
        for v in venues {
            let name = v.sim.id().to_string();
            if let Some(conn) = config.venues.get(&name) {
                links.push(connect_venue(
                    config,
                    v.sim.as_ref(),
                    conn,
                    &runtime,
                    &run_prefix,
                    link_tx.clone(),
                    &venue_inline,
                )?);
                continue;
            }
            if !sim {
                return Err(ServeError::Config(format!(
                    "venues.{name}: no connection for this market venue; add [venues.{name}] \
                     with fix, rfq or chain, or run with --sim to simulate it"
                )));
            }
            if let Some(book) = v.sim.book_config() {
                // A book venue is served by the FIX exchange simulator and reached
                // through the real FIX adapter, exactly as a production exchange.
                let (exchange, link) = start_fix_book(
                    config,
                    book,
                    v.one_way,
                    seed,
                    &run_prefix,
                    link_tx.clone(),
                    &venue_inline,
                )?;
                exchanges.push(exchange);
                links.push(Box::new(link));
                continue;
            }
            if let Some((pool, exact)) = v.sim.chain_pool() {
                chain_pools.push((pool.clone(), exact));
                continue;
            }
            if let Some(dealer) = v.sim.rfq_config() {
                // A dealer is served by the HTTP/WebSocket dealer simulator and reached
                // through the real RFQ adapter.
                let (server, link) =
                    start_rfq_dealer(&runtime, dealer, v.one_way, &run_prefix, link_tx.clone())?;
                dealers.push(server);
                links.push(Box::new(link));
                continue;
            }
            let (link, handle) = sim_link::SimLink::spawn(
                v.sim,
                v.one_way,
                clock.clone(),
                link_tx.clone(),
                SIM_REFRESH,
            )
            .map_err(|source| ServeError::Thread {
                what: format!("sim {name}"),
                source,
            })?;
            links.push(Box::new(link));
            link_threads.push(handle);
        }
        let mut chains = Vec::new();
        if !chain_pools.is_empty() {
            let (chain, pool_links) = start_chain(
                &runtime,
                &chain_pools,
                seed,
                link_tx.clone(),
                &config.data_dir,
            )?;
            chains.push(chain);
            for l in pool_links {
                links.push(Box::new(l));
            }
        }
        drop(link_tx);
        let (ctrl_tx, ctrl_rx) = bounded::<Control>(64);
        let mut risk_live = None;
        let gate = match &config.risk {
            None => match risk_limits {
                Some(limits) => AnyGate::Full(
                    Gate::new(limits)
                        .map_err(|e| ServeError::Config(format!("risk_limits: {e}")))?,
                ),
                None => AnyGate::Minimal(MinimalGate::new(risk)),
            },
            Some(setup) => {
                let live = risk_live::RiskLive::open(setup)?;
                let gate = AnyGate::Shared(live.gate());
                risk_live = Some(live);
                gate
            }
        };
        let controls = risk_live.as_ref().map(risk_live::RiskLive::gate);
        let engine = Engine::new(engine_config, gate);
        let exec_ids = Arc::new(ExecIds::new(format!("E{}", started.as_millis())));
        let outbox = Arc::new(
            DeskOutbox::start(
                &config.comp_id,
                config.desks.comp_ids().iter().map(String::as_str),
                DEFAULT_OUTBOX_CAPACITY,
                Duration::from_micros(config.desk_writer_spin_us),
            )
            .map_err(|e| ServeError::Config(e.to_string()))?,
        );
        let core_ids = exec_ids.clone();
        let core_outbox = outbox.clone();

        let (desk_tx, desk_rx) = bounded::<Inbound>(config.inbound_queue);
        let spin_us = config.engine_spin_us;
        let max_wait = Duration::from_millis(config.max_queue_wait_ms);
        let service = Arc::new(admission::ServiceTime::new());
        let desk_service = service.clone();
        let (recovered_tx, recovered_rx) =
            bounded::<Result<(u64, Arc<shared::SharedCore<AnyGate>>), String>>(1);
        let engine_thread = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || {
                let mut core =
                    core::Core::new(engine, clock, links, core_outbox, core_ids, durable)
                        .with_spin(Duration::from_micros(spin_us))
                        .with_service_time(service)
                        .with_max_queue_wait(max_wait);
                if let Some(gate) = controls {
                    core = core.with_controls(gate);
                }
                let recovered = match core.recover(&recovery) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = recovered_tx.send(Err(e));
                        return core::CoreSummary::failed("journal replay failed");
                    }
                };
                let shared = Arc::new(shared::SharedCore::new(core));
                let _ = recovered_tx.send(Ok((recovered, shared.clone())));
                shared.run(desk_rx, link_rx, ctrl_rx)
            })
            .map_err(|source| ServeError::Thread {
                what: "engine".into(),
                source,
            })?;
        let shared = match recovered_rx.recv() {
            Ok(Ok((n, shared))) => {
                if n > 0 {
                    tracing::info!(events = n, "recovered from the journal");
                }
                shared
            }
            Ok(Err(e)) => {
                let _ = engine_thread.join();
                return Err(ServeError::Journal(format!("journal replay: {e}")));
            }
            Err(_) => return Err(ServeError::EnginePanicked),
        };
        let inline = config.inline_desk_requests;
        let hop_cpu_time = config.hop_cpu_time;
        if config.inline_venue_events {
            venue_inline.set(Box::new(VenueSide {
                core: Arc::downgrade(&shared),
            }));
        }
        // Risk officers' controls start once the replay is done: each then lands between
        // two live inputs, where the journal records it.
        if let (Some(live), Some(setup)) = (risk_live.as_mut(), &config.risk)
            && let Err(e) = live.start_services(setup, &runtime, ctrl_tx.clone())
        {
            let _ = ctrl_tx.send(Control::Shutdown {
                cancel_open: false,
                grace: Duration::ZERO,
            });
            let _ = engine_thread.join();
            return Err(e);
        }

        let endpoint = EndpointConfig {
            name: "desk acceptor".into(),
            role: Role::Acceptor { port: config.port },
            sender: config.comp_id.clone(),
            targets: config.desks.comp_ids(),
            data_dir: config.data_dir.join("desks"),
            heartbeat_secs: 30,
            threaded: true,
            persist_messages: true,
        };
        let directory = config.desks.clone();
        let capacity = config.inbound_queue;
        let app_outbox = outbox.clone();
        let acceptor = SessionHost::start(endpoint, move || {
            DeskApp::new(
                directory,
                DeskSide {
                    tx: desk_tx,
                    core: shared,
                    inline,
                    hop_cpu_time,
                    capacity,
                    service: desk_service,
                    max_wait,
                },
                exec_ids,
                app_outbox,
            )
        });
        let acceptor = match acceptor {
            Ok(a) => a,
            Err(e) => {
                let _ = ctrl_tx.send(Control::Shutdown {
                    cancel_open: false,
                    grace: Duration::ZERO,
                });
                let _ = engine_thread.join();
                return Err(e.into());
            }
        };
        tracing::info!(port = config.port, comp_id = %config.comp_id, "gateway accepting desk FIX sessions");
        // Sessions exist now: what recovery has to tell the desks can be sent (QuickFIX
        // stores it for a desk not yet logged on and delivers it on logon).
        let _ = ctrl_tx.send(Control::DesksReady);
        Ok(Self {
            acceptor: Some(acceptor),
            outbox: Some(outbox),
            ctrl: ctrl_tx,
            engine: Some(engine_thread),
            links: link_threads,
            exchanges,
            dealers,
            chains,
            risk_live,
            runtime: Some(runtime),
            on_shutdown: config.on_shutdown,
            grace: Duration::from_millis(config.shutdown_grace_ms),
            port: config.port,
        })
    }

    /// The desk acceptor's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the gateway: open parents are cancelled or left as configured (and the
    /// desks told), then the venue links and the desk sessions are closed.
    pub fn stop(mut self) -> Result<StopSummary, ServeError> {
        let cancel_open = self.on_shutdown == OnShutdown::Cancel;
        let _ = self.ctrl.send(Control::Shutdown {
            cancel_open,
            grace: self.grace,
        });
        let core = match self.engine.take().map(JoinHandle::join) {
            Some(Ok(summary)) => summary,
            _ => return Err(ServeError::EnginePanicked),
        };
        // The desks get every report the engine made before their sessions log out.
        if let Some(outbox) = &self.outbox
            && !outbox.flush(Duration::from_secs(5))
        {
            tracing::warn!("desk reports still queued after 5 s; QuickFIX keeps what it took");
        }
        // The engine owned the links; with it gone their threads see a closed queue.
        for t in self.links.drain(..) {
            let _ = t.join();
        }
        for x in self.exchanges.drain(..) {
            x.stop();
        }
        self.chains.clear();
        if let Some(live) = self.risk_live.take() {
            live.stop();
        }
        if let Some(runtime) = self.runtime.take() {
            for d in self.dealers.drain(..) {
                runtime.block_on(d.shutdown());
            }
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.stop();
        }
        let mut desk_report_out = WriterStats::default().queued_to_written;
        if let Some(outbox) = self.outbox.take().and_then(Arc::into_inner) {
            for (desk, stats) in outbox.close() {
                if let Err(e) = desk_report_out.add(&stats.queued_to_written) {
                    tracing::warn!(%desk, "desk report latency not merged: {e}");
                }
            }
        }
        Ok(StopSummary {
            core,
            on_shutdown: self.on_shutdown,
            desk_report_out,
        })
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if self.engine.is_some() {
            let _ = self.ctrl.send(Control::Shutdown {
                cancel_open: false,
                grace: Duration::ZERO,
            });
            if let Some(t) = self.engine.take() {
                let _ = t.join();
            }
        }
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.stop();
        }
    }
}

/// Loads `config_path` and its market file, starts the gateway (`sim` must be set
/// until real venue connections are configurable) and runs until SIGINT or SIGTERM.
pub fn serve_until_signal(
    config_path: &std::path::Path,
    sim: bool,
    port: Option<u16>,
) -> Result<StopSummary, ServeError> {
    let mut config = GatewayConfig::load(config_path).map_err(|e| ServeError::Config(e.0))?;
    if let Some(port) = port {
        config.port = port;
    }
    let text = std::fs::read_to_string(&config.market)
        .map_err(|e| ServeError::Config(format!("{}: {e}", config.market.display())))?;
    let market = Scenario::parse_market(&text)
        .map_err(|e| ServeError::Config(format!("{}: {e}", config.market.display())))?;
    if !market.parents.is_empty() {
        tracing::info!(
            "{}: the market file's {} parent orders are ignored by the gateway",
            config.market.display(),
            market.parents.len()
        );
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|source| {
            ServeError::Thread {
                what: "signal handler".into(),
                source,
            }
        })?;
    }
    let gateway = Gateway::start(&config, market, sim)?;
    eprintln!(
        "sor: gateway {} listening on port {} for desks {}; data in {}; Ctrl-C stops ({})",
        config.comp_id,
        gateway.port(),
        config.desks.comp_ids().join(", "),
        config.data_dir.display(),
        match config.on_shutdown {
            OnShutdown::Cancel => "open parents are cancelled first",
            OnShutdown::Leave => "open parents are left working",
        }
    );
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("sor: stopping");
    let summary = gateway.stop()?;
    let open = &summary.core.open_parents;
    match summary.on_shutdown {
        OnShutdown::Cancel => eprintln!(
            "sor: cancelled {} open parents; {} not confirmed in time: {}",
            summary.core.cancelled_on_shutdown,
            open.len(),
            open.join(" ")
        ),
        OnShutdown::Leave => eprintln!(
            "sor: left {} parents working at their venues: {}",
            open.len(),
            open.join(" ")
        ),
    }
    let inline = summary.core.inline;
    eprintln!(
        "sor: handled on their session's thread: {} desk requests, {} venue events",
        inline.desk_requests, inline.venue_events
    );
    eprintln!("{}", summary.core.hops.summary());
    eprintln!(
        "{}",
        core::hop_line("desk report written", &summary.desk_report_out)
    );
    Ok(summary)
}
