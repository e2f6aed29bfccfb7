//! A chain simulator: an Ethereum JSON-RPC server on 127.0.0.1 holding DODO V2 pools
//! that quote and swap with the contracts' exact math ([`crate::pmm`]).
//!
//! It answers what the adapter needs (`eth_chainId`, `eth_blockNumber`,
//! `eth_getBlockByNumber` (transactions as hashes), `eth_call` on the pools' view
//! functions and on the router, `eth_gasPrice`, `eth_maxPriorityFeePerGas`,
//! `eth_estimateGas`, `eth_getTransactionCount`, `eth_sendRawTransaction`,
//! `eth_getTransactionReceipt`) and test controls:
//!
//! | method | params | effect |
//! | --- | --- | --- |
//! | `sim_mine` | – | mines a block now (even while mining is delayed); returns its number |
//! | `sim_pendingCount` | – | transactions and trades waiting for the next block |
//! | `sim_setPoolState` | `[pool, {i, k, b, q, b0, q0, r, lp_fee_rate, mt_fee_rate}]` | rewrites the pool's state at once, without a block (absent fields stay) |
//! | `sim_getPoolState` | `[pool]` | the stored state, in the same shape |
//! | `sim_trade` | `[pool, "sell_base"\|"sell_quote", amount, "now"\|"next_block"]` | another trader swaps: at once, or first in the next block |
//! | `sim_dropNext` | `[count?]` | the next transactions are answered with their hash and never mined |
//! | `sim_revertNext` | `[count?]` | the next transactions revert (`SIM: forced revert`), gas paid |
//! | `sim_delayMining` | `[ms]` | no scheduled block for that long |
//!
//! Integers in control calls are decimal strings or 0x hex. Transactions are executed
//! in arrival order when a block is mined: a swap through the router ([`ISorRouter`])
//! runs the pool's exact math, then the router's minimum check; a revert costs
//! `revert_gas`, a swap `swap_gas`, at `min(maxFee, baseFee + tip)` per gas. Token
//! balances are not modelled (every account can pay); nonces are strict (a future nonce
//! is refused, not queued). A failed receipt carries Besu's `revertReason` field.
//!
//! [`ISorRouter`]: crate::chain::abi::ISorRouter

mod chain;
mod server;

use super::ChainError;
use crate::pmm::{FeeRates, MathVersion, PmmState};
use alloy::primitives::{Address, U256};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chain::{Chain, Params};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::watch;

/// One pool the simulator holds, with its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPool {
    /// The pool contract's address.
    pub address: Address,
    /// The base token's address (the `fromToken` of a base sale).
    pub base_token: Address,
    /// The quote token's address.
    pub quote_token: Address,
    /// The stored state (reserves, targets, R, i, K), raw.
    pub state: PmmState,
    /// The fee rates every trader pays.
    pub fees: FeeRates,
    /// The math revision of the pool's template.
    pub version: MathVersion,
}

impl SimPool {
    /// Pool number `n` at [`SimPool::address_for`]`(n)`, its base token at
    /// `0x…b0nn` and its quote token at `0x…c0nn`, current math.
    pub fn new(n: u8, state: PmmState, fees: FeeRates) -> Self {
        Self {
            address: Self::address_for(n),
            base_token: Address::left_padding_from(&[0xb0, n]),
            quote_token: Address::left_padding_from(&[0xc0, n]),
            state,
            fees,
            version: MathVersion::default(),
        }
    }

    /// The address of pool number `n`: `0x000…00d0nn`.
    pub fn address_for(n: u8) -> Address {
        Address::left_padding_from(&[0xd0, n])
    }
}

/// When another trader's swap ([`ChainSim::trade`]) happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeTiming {
    /// At once, on the head state, without a new block (the adapter's last read goes stale).
    Now,
    /// First in the next block, ahead of transactions sent after it (a front-run).
    NextBlock,
}

/// How the simulator is set up.
#[derive(Debug, Clone)]
pub struct ChainSimConfig {
    /// Where to listen; port 0 picks a free port. Only loopback addresses are accepted.
    pub bind: SocketAddr,
    /// The chain id (`eth_chainId`); 31337 by default.
    pub chain_id: u64,
    /// A block every so often, or `None` to mine only on `sim_mine` / [`ChainSim::mine`].
    pub block_interval: Option<Duration>,
    /// Base fee per gas, wei (constant).
    pub base_fee: u128,
    /// The priority fee the node suggests, wei.
    pub priority_fee: u128,
    /// Gas a successful swap uses.
    pub swap_gas: u64,
    /// Gas a reverted swap uses.
    pub revert_gas: u64,
    /// The router contract's address.
    pub router: Address,
    /// The pools.
    pub pools: Vec<SimPool>,
    /// How many past blocks' states `eth_call` can read.
    pub history: usize,
    /// Seed of every random draw.
    pub seed: u64,
    /// Chance that an accepted transaction is silently dropped (seeded draw); 0 by default.
    pub drop_probability: f64,
}

impl Default for ChainSimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            chain_id: 31337,
            block_interval: Some(Duration::from_secs(1)),
            base_fee: 1_000_000_000,
            priority_fee: 100_000_000,
            swap_gas: 120_000,
            revert_gas: 45_000,
            router: Self::default_router(),
            pools: Vec::new(),
            history: 64,
            seed: 1,
            drop_probability: 0.0,
        }
    }
}

impl ChainSimConfig {
    /// The router's default address, `0x000…005050`.
    pub fn default_router() -> Address {
        Address::left_padding_from(&[0x50, 0x50])
    }
}

/// A running chain simulator. Dropping it stops the server and the miner.
#[derive(Debug)]
pub struct ChainSim {
    addr: SocketAddr,
    router: Address,
    chain_id: u64,
    chain: Arc<Mutex<Chain>>,
    stop: watch::Sender<bool>,
}

impl ChainSim {
    /// Starts the simulator on `handle`'s runtime: binds (synchronously, so the URL is
    /// known on return), then serves and mines in spawned tasks.
    ///
    /// ```no_run
    /// use venues::chain::sim::{ChainSim, ChainSimConfig, SimPool};
    /// use venues::pmm::{FeeRates, PmmState, RState, U256};
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let e18 = U256::from(10u64).pow(U256::from(18u64));
    /// let state = PmmState { i: e18, k: e18 / U256::from(10u64), b: e18 * U256::from(1000u64),
    ///     q: e18 * U256::from(1000u64), b0: e18 * U256::from(1000u64),
    ///     q0: e18 * U256::from(1000u64), r: RState::One };
    /// let fees = FeeRates { lp_fee_rate: U256::ZERO, mt_fee_rate: U256::ZERO };
    /// let pools = (1..=3).map(|n| SimPool::new(n, state, fees)).collect();
    /// let sim = ChainSim::start(ChainSimConfig { pools, ..Default::default() }, rt.handle())?;
    /// println!("{}", sim.url());
    /// # Ok::<(), venues::chain::ChainError>(())
    /// ```
    pub fn start(config: ChainSimConfig, handle: &Handle) -> Result<ChainSim, ChainError> {
        if !config.bind.ip().is_loopback() {
            return Err(ChainError::Config {
                field: "bind".into(),
                problem: format!("{} is not a loopback address", config.bind.ip()),
            });
        }
        if !(0.0..=1.0).contains(&config.drop_probability) {
            return Err(ChainError::Config {
                field: "drop_probability".into(),
                problem: "must be within [0, 1]".into(),
            });
        }
        let params = Params {
            chain_id: config.chain_id,
            base_fee: config.base_fee,
            priority_fee: config.priority_fee,
            swap_gas: config.swap_gas,
            revert_gas: config.revert_gas,
            router: config.router,
            history: config.history.max(1),
            block_secs: config.block_interval.map_or(1, |d| d.as_secs().max(1)),
            drop_probability: config.drop_probability,
        };
        let chain =
            Chain::new(params, config.pools, config.seed).map_err(|e| ChainError::Config {
                field: "pools".into(),
                problem: e,
            })?;
        let chain = Arc::new(Mutex::new(chain));
        let listener = std::net::TcpListener::bind(config.bind)
            .map_err(|e| ChainError::Sim(format!("cannot bind {}: {e}", config.bind)))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ChainError::Sim(format!("cannot set non-blocking: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ChainError::Sim(format!("no local address: {e}")))?;
        let listener = {
            let _guard = handle.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|e| ChainError::Sim(format!("cannot register the listener: {e}")))?
        };
        let (stop, stopped) = watch::channel(false);
        let app = axum::Router::new()
            .route("/", axum::routing::post(rpc))
            .with_state(chain.clone());
        let mut server_stop = stopped.clone();
        handle.spawn(async move {
            let shutdown = async move {
                let _ = server_stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("chain simulator server stopped: {e}");
            }
        });
        if let Some(interval) = config.block_interval {
            let chain = chain.clone();
            let mut miner_stop = stopped;
            handle.spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            chain.lock().mine_on_schedule(Instant::now());
                        }
                        _ = miner_stop.wait_for(|s| *s) => break,
                    }
                }
            });
        }
        Ok(ChainSim {
            addr,
            router: config.router,
            chain_id: config.chain_id,
            chain,
            stop,
        })
    }

    /// The JSON-RPC URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The router contract's address.
    pub fn router(&self) -> Address {
        self.router
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The head block's number.
    pub fn block_number(&self) -> u64 {
        self.chain.lock().head()
    }

    /// Mines a block now with everything pending; returns its number.
    pub fn mine(&self) -> u64 {
        self.chain.lock().mine()
    }

    /// Transactions and trades waiting for the next block.
    pub fn pending_count(&self) -> usize {
        self.chain.lock().pending_count()
    }

    /// The account's next nonce, counting pending transactions or not.
    pub fn nonce(&self, account: &Address, pending: bool) -> u64 {
        self.chain.lock().nonce(account, pending)
    }

    /// A pool's stored state and fees.
    pub fn pool_state(&self, pool: &Address) -> Option<(PmmState, FeeRates)> {
        self.chain.lock().pool_state(pool)
    }

    /// Rewrites a pool's state (and fees, if given) at once, without a block.
    pub fn set_pool_state(
        &self,
        pool: &Address,
        state: PmmState,
        fees: Option<FeeRates>,
    ) -> Result<(), ChainError> {
        self.chain
            .lock()
            .set_pool_state(pool, state, fees)
            .map_err(|e| ChainError::Sim(format!("set_pool_state: {e}")))
    }

    /// Another trader sells `amount` (raw) of base (`sell_base`) or quote into `pool`.
    /// Returns what it receives (now) or would receive at the head state (next block).
    pub fn trade(
        &self,
        pool: &Address,
        sell_base: bool,
        amount: U256,
        when: TradeTiming,
    ) -> Result<U256, ChainError> {
        self.chain
            .lock()
            .trade(*pool, sell_base, amount, when)
            .map_err(|e| ChainError::Sim(format!("trade reverted: {e}")))
    }

    /// The next `n` transactions are answered with their hash and never mined.
    pub fn drop_next(&self, n: u32) {
        self.chain.lock().drop_next(n);
    }

    /// The next `n` transactions revert when mined (gas paid).
    pub fn revert_next(&self, n: u32) {
        self.chain.lock().revert_next(n);
    }

    /// No scheduled block for `d` (manual [`ChainSim::mine`] still mines).
    pub fn delay_mining(&self, d: Duration) {
        self.chain.lock().delay_mining(Instant::now() + d);
    }
}

impl Drop for ChainSim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn rpc(State(chain): State<Arc<Mutex<Chain>>>, body: Bytes) -> Response {
    match server::handle_body(&chain, &body) {
        Some(v) => ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}
