//! [`ChainLink`]: one DODO V2 pool as a live venue over Ethereum JSON-RPC.
//!
//! Two tasks run on the given tokio runtime:
//!
//! - the **poller** connects (chain id, the pool's tokens), then every `poll_interval`
//!   asks for the block number; on a new block it reads the pool state, the trader's fee
//!   rates and the gas price *at that block* and pushes both sides' [`Liquidity`], built
//!   by [`PoolSim`]'s own curve sampling over [`ExactPmm`];
//! - the **executor** takes orders one at a time: exact quote from the last state read,
//!   `eth_call` of the same quote on chain (a mismatch is a `stale quote` reject, nothing
//!   sent), a signed swap through the router with a min-receive guard from the child's
//!   limit, then the receipt, waited for at most `receipt_timeout`.
//!
//! Reports mirror [`PoolSim`] exactly: a swap that went through is `Ack`, `Fill` (the
//! amounts of the receipt's `DODOSwap` event), `FixedCost` (gas used × effective gas
//! price, in the native asset); a mined revert is `FixedCost`, `Rejected{Revert}`.
//! Outcomes `PoolSim` cannot have are a lone `Rejected` with no gas: `QuoteExpired` for
//! a stale quote, `NoLiquidity` for a swap not sent (the pool would revert for this size,
//! the node refused the transaction, the RPC failed, the swap log could not be written)
//! or dropped (no receipt in time).
//!
//! With [`ChainLinkConfig::intent_log`] set, every signed swap is recorded durably
//! before it is sent ([`super::intents`]), and [`VenueLink::reconcile`] after a restart
//! reads the receipt of the child's recorded transaction and reports what the live path
//! would have reported.

use super::ChainError;
use super::abi;
use super::intents::{SwapLog, SwapRecord};
use super::key::{ChainKey, KeySource, UnsignedTx};
use super::rpc::RpcClient;
use super::units::{self, Rounding};
use crate::link::{Known, LinkError, LinkEvent, LinkSink, VenueLink};
use crate::pmm::{self, MathVersion, SellQuote};
use crate::pool_math::ExactPmm;
use crate::sim::{PoolConfig, PoolSim, VenueSim};
use crate::{Liquidity, RejectKind, Side, VenueId, VenueOrder, VenueReport};
use alloy::consensus::{TxEip1559, TxLegacy};
use alloy::primitives::{Address, B256, Bytes, TxKind, U64, U256};
use alloy::rpc::types::{Block, TransactionReceipt};
use alloy::serde::WithOtherFields;
use parking_lot::Mutex;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

/// A token of the pool, as the engine names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The asset name (e.g. `USDC`), for logs.
    pub symbol: String,
    /// The token's `decimals()`.
    pub decimals: u32,
}

/// Which transaction type the adapter sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeeMode {
    /// EIP-1559 (type 2): max fee `2 × base fee + tip`, tip from `eth_maxPriorityFeePerGas`.
    #[default]
    Eip1559,
    /// Legacy with EIP-155 replay protection, at `eth_gasPrice` (chains without a base fee).
    Legacy,
}

/// How a [`ChainLink`] is set up.
#[derive(Clone)]
pub struct ChainLinkConfig {
    /// The venue id.
    pub venue: VenueId,
    /// The venue's instrument (base/quote of the pool).
    pub instrument: String,
    /// The node's JSON-RPC URL (http or https). Shown only as scheme and host.
    pub rpc_url: String,
    /// The chain id the node must report; `None` accepts what `eth_chainId` says.
    pub chain_id: Option<u64>,
    /// The DODO V2 pool.
    pub pool: Address,
    /// The router contract swaps are sent to ([`abi::ISorRouter`]).
    pub router: Address,
    /// The pool's base token.
    pub base: TokenInfo,
    /// The pool's quote token.
    pub quote: TokenInfo,
    /// The math revision of the pool's template.
    pub math: MathVersion,
    /// The chain's native asset, in which gas is reported (e.g. `ETH`).
    pub native_asset: String,
    /// Gas limit of a swap transaction.
    pub gas_limit: u64,
    /// Gas a swap typically uses: the fixed cost shown to the router.
    pub gas_estimate: u64,
    /// Transaction type.
    pub fee_mode: FeeMode,
    /// Where the signing key comes from (`SOR_CHAIN_KEY` by default).
    pub key: KeySource,
    /// How often the block number is polled.
    pub poll_interval: Duration,
    /// How long a sent swap may go without a receipt before it counts as dropped.
    pub receipt_timeout: Duration,
    /// How often the receipt is asked for while waiting.
    pub receipt_poll: Duration,
    /// Bound on each JSON-RPC request.
    pub rpc_timeout: Duration,
    /// Points of the curve shown to the router.
    pub samples: usize,
    /// Orders that may wait for the executor; more are refused as `Busy`.
    pub queue: usize,
    /// The write-ahead swap log (one JSON line per signed swap, synced before it is
    /// sent), read on start so [`VenueLink::reconcile`] can find a child's transaction
    /// after a restart; `None`: no log, and reconcile is unsupported.
    pub intent_log: Option<PathBuf>,
}

impl ChainLinkConfig {
    /// A configuration with the usual defaults: 18/18 decimals, ETH gas, 300 000 gas
    /// limit, 150 000 gas shown, EIP-1559, key from `SOR_CHAIN_KEY`, 1 s polls, 30 s
    /// receipt bound polled every 250 ms, 5 s per request, 24 samples, 64 queued orders,
    /// no swap log.
    pub fn new(
        venue: VenueId,
        instrument: impl Into<String>,
        rpc_url: impl Into<String>,
        pool: Address,
        router: Address,
    ) -> Self {
        Self {
            venue,
            instrument: instrument.into(),
            rpc_url: rpc_url.into(),
            chain_id: None,
            pool,
            router,
            base: TokenInfo {
                symbol: "BASE".into(),
                decimals: 18,
            },
            quote: TokenInfo {
                symbol: "QUOTE".into(),
                decimals: 18,
            },
            math: MathVersion::default(),
            native_asset: "ETH".into(),
            gas_limit: 300_000,
            gas_estimate: 150_000,
            fee_mode: FeeMode::Eip1559,
            key: KeySource::default(),
            poll_interval: Duration::from_secs(1),
            receipt_timeout: Duration::from_secs(30),
            receipt_poll: Duration::from_millis(250),
            rpc_timeout: Duration::from_secs(5),
            samples: 24,
            queue: 64,
            intent_log: None,
        }
    }

    fn validate(&self) -> Result<(), ChainError> {
        let bad = |field: &str, problem: &str| {
            Err(ChainError::Config {
                field: field.into(),
                problem: problem.into(),
            })
        };
        if self.base.decimals > 28 {
            return bad("base.decimals", "at most 28 (Decimal's scale)");
        }
        if self.quote.decimals > 28 {
            return bad("quote.decimals", "at most 28 (Decimal's scale)");
        }
        if self.gas_limit < 21_000 {
            return bad("gas_limit", "below the 21000 intrinsic gas");
        }
        if self.samples == 0 {
            return bad("samples", "must be at least 1");
        }
        if self.queue == 0 {
            return bad("queue", "must be at least 1");
        }
        for (field, d) in [
            ("poll_interval", self.poll_interval),
            ("receipt_timeout", self.receipt_timeout),
            ("receipt_poll", self.receipt_poll),
            ("rpc_timeout", self.rpc_timeout),
        ] {
            if d.is_zero() {
                return bad(field, "must be positive");
            }
        }
        Ok(())
    }
}

/// The URL's scheme and host only: paths and queries often carry API keys.
fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("?", url));
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    format!("{scheme}://{host}/…")
}

impl fmt::Debug for ChainLinkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainLinkConfig")
            .field("venue", &self.venue)
            .field("instrument", &self.instrument)
            .field("rpc_url", &redact_url(&self.rpc_url))
            .field("chain_id", &self.chain_id)
            .field("pool", &self.pool)
            .field("router", &self.router)
            .field("base", &self.base)
            .field("quote", &self.quote)
            .field("math", &self.math)
            .field("native_asset", &self.native_asset)
            .field("gas_limit", &self.gas_limit)
            .field("gas_estimate", &self.gas_estimate)
            .field("fee_mode", &self.fee_mode)
            .field("key", &self.key)
            .field("poll_interval", &self.poll_interval)
            .field("receipt_timeout", &self.receipt_timeout)
            .field("receipt_poll", &self.receipt_poll)
            .field("rpc_timeout", &self.rpc_timeout)
            .field("samples", &self.samples)
            .field("queue", &self.queue)
            .field("intent_log", &self.intent_log)
            .finish()
    }
}

/// One DODO V2 pool as a live venue: reads its state per block, swaps through the
/// router. Dropping it stops its tasks (a swap already sent still lands on chain).
pub struct ChainLink {
    id: VenueId,
    account: Address,
    orders: mpsc::Sender<VenueOrder>,
    capacity: usize,
    up: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    inner: Arc<Inner>,
    runtime: Handle,
}

impl fmt::Debug for ChainLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainLink")
            .field("id", &self.id)
            .field("account", &self.account)
            .field("capacity", &self.capacity)
            .field("up", &self.up)
            .finish_non_exhaustive()
    }
}

impl ChainLink {
    /// Loads the key and reads the swap log, then spawns the poller and the executor on
    /// `handle`'s runtime; events go to `sink`. Fails only on configuration or an
    /// unreadable swap log (the node is reached later; until then [`VenueLink::send`]
    /// answers `Disconnected`).
    pub fn start(
        config: ChainLinkConfig,
        handle: &Handle,
        sink: LinkSink,
    ) -> Result<ChainLink, ChainError> {
        config.validate()?;
        let key = ChainKey::load(&config.key)?;
        let rpc = RpcClient::new(&config.rpc_url, config.rpc_timeout)?;
        let swaps = match &config.intent_log {
            Some(path) => {
                let (log, torn) = SwapLog::open(path)?;
                if let Some(t) = torn {
                    tracing::warn!(
                        venue = %config.venue, file = %path.display(), line = t.line,
                        offset = t.offset, bytes_cut = t.bytes_cut,
                        "swap log: torn last line cut (a crash while writing it: that swap was never sent)"
                    );
                }
                Some(Arc::new(Mutex::new(log)))
            }
            None => None,
        };
        let up = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = watch::channel(false);
        let (orders, rx) = mpsc::channel(config.queue);
        let inner = Arc::new(Inner {
            account: key.address(),
            key,
            rpc,
            sink,
            up: up.clone(),
            announced: Mutex::new(None),
            view: Mutex::new(None),
            chain: OnceLock::new(),
            refresh: tokio::sync::Mutex::new(()),
            swaps,
            cfg: config,
        });
        let link = ChainLink {
            id: inner.cfg.venue.clone(),
            account: inner.account,
            orders,
            capacity: inner.cfg.queue,
            up,
            stop,
            inner: inner.clone(),
            runtime: handle.clone(),
        };
        handle.spawn(poller(inner.clone(), stopped.clone()));
        handle.spawn(executor(inner, rx, stopped));
        Ok(link)
    }

    /// The address swaps are sent from (the key's account).
    pub fn account(&self) -> Address {
        self.account
    }

    /// Whether the node is reachable and the pool state has been read.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }
}

impl Drop for ChainLink {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl VenueLink for ChainLink {
    fn id(&self) -> &VenueId {
        &self.id
    }

    fn send(&self, order: VenueOrder) -> Result<(), LinkError> {
        if !self.is_up() {
            return Err(LinkError::Disconnected {
                venue: self.id.clone(),
            });
        }
        self.orders.try_send(order).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => LinkError::Busy {
                venue: self.id.clone(),
                capacity: self.capacity,
            },
            mpsc::error::TrySendError::Closed(_) => LinkError::Disconnected {
                venue: self.id.clone(),
            },
        })
    }

    /// A swap cannot be called back once signed and sent; orders still queued run too.
    fn cancel(&self, _client_id: &str) -> Result<(), LinkError> {
        Err(LinkError::Unsupported {
            venue: self.id.clone(),
            what: "cancel an on-chain swap".into(),
        })
    }

    /// Looks the child up in the swap log and, if a swap was signed for it, waits for its
    /// receipt on the link's runtime (never blocking the caller); the reports come back
    /// through the sink. Unsupported without a swap log.
    fn reconcile(&self, client_id: &str, known: Known) -> Result<(), LinkError> {
        if self.inner.swaps.is_none() {
            return Err(LinkError::Unsupported {
                venue: self.id.clone(),
                what: "reconcile a child after a restart without a swap log (intent_log)".into(),
            });
        }
        let inner = self.inner.clone();
        let child = client_id.to_owned();
        let mut stop = self.stop.subscribe();
        self.runtime.spawn(async move {
            let reports = tokio::select! {
                r = super::reconcile::after_restart(&inner, &child, known) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            for report in reports {
                let ev = LinkEvent::Report {
                    venue: inner.cfg.venue.clone(),
                    client_id: child.clone(),
                    report,
                };
                if !inner.emit(ev).await {
                    return;
                }
            }
        });
        Ok(())
    }
}

/// What the node told us at connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct ChainInfo {
    chain_id: u64,
    base_token: Address,
    quote_token: Address,
}

/// The pool as of one block.
#[derive(Debug, Clone)]
struct View {
    block: u64,
    math: ExactPmm,
    base_fee: Option<u128>,
    tip: u128,
    /// The gas price a swap would pay now, wei.
    gas_price: u128,
}

/// The link's state shared by its tasks.
pub(super) struct Inner {
    pub(super) cfg: ChainLinkConfig,
    pub(super) account: Address,
    key: ChainKey,
    rpc: RpcClient,
    sink: LinkSink,
    up: Arc<AtomicBool>,
    /// What the engine was last told: up, down, or nothing yet.
    announced: Mutex<Option<bool>>,
    view: Mutex<Option<View>>,
    chain: OnceLock<ChainInfo>,
    refresh: tokio::sync::Mutex<()>,
    /// The write-ahead swap log, if configured.
    pub(super) swaps: Option<Arc<Mutex<SwapLog>>>,
}

fn quantity(n: u64) -> Value {
    json!(U64::from(n))
}

impl Inner {
    /// Puts an event on the engine's queue, waiting (off the runtime's threads) while it
    /// is full. `false` once the engine has hung up.
    pub(super) async fn emit(&self, ev: LinkEvent) -> bool {
        match self.sink.try_send(ev) {
            Ok(()) => true,
            Err(crossbeam_channel::TrySendError::Full(ev)) => {
                let sink = self.sink.clone();
                tokio::task::spawn_blocking(move || sink.send(ev).is_ok())
                    .await
                    .unwrap_or(false)
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => false,
        }
    }

    async fn eth_call(
        &self,
        to: Address,
        data: Vec<u8>,
        block: Value,
    ) -> Result<Bytes, ChainError> {
        self.rpc
            .call(
                "eth_call",
                json!([{"from": self.account, "to": to, "input": Bytes::from(data)}, block]),
            )
            .await
    }

    /// The chain id and the pool's tokens, asked once.
    pub(super) async fn connect(&self) -> Result<ChainInfo, ChainError> {
        if let Some(info) = self.chain.get() {
            return Ok(*info);
        }
        let id: U64 = self.rpc.call("eth_chainId", json!([])).await?;
        let chain_id = id.to::<u64>();
        if let Some(want) = self.cfg.chain_id
            && want != chain_id
        {
            return Err(ChainError::Config {
                field: "chain_id".into(),
                problem: format!("the node is on chain {chain_id}, not {want}"),
            });
        }
        let base = self
            .eth_call(self.cfg.pool, abi::token_call(true), json!("latest"))
            .await?;
        let quote = self
            .eth_call(self.cfg.pool, abi::token_call(false), json!("latest"))
            .await?;
        let info = ChainInfo {
            chain_id,
            base_token: abi::decode_token(true, &base)?,
            quote_token: abi::decode_token(false, &quote)?,
        };
        Ok(*self.chain.get_or_init(|| info))
    }

    /// Re-reads the pool at `block` (or the head) unless the view is already that recent
    /// (`force` re-reads anyway), and pushes both sides' liquidity. `false` once the
    /// engine has hung up.
    async fn refresh(&self, block: Option<u64>, force: bool) -> Result<bool, ChainError> {
        let _one_at_a_time = self.refresh.lock().await;
        let number = match block {
            Some(n) => n,
            None => self
                .rpc
                .call::<U64>("eth_blockNumber", json!([]))
                .await?
                .to::<u64>(),
        };
        let seen = self.view.lock().as_ref().map(|v| v.block);
        if seen.is_some_and(|b| b > number || (b == number && !force)) {
            return Ok(true);
        }
        let tag = quantity(number);
        let header: Option<Block> = self
            .rpc
            .call("eth_getBlockByNumber", json!([tag, false]))
            .await?;
        let header = header.ok_or_else(|| ChainError::BadResponse {
            method: "eth_getBlockByNumber".into(),
            detail: format!("block {number} not found"),
        })?;
        let base_fee = header.header.inner.base_fee_per_gas.map(u128::from);
        let (tip, gas_price) = match self.cfg.fee_mode {
            FeeMode::Eip1559 => {
                let base = base_fee.ok_or_else(|| ChainError::Config {
                    field: "fee_mode".into(),
                    problem: "the chain has no base fee; use FeeMode::Legacy".into(),
                })?;
                let tip: U256 = self.rpc.call("eth_maxPriorityFeePerGas", json!([])).await?;
                let tip = u128::try_from(tip).map_err(|_| ChainError::BadResponse {
                    method: "eth_maxPriorityFeePerGas".into(),
                    detail: format!("{tip} does not fit u128"),
                })?;
                (tip, base.saturating_add(tip))
            }
            FeeMode::Legacy => {
                let price: U256 = self.rpc.call("eth_gasPrice", json!([])).await?;
                let price = u128::try_from(price).map_err(|_| ChainError::BadResponse {
                    method: "eth_gasPrice".into(),
                    detail: format!("{price} does not fit u128"),
                })?;
                (price, price)
            }
        };
        let state = abi::decode_pmm_state(
            &self
                .eth_call(self.cfg.pool, abi::get_pmm_state_call(), tag.clone())
                .await?,
        )?;
        let fees = abi::decode_fee_rates(
            &self
                .eth_call(
                    self.cfg.pool,
                    abi::get_user_fee_rate_call(self.account),
                    tag,
                )
                .await?,
        )?;
        let view = View {
            block: number,
            math: ExactPmm {
                state,
                fees,
                version: self.cfg.math,
                base_decimals: self.cfg.base.decimals,
                quote_decimals: self.cfg.quote.decimals,
            },
            base_fee,
            tip,
            gas_price,
        };
        let gas = units::gas_cost(self.cfg.gas_estimate, gas_price)?;
        let sides = [
            self.liquidity(&view, Side::Sell, gas),
            self.liquidity(&view, Side::Buy, gas),
        ];
        {
            let mut slot = self.view.lock();
            if slot.as_ref().is_some_and(|v| v.block > number) {
                return Ok(true);
            }
            *slot = Some(view);
        }
        for l in sides {
            if !self.emit(LinkEvent::Liquidity(l)).await {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The curve the router sees: [`PoolSim`]'s sampling of the exact math.
    fn liquidity(&self, view: &View, side: Side, gas: Decimal) -> Liquidity {
        let mut sim = PoolSim::new(
            PoolConfig {
                id: self.cfg.venue.clone(),
                instrument: self.cfg.instrument.clone(),
                gas_cost: gas,
                gas_asset: self.cfg.native_asset.clone(),
                samples: self.cfg.samples,
            },
            view.math.clone(),
        );
        sim.liquidity(side, 0)
    }

    /// Records whether the venue is usable and tells the engine when that changes (the
    /// first answer, up or down, is always told).
    async fn set_up(&self, up: bool, reason: String) -> bool {
        self.up.store(up, Ordering::Release);
        if self.announced.lock().replace(up) == Some(up) {
            return true;
        }
        if up {
            tracing::info!(venue = %self.cfg.venue, "chain venue up: {reason}");
        } else {
            tracing::warn!(venue = %self.cfg.venue, "chain venue down: {reason}");
        }
        self.emit(LinkEvent::Connection {
            venue: self.cfg.venue.clone(),
            up,
            reason,
        })
        .await
    }
}

async fn poller(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    loop {
        let step = async {
            inner.connect().await?;
            inner.refresh(None, false).await
        };
        let alive = match step.await {
            Ok(alive) => {
                let block = inner.view.lock().as_ref().map_or(0, |v| v.block);
                alive
                    && inner
                        .set_up(true, format!("pool state read at block {block}"))
                        .await
            }
            Err(e) => inner.set_up(false, e.to_string()).await,
        };
        if !alive {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(inner.cfg.poll_interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn executor(
    inner: Arc<Inner>,
    mut orders: mpsc::Receiver<VenueOrder>,
    mut stop: watch::Receiver<bool>,
) {
    let mut exec = Executor {
        inner: &inner,
        nonce: None,
    };
    loop {
        let order = tokio::select! {
            o = orders.recv() => match o {
                Some(o) => o,
                None => return,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let reports = exec.execute(&order).await;
        for report in reports {
            let ev = LinkEvent::Report {
                venue: inner.cfg.venue.clone(),
                client_id: order.client_id.clone(),
                report,
            };
            if !inner.emit(ev).await {
                return;
            }
        }
        // Our own swap moved the pool: show the new state before the next order.
        if let Ok(false) = inner.refresh(None, false).await {
            return;
        }
    }
}

/// The order's swap, worked out from the last state read.
struct Plan {
    sell_base: bool,
    pay: U256,
    min_receive: U256,
}

/// A lone reject.
pub(super) fn rejected(kind: RejectKind, reason: String) -> Vec<VenueReport> {
    vec![VenueReport::Rejected { kind, reason }]
}

fn show(q: &Result<SellQuote, String>) -> String {
    match q {
        Ok(q) => format!(
            "receive {} mtFee {} R {} target {}",
            q.receive, q.mt_fee, q.new_r, q.new_target
        ),
        Err(reason) => format!("revert {reason}"),
    }
}

fn query(math: &ExactPmm, sell_base: bool, pay: U256) -> Result<SellQuote, pmm::Revert> {
    if sell_base {
        pmm::query_sell_base(&math.state, &math.fees, pay, math.version)
    } else {
        pmm::query_sell_quote(&math.state, &math.fees, pay, math.version)
    }
}

/// The least quote payment that buys at least `want` base, by bisection on raw units
/// (a payment the pool refuses counts as too much, as in [`PoolSim`]).
fn least_quote_for(math: &ExactPmm, want: U256) -> Option<U256> {
    let enough = |pay: U256| match query(math, false, pay) {
        Ok(q) => q.receive >= want,
        Err(_) => true,
    };
    let mut lo = U256::ZERO;
    let mut hi = U256::from(10u64)
        .checked_pow(U256::from(math.quote_decimals))?
        .max(U256::from(1u64));
    let mut grown = 0;
    while !enough(hi) {
        lo = hi;
        hi = hi.checked_mul(U256::from(2u64))?;
        grown += 1;
        if grown > 200 {
            return None;
        }
    }
    while hi - lo > U256::from(1u64) {
        let mid = lo + (hi - lo) / U256::from(2u64);
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    match query(math, false, hi) {
        Ok(q) if q.receive >= want => Some(hi),
        _ => None,
    }
}

struct Executor<'a> {
    inner: &'a Inner,
    /// The next nonce to use; `None` re-reads the pending count from the node.
    nonce: Option<u64>,
}

impl Executor<'_> {
    async fn execute(&mut self, order: &VenueOrder) -> Vec<VenueReport> {
        let cfg = &self.inner.cfg;
        if order.instrument != cfg.instrument {
            return rejected(
                RejectKind::Invalid,
                format!("pool does not trade {}", order.instrument),
            );
        }
        let Some(info) = self.inner.chain.get().copied() else {
            return rejected(
                RejectKind::NoLiquidity,
                "not sent: not connected yet".into(),
            );
        };
        let Some(view) = self.inner.view.lock().clone() else {
            return rejected(
                RejectKind::NoLiquidity,
                "not sent: no pool state read yet".into(),
            );
        };
        let plan = match self.plan(order, &view) {
            Ok(p) => p,
            Err(reports) => return reports,
        };
        if let Err(reports) = self.check_quote(&plan, &view).await {
            return reports;
        }
        let hash = match self.send(order, &plan, &view, info).await {
            Ok(h) => h,
            Err(reports) => return reports,
        };
        let deadline = Instant::now() + cfg.receipt_timeout;
        let Some(receipt) = self.inner.wait_receipt(hash, deadline).await else {
            self.nonce = None;
            return no_receipt(cfg, hash);
        };
        receipt_reports(self.inner, plan.sell_base, order.qty, info, hash, &receipt)
    }

    fn plan(&self, order: &VenueOrder, view: &View) -> Result<Plan, Vec<VenueReport>> {
        let cfg = &self.inner.cfg;
        let invalid = |e: ChainError| rejected(RejectKind::Invalid, e.to_string());
        if order.qty <= Decimal::ZERO {
            return Err(rejected(
                RejectKind::Invalid,
                format!("qty {} must be positive", order.qty),
            ));
        }
        let qty = units::to_raw(order.qty, cfg.base.decimals, Rounding::Exact).map_err(invalid)?;
        let guard = order
            .qty
            .checked_mul(order.limit_px.max(Decimal::ZERO))
            .ok_or_else(|| {
                rejected(
                    RejectKind::Invalid,
                    format!("qty {} × limit {} overflows", order.qty, order.limit_px),
                )
            })?;
        match order.side {
            // Receive at least qty × limit quote.
            Side::Sell => Ok(Plan {
                sell_base: true,
                pay: qty,
                min_receive: units::to_raw(guard, cfg.quote.decimals, Rounding::Ceil)
                    .map_err(invalid)?,
            }),
            // Pay the least that buys qty base, but never more than qty × limit quote: if
            // that is not enough the min-receive guard reverts the swap on chain, as
            // PoolSim reverts a buy whose price is past the limit.
            Side::Buy => {
                let most =
                    units::to_raw(guard, cfg.quote.decimals, Rounding::Floor).map_err(invalid)?;
                let Some(needed) = least_quote_for(&view.math, qty) else {
                    return Err(rejected(
                        RejectKind::NoLiquidity,
                        format!("not sent: the pool cannot pay out {} base", order.qty),
                    ));
                };
                Ok(Plan {
                    sell_base: false,
                    pay: needed.min(most),
                    min_receive: qty,
                })
            }
        }
    }

    /// The quote from the last state read must be the quote the chain gives now.
    async fn check_quote(&self, plan: &Plan, view: &View) -> Result<(), Vec<VenueReport>> {
        let local = query(&view.math, plan.sell_base, plan.pay).map_err(|r| r.reason().to_owned());
        let data = abi::query_sell_call(plan.sell_base, self.inner.account, plan.pay);
        let chain = match self
            .inner
            .eth_call(self.inner.cfg.pool, data, json!("latest"))
            .await
        {
            Ok(ret) => abi::decode_sell_quote(plan.sell_base, &ret).map_err(|e| e.to_string()),
            Err(e) => match e.revert_reason() {
                Some(reason) => Err(reason),
                None => {
                    return Err(rejected(
                        RejectKind::NoLiquidity,
                        format!("not sent: cannot check the quote: {e}"),
                    ));
                }
            },
        };
        match (&local, &chain) {
            (Ok(a), Ok(b)) if a == b => Ok(()),
            (Err(a), Err(b)) if a == b => Err(rejected(
                RejectKind::NoLiquidity,
                format!("not sent: the pool would revert: {a}"),
            )),
            _ => {
                tracing::info!(venue = %self.inner.cfg.venue, block = view.block, "stale quote: local {}, chain {}", show(&local), show(&chain));
                // Show the router the state the chain has now before it re-routes.
                let _ = self.inner.refresh(None, true).await;
                Err(rejected(
                    RejectKind::QuoteExpired,
                    format!(
                        "stale quote: state of block {} gives {}, the chain now gives {}",
                        view.block,
                        show(&local),
                        show(&chain)
                    ),
                ))
            }
        }
    }

    /// Signs the swap, records it in the swap log (if any) and sends it; returns its
    /// hash, also when the node's answer was lost (the transaction may still be in its
    /// pool, so the receipt is waited for anyway). A swap the log cannot take is not sent.
    async fn send(
        &mut self,
        order: &VenueOrder,
        plan: &Plan,
        view: &View,
        info: ChainInfo,
    ) -> Result<B256, Vec<VenueReport>> {
        let cfg = &self.inner.cfg;
        let not_sent = |e: ChainError| rejected(RejectKind::NoLiquidity, format!("not sent: {e}"));
        let nonce = match self.nonce {
            Some(n) => n,
            None => {
                let n: U64 = self
                    .inner
                    .rpc
                    .call(
                        "eth_getTransactionCount",
                        json!([self.inner.account, "pending"]),
                    )
                    .await
                    .map_err(not_sent)?;
                n.to::<u64>()
            }
        };
        let input: Bytes = abi::router_swap_call(
            plan.sell_base,
            cfg.pool,
            plan.pay,
            plan.min_receive,
            self.inner.account,
        )
        .into();
        let tx = match cfg.fee_mode {
            FeeMode::Eip1559 => UnsignedTx::Eip1559(TxEip1559 {
                chain_id: info.chain_id,
                nonce,
                gas_limit: cfg.gas_limit,
                max_fee_per_gas: view
                    .base_fee
                    .unwrap_or(0)
                    .saturating_mul(2)
                    .saturating_add(view.tip),
                max_priority_fee_per_gas: view.tip,
                to: TxKind::Call(cfg.router),
                value: U256::ZERO,
                access_list: Default::default(),
                input,
            }),
            FeeMode::Legacy => UnsignedTx::Legacy(TxLegacy {
                chain_id: Some(info.chain_id),
                nonce,
                gas_price: view.gas_price,
                gas_limit: cfg.gas_limit,
                to: TxKind::Call(cfg.router),
                value: U256::ZERO,
                input,
            }),
        };
        let (raw, hash) = self.inner.key.sign(tx).map_err(not_sent)?;
        if let Some(log) = &self.inner.swaps {
            let record = SwapRecord {
                client_id: order.client_id.clone(),
                tx: hash,
                nonce,
                sell_base: plan.sell_base,
                pay: plan.pay,
                min_receive: plan.min_receive,
                qty: order.qty,
                at_ms: unix_ms(),
            };
            let log = log.clone();
            let written = tokio::task::spawn_blocking(move || log.lock().append(record))
                .await
                .unwrap_or_else(|e| {
                    Err(ChainError::SwapLog {
                        file: cfg
                            .intent_log
                            .as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        problem: format!("writer task failed: {e}"),
                    })
                });
            if let Err(e) = written {
                tracing::error!(venue = %cfg.venue, child = %order.client_id, "swap not sent: {e}");
                let why = match e {
                    ChainError::SwapLog { file, problem } => format!("{problem} ({file})"),
                    other => other.to_string(),
                };
                return Err(rejected(
                    RejectKind::NoLiquidity,
                    format!("not sent: swap log: {why}"),
                ));
            }
        }
        match self
            .inner
            .rpc
            .call::<B256>("eth_sendRawTransaction", json!([Bytes::from(raw)]))
            .await
        {
            Ok(answered) => {
                if answered != hash {
                    tracing::warn!(venue = %cfg.venue, "node answered tx hash {answered}, signed {hash}");
                }
                self.nonce = Some(nonce + 1);
                Ok(hash)
            }
            Err(e @ ChainError::Rpc { .. }) => {
                self.nonce = None;
                Err(rejected(
                    RejectKind::NoLiquidity,
                    format!("not sent: the node refused the transaction: {e}"),
                ))
            }
            Err(e) => {
                self.nonce = None;
                tracing::warn!(venue = %cfg.venue, tx = %hash, "send answer lost ({e}); waiting for a receipt anyway");
                Ok(hash)
            }
        }
    }
}

impl Inner {
    /// Asks for `hash`'s receipt every `receipt_poll` until `deadline`; `None` if none came.
    pub(super) async fn wait_receipt(
        &self,
        hash: B256,
        deadline: Instant,
    ) -> Option<WithOtherFields<TransactionReceipt>> {
        let cfg = &self.cfg;
        loop {
            let got: Result<Option<WithOtherFields<TransactionReceipt>>, _> = self
                .rpc
                .call("eth_getTransactionReceipt", json!([hash]))
                .await;
            match got {
                Ok(Some(r)) => return Some(r),
                Ok(None) => {}
                Err(e) => tracing::debug!(venue = %cfg.venue, tx = %hash, "receipt not read: {e}"),
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            tokio::time::sleep(cfg.receipt_poll.min(deadline - now)).await;
        }
    }

    /// The account's mined transaction count (`eth_getTransactionCount latest`): every
    /// nonce below it is used.
    pub(super) async fn mined_nonce(&self) -> Result<u64, ChainError> {
        let n: U64 = self
            .rpc
            .call("eth_getTransactionCount", json!([self.account, "latest"]))
            .await?;
        Ok(n.to::<u64>())
    }
}

/// The reject for a swap without a receipt within `receipt_timeout`, logged at warn
/// level with its hash so the operator can look for it.
pub(super) fn no_receipt(cfg: &ChainLinkConfig, hash: B256) -> Vec<VenueReport> {
    tracing::warn!(venue = %cfg.venue, tx = %hash, "no receipt within {:?}: reported as dropped; check this transaction", cfg.receipt_timeout);
    rejected(
        RejectKind::NoLiquidity,
        format!(
            "dropped: no receipt for {hash} within {:?}",
            cfg.receipt_timeout
        ),
    )
}

/// What a mined swap's receipt means for its child, as [`PoolSim`] would report it:
/// `Ack`, `Fill` (the `DODOSwap` event's amounts, exec id = the tx hash), `FixedCost`
/// (the gas); or `FixedCost`, `Rejected{Revert}` for a revert. `sell_base` and
/// `child_qty` are the swap's direction and the child's size.
pub(super) fn receipt_reports(
    inner: &Inner,
    sell_base: bool,
    child_qty: Decimal,
    info: ChainInfo,
    hash: B256,
    r: &WithOtherFields<TransactionReceipt>,
) -> Vec<VenueReport> {
    let cfg = &inner.cfg;
    let gas = match units::gas_cost(r.gas_used, r.effective_gas_price) {
        Ok(g) => vec![VenueReport::FixedCost { amount: g }],
        Err(e) => {
            tracing::error!(venue = %cfg.venue, tx = %hash, "gas not reported: {e}");
            Vec::new()
        }
    };
    if !r.inner.inner.status() {
        let why = r
            .other
            .get("revertReason")
            .and_then(Value::as_str)
            .and_then(|h| alloy::hex::decode(h).ok())
            .and_then(|d| abi::decode_revert(&d))
            .unwrap_or_else(|| "status 0".into());
        let mut out = gas;
        out.push(VenueReport::Rejected {
            kind: RejectKind::Revert,
            reason: format!("reverted: {why} (tx {hash})"),
        });
        return out;
    }
    let (from_token, to_token, from_dec, to_dec) = if sell_base {
        (
            info.base_token,
            info.quote_token,
            cfg.base.decimals,
            cfg.quote.decimals,
        )
    } else {
        (
            info.quote_token,
            info.base_token,
            cfg.quote.decimals,
            cfg.base.decimals,
        )
    };
    let event = r.inner.inner.logs().iter().find_map(|l| {
        (l.address() == cfg.pool)
            .then(|| abi::decode_dodo_swap(l.topics(), &l.data().data))
            .flatten()
            .filter(|e| {
                e.fromToken == from_token && e.toToken == to_token && e.receiver == inner.account
            })
    });
    let amounts = event
        .ok_or_else(|| "no DODOSwap event of the pool to us".to_owned())
        .and_then(|e| {
            let paid = units::from_raw(e.fromAmount, from_dec).map_err(|x| x.to_string())?;
            let got = units::from_raw(e.toAmount, to_dec).map_err(|x| x.to_string())?;
            Ok((paid, got))
        });
    let (paid, got) = match amounts {
        Ok(a) => a,
        Err(why) => {
            tracing::error!(venue = %cfg.venue, tx = %hash, "swap succeeded but cannot be read: {why}; reconcile by hand");
            let mut out = gas;
            out.push(VenueReport::Rejected {
                kind: RejectKind::NoLiquidity,
                reason: format!("unresolved: tx {hash} succeeded but {why}"),
            });
            return out;
        }
    };
    // Sell: the base paid at the quote received. Buy: the child's size (dust above it
    // stays in the wallet, as in PoolSim) at the quote paid.
    let (qty, amount) = if sell_base {
        (paid, got)
    } else {
        (got.min(child_qty), paid)
    };
    if qty <= Decimal::ZERO {
        let mut out = gas;
        out.push(VenueReport::Rejected {
            kind: RejectKind::NoLiquidity,
            reason: format!("swap {hash} traded nothing"),
        });
        return out;
    }
    let mut out = vec![
        VenueReport::Ack,
        VenueReport::Fill {
            qty,
            px: amount / qty,
            fee: Decimal::ZERO,
            exec_id: hash.to_string(),
        },
    ];
    out.extend(gas);
    out
}

/// Now, in unix milliseconds (0 if the clock is before 1970).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_path_or_credentials() {
        assert_eq!(
            redact_url("https://user:pw@mainnet.example/v3/SECRETKEY?x=1"),
            "https://mainnet.example/…"
        );
        let cfg = ChainLinkConfig::new(
            VenueId("p".into()),
            "A/B",
            "https://node.example/key/SECRETKEY",
            Address::ZERO,
            Address::ZERO,
        );
        assert!(!format!("{cfg:?}").contains("SECRETKEY"));
    }

    #[test]
    fn config_problems_name_the_field() {
        let mut cfg = ChainLinkConfig::new(
            VenueId("p".into()),
            "A/B",
            "http://127.0.0.1:1/",
            Address::ZERO,
            Address::ZERO,
        );
        cfg.quote.decimals = 30;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("quote.decimals")
        );
        cfg.quote.decimals = 6;
        cfg.receipt_timeout = Duration::ZERO;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("receipt_timeout")
        );
    }
}
