//! The simulated chain itself, without the server: pools, accounts, the pending pool,
//! blocks and receipts. Every method is synchronous; the server holds the lock for one
//! request at a time.

use super::{SimPool, TradeTiming};
use crate::chain::abi::{self, IDODOV2Pool, ISorRouter, MIN_RECEIVE_REASON};
use crate::chain::rpc::codes;
use crate::pmm::{self, FeeRates, MathVersion, PmmState, SellQuote};
use alloy::consensus::transaction::SignerRecoverable;
use alloy::consensus::{Eip658Value, Receipt, ReceiptEnvelope, Transaction, TxEnvelope, TxType};
use alloy::eips::eip2718::Decodable2718;
use alloy::primitives::{Address, B256, Bytes, Log as PrimLog, U256};
use alloy::rpc::types::{Block, BlockTransactions, Header as RpcHeader, Log, TransactionReceipt};
use alloy::sol_types::{SolCall, SolEvent};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Instant;

/// Most transactions the pending pool holds; more are refused ("txpool is full").
pub(crate) const MAX_PENDING: usize = 4096;
/// Most receipts kept; the oldest are forgotten first.
pub(crate) const MAX_RECEIPTS: usize = 65_536;
/// Timestamp of block 0 (fixed, so runs do not depend on the wall clock).
const GENESIS_TIME: u64 = 1_700_000_000;
/// Gas of a plain transfer.
const TRANSFER_GAS: u64 = 21_000;
/// The block gas limit the simulator reports.
const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// A JSON-RPC error the server answers with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RpcErr {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcErr {
    pub(crate) fn params(message: impl Into<String>) -> Self {
        Self {
            code: codes::INVALID_PARAMS,
            message: format!("invalid params: {}", message.into()),
            data: None,
        }
    }

    pub(crate) fn server(message: impl Into<String>) -> Self {
        Self {
            code: codes::SERVER_ERROR,
            message: message.into(),
            data: None,
        }
    }

    /// geth's answer to a call that reverted: code 3, the reason, the revert data.
    fn reverted(reason: &str, data: Vec<u8>) -> Self {
        Self {
            code: codes::EXECUTION_REVERTED,
            message: if reason.is_empty() {
                "execution reverted".into()
            } else {
                format!("execution reverted: {reason}")
            },
            data: Some(json!(Bytes::from(data))),
        }
    }
}

/// Which block's state a call reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockSel {
    /// The head (`latest`, `pending`, `safe`, `finalized`).
    Latest,
    /// Block 0.
    Earliest,
    /// A block number.
    Number(u64),
}

/// A signed transaction as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodedTx {
    pub hash: B256,
    pub from: Address,
    pub chain_id: Option<u64>,
    pub nonce: u64,
    pub to: Option<Address>,
    pub input: Bytes,
    pub gas_limit: u64,
    pub ty: TxType,
    /// Max fee per gas (legacy: the gas price).
    pub max_fee: u128,
    /// Max priority fee per gas (legacy: the gas price).
    pub tip: u128,
}

/// Decodes raw EIP-2718 bytes (legacy or EIP-1559) and recovers the sender.
pub(crate) fn decode_raw_tx(raw: &[u8]) -> Result<DecodedTx, String> {
    let mut buf = raw;
    let env = TxEnvelope::decode_2718(&mut buf).map_err(|e| format!("cannot decode: {e}"))?;
    if !buf.is_empty() {
        return Err(format!("{} bytes after the transaction", buf.len()));
    }
    let ty = env.tx_type();
    let (max_fee, tip) = match &env {
        TxEnvelope::Legacy(t) => (t.tx().gas_price, t.tx().gas_price),
        TxEnvelope::Eip1559(t) => (t.tx().max_fee_per_gas, t.tx().max_priority_fee_per_gas),
        _ => {
            return Err(format!(
                "transaction type {ty} is not supported (legacy or EIP-1559)"
            ));
        }
    };
    let from = env
        .recover_signer()
        .map_err(|e| format!("cannot recover the sender: {e}"))?;
    Ok(DecodedTx {
        hash: *env.tx_hash(),
        from,
        chain_id: env.chain_id(),
        nonce: env.nonce(),
        to: env.to(),
        input: env.input().clone(),
        gas_limit: env.gas_limit(),
        ty,
        max_fee,
        tip,
    })
}

/// Parameters fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub chain_id: u64,
    pub base_fee: u128,
    pub priority_fee: u128,
    pub swap_gas: u64,
    pub revert_gas: u64,
    pub router: Address,
    pub history: usize,
    pub block_secs: u64,
    pub drop_probability: f64,
}

#[derive(Debug, Clone)]
struct PoolEntry {
    base_token: Address,
    quote_token: Address,
    state: PmmState,
    fees: FeeRates,
    version: MathVersion,
}

#[derive(Debug, Clone)]
enum Pending {
    Tx(DecodedTx),
    Trade {
        pool: Address,
        sell_base: bool,
        amount: U256,
    },
}

/// What executing one transaction did.
struct Outcome {
    success: bool,
    gas_used: u64,
    logs: Vec<PrimLog>,
    revert: Option<String>,
}

/// The whole simulated chain.
pub(crate) struct Chain {
    p: Params,
    pools: BTreeMap<Address, PoolEntry>,
    /// `(block, pool states at its end)`, oldest first, for calls at past blocks.
    history: VecDeque<(u64, BTreeMap<Address, PoolEntry>)>,
    /// Recent blocks as JSON (hashes only), oldest first; the last is the head.
    blocks: VecDeque<(u64, Value)>,
    head: u64,
    head_hash: B256,
    nonces: HashMap<Address, u64>,
    pending_nonces: HashMap<Address, u64>,
    pending: Vec<Pending>,
    pending_hashes: HashSet<B256>,
    receipts: HashMap<B256, Value>,
    receipt_order: VecDeque<B256>,
    drop_next: u32,
    revert_next: u32,
    delay_until: Option<Instant>,
    rng: ChaCha8Rng,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain_id", &self.p.chain_id)
            .field("head", &self.head)
            .field("pools", &self.pools.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

fn max112() -> U256 {
    (U256::from(1u64) << 112) - U256::from(1u64)
}

/// Checks a pool state the way storage would hold it (reserves and targets are `uint112`).
pub(crate) fn check_state(state: &PmmState) -> Result<(), String> {
    for (name, v) in [
        ("b", state.b),
        ("q", state.q),
        ("b0", state.b0),
        ("q0", state.q0),
    ] {
        if v > max112() {
            return Err(format!("{name}: {v} does not fit uint112"));
        }
    }
    Ok(())
}

impl Chain {
    pub(crate) fn new(p: Params, pools: Vec<SimPool>, seed: u64) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for (n, pool) in pools.into_iter().enumerate() {
            check_state(&pool.state).map_err(|e| format!("pools[{n}].state.{e}"))?;
            if map.contains_key(&pool.address) || pool.address == p.router {
                return Err(format!(
                    "pools[{n}].address: {} is used twice",
                    pool.address
                ));
            }
            map.insert(
                pool.address,
                PoolEntry {
                    base_token: pool.base_token,
                    quote_token: pool.quote_token,
                    state: pool.state,
                    fees: pool.fees,
                    version: pool.version,
                },
            );
        }
        let mut chain = Self {
            p,
            pools: map,
            history: VecDeque::new(),
            blocks: VecDeque::new(),
            head: 0,
            head_hash: B256::ZERO,
            nonces: HashMap::new(),
            pending_nonces: HashMap::new(),
            pending: Vec::new(),
            pending_hashes: HashSet::new(),
            receipts: HashMap::new(),
            receipt_order: VecDeque::new(),
            drop_next: 0,
            revert_next: 0,
            delay_until: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
        };
        let (hash, block) = chain.block_json(0, B256::ZERO, 0, Vec::new());
        chain.head_hash = hash;
        chain.blocks.push_back((0, block));
        Ok(chain)
    }

    pub(crate) fn params(&self) -> &Params {
        &self.p
    }

    pub(crate) fn head(&self) -> u64 {
        self.head
    }

    pub(crate) fn gas_price(&self) -> u128 {
        self.p.base_fee.saturating_add(self.p.priority_fee)
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// The account's next nonce: mined only (`latest`) or with the pending pool.
    pub(crate) fn nonce(&self, who: &Address, pending: bool) -> u64 {
        let mined = self.nonces.get(who).copied().unwrap_or(0);
        if pending {
            self.pending_nonces.get(who).copied().unwrap_or(mined)
        } else {
            mined
        }
    }

    pub(crate) fn pool_state(&self, pool: &Address) -> Option<(PmmState, FeeRates)> {
        self.pools.get(pool).map(|p| (p.state, p.fees))
    }

    pub(crate) fn set_pool_state(
        &mut self,
        pool: &Address,
        state: PmmState,
        fees: Option<FeeRates>,
    ) -> Result<(), String> {
        check_state(&state)?;
        let entry = self
            .pools
            .get_mut(pool)
            .ok_or_else(|| format!("no pool at {pool}"))?;
        entry.state = state;
        if let Some(f) = fees {
            entry.fees = f;
        }
        Ok(())
    }

    pub(crate) fn drop_next(&mut self, n: u32) {
        self.drop_next = self.drop_next.saturating_add(n);
    }

    pub(crate) fn revert_next(&mut self, n: u32) {
        self.revert_next = self.revert_next.saturating_add(n);
    }

    pub(crate) fn delay_mining(&mut self, until: Instant) {
        self.delay_until = Some(until);
    }

    /// Another trader's swap: now (on the head state, no block) or queued for the next
    /// block ahead of what is sent after it. Returns what it pays (now) or would pay at
    /// the head state (queued).
    pub(crate) fn trade(
        &mut self,
        pool: Address,
        sell_base: bool,
        amount: U256,
        when: TradeTiming,
    ) -> Result<U256, String> {
        let other = Address::with_last_byte(0xee);
        let commit = when == TradeTiming::Now;
        let (q, _) = self.swap(pool, sell_base, amount, U256::ZERO, other, other, commit)?;
        if !commit {
            if self.pending.len() >= MAX_PENDING {
                return Err("txpool is full".into());
            }
            self.pending.push(Pending::Trade {
                pool,
                sell_base,
                amount,
            });
        }
        Ok(q.receive)
    }

    /// `eth_sendRawTransaction`: checks, then queues (or drops, if told to).
    pub(crate) fn send_raw(&mut self, raw: &[u8]) -> Result<B256, RpcErr> {
        let tx = decode_raw_tx(raw)
            .map_err(|e| RpcErr::params(format!("params[0]: not a signed transaction: {e}")))?;
        match tx.chain_id {
            Some(id) if id == self.p.chain_id => {}
            Some(id) => {
                return Err(RpcErr::server(format!(
                    "invalid chain id: transaction is for {id}, this chain is {}",
                    self.p.chain_id
                )));
            }
            None => {
                return Err(RpcErr::server(
                    "only replay-protected (EIP-155) transactions allowed",
                ));
            }
        }
        if self.pending_hashes.contains(&tx.hash) || self.receipts.contains_key(&tx.hash) {
            return Err(RpcErr::server("already known"));
        }
        let next = self.nonce(&tx.from, true);
        if tx.nonce < next {
            return Err(RpcErr::server(format!(
                "nonce too low: next nonce {next}, tx nonce {}",
                tx.nonce
            )));
        }
        if tx.nonce > next {
            return Err(RpcErr::server(format!(
                "nonce too high: next nonce {next}, tx nonce {} (the simulator does not queue future nonces)",
                tx.nonce
            )));
        }
        if tx.gas_limit < TRANSFER_GAS {
            return Err(RpcErr::server(format!(
                "intrinsic gas too low: have {}, want {TRANSFER_GAS}",
                tx.gas_limit
            )));
        }
        if tx.max_fee < self.p.base_fee {
            return Err(RpcErr::server(format!(
                "max fee per gas less than block base fee: maxFeePerGas: {}, baseFee: {}",
                tx.max_fee, self.p.base_fee
            )));
        }
        if self.pending.len() >= MAX_PENDING {
            return Err(RpcErr::server("txpool is full"));
        }
        let hash = tx.hash;
        let random_drop =
            self.p.drop_probability > 0.0 && self.rng.random::<f64>() < self.p.drop_probability;
        if self.drop_next > 0 || random_drop {
            // Accepted, then lost: the node answers the hash and never mines it.
            self.drop_next = self.drop_next.saturating_sub(1);
            return Ok(hash);
        }
        self.pending_nonces.insert(tx.from, next + 1);
        self.pending_hashes.insert(hash);
        self.pending.push(Pending::Tx(tx));
        Ok(hash)
    }

    /// Mines a block unless mining is delayed; returns the new head if one was mined.
    pub(crate) fn mine_on_schedule(&mut self, now: Instant) -> Option<u64> {
        match self.delay_until {
            Some(t) if now < t => None,
            _ => {
                self.delay_until = None;
                Some(self.mine())
            }
        }
    }

    /// Mines one block with every pending transaction, in arrival order.
    pub(crate) fn mine(&mut self) -> u64 {
        let number = self.head + 1;
        self.history.push_back((self.head, self.pools.clone()));
        while self.history.len() > self.p.history {
            self.history.pop_front();
        }
        let mut executed = Vec::new();
        for item in std::mem::take(&mut self.pending) {
            match item {
                Pending::Trade {
                    pool,
                    sell_base,
                    amount,
                } => {
                    let other = Address::with_last_byte(0xee);
                    // Another trader's swap that fails simply does not happen.
                    let _ = self.swap(pool, sell_base, amount, U256::ZERO, other, other, true);
                }
                Pending::Tx(tx) => {
                    self.pending_hashes.remove(&tx.hash);
                    self.nonces.insert(tx.from, tx.nonce + 1);
                    let out = self.execute(&tx);
                    executed.push((tx, out));
                }
            }
        }
        let gas_used = executed.iter().map(|(_, o)| o.gas_used).sum();
        let hashes = executed.iter().map(|(t, _)| t.hash).collect();
        let (hash, block) = self.block_json(number, self.head_hash, gas_used, hashes);
        let mut cumulative = 0u64;
        let mut log_index = 0u64;
        for (index, (tx, out)) in executed.into_iter().enumerate() {
            cumulative += out.gas_used;
            let logs: Vec<Log> = out
                .logs
                .into_iter()
                .map(|inner| {
                    let l = Log {
                        inner,
                        block_hash: Some(hash),
                        block_number: Some(number),
                        block_timestamp: Some(self.timestamp(number)),
                        transaction_hash: Some(tx.hash),
                        transaction_index: Some(index as u64),
                        log_index: Some(log_index),
                        removed: false,
                    };
                    log_index += 1;
                    l
                })
                .collect();
            let receipt = Receipt {
                status: Eip658Value::Eip658(out.success),
                cumulative_gas_used: cumulative,
                logs,
            };
            let effective = if tx.ty == TxType::Legacy {
                tx.max_fee
            } else {
                tx.max_fee.min(self.p.base_fee.saturating_add(tx.tip))
            };
            let full = TransactionReceipt {
                inner: ReceiptEnvelope::from_typed(tx.ty, receipt.with_bloom()),
                transaction_hash: tx.hash,
                transaction_index: Some(index as u64),
                block_hash: Some(hash),
                block_number: Some(number),
                gas_used: out.gas_used,
                effective_gas_price: effective,
                blob_gas_used: None,
                blob_gas_price: None,
                from: tx.from,
                to: tx.to,
                contract_address: None,
            };
            let mut v = serde_json::to_value(&full).unwrap_or(Value::Null);
            if let (Some(reason), Some(obj)) = (out.revert, v.as_object_mut()) {
                // Besu's extra receipt field: the revert data, so a client can say why.
                obj.insert(
                    "revertReason".into(),
                    json!(Bytes::from(abi::encode_revert(&reason))),
                );
            }
            self.receipts.insert(tx.hash, v);
            self.receipt_order.push_back(tx.hash);
            while self.receipt_order.len() > MAX_RECEIPTS {
                if let Some(old) = self.receipt_order.pop_front() {
                    self.receipts.remove(&old);
                }
            }
        }
        self.head = number;
        self.head_hash = hash;
        self.blocks.push_back((number, block));
        while self.blocks.len() > self.p.history + 1 {
            self.blocks.pop_front();
        }
        number
    }

    fn timestamp(&self, number: u64) -> u64 {
        GENESIS_TIME + number * self.p.block_secs.max(1)
    }

    fn block_json(
        &self,
        number: u64,
        parent: B256,
        gas_used: u64,
        txs: Vec<B256>,
    ) -> (B256, Value) {
        let header = alloy::consensus::Header {
            parent_hash: parent,
            number,
            timestamp: self.timestamp(number),
            gas_limit: BLOCK_GAS_LIMIT,
            gas_used,
            base_fee_per_gas: Some(u64::try_from(self.p.base_fee).unwrap_or(u64::MAX)),
            ..Default::default()
        };
        let header = RpcHeader::new(header);
        let hash = header.hash;
        let block: Block = Block {
            header,
            uncles: Vec::new(),
            transactions: BlockTransactions::Hashes(txs),
            withdrawals: None,
        };
        (hash, serde_json::to_value(&block).unwrap_or(Value::Null))
    }

    pub(crate) fn block(&self, sel: BlockSel) -> Value {
        let number = match sel {
            BlockSel::Latest => self.head,
            BlockSel::Earliest => 0,
            BlockSel::Number(n) => n,
        };
        self.blocks
            .iter()
            .find(|(n, _)| *n == number)
            .map_or(Value::Null, |(_, b)| b.clone())
    }

    pub(crate) fn receipt(&self, hash: &B256) -> Value {
        self.receipts.get(hash).cloned().unwrap_or(Value::Null)
    }

    fn execute(&mut self, tx: &DecodedTx) -> Outcome {
        let revert = |reason: &str, gas: u64| Outcome {
            success: false,
            gas_used: gas.min(tx.gas_limit),
            logs: Vec::new(),
            revert: Some(reason.to_owned()),
        };
        if self.revert_next > 0 {
            self.revert_next -= 1;
            return revert("SIM: forced revert", self.p.revert_gas);
        }
        let Some(to) = tx.to else {
            return revert("contract creation is not supported", self.p.revert_gas);
        };
        if to != self.p.router {
            // A plain transfer (or a call to an account without code) just succeeds.
            return Outcome {
                success: true,
                gas_used: TRANSFER_GAS,
                logs: Vec::new(),
                revert: None,
            };
        }
        let call = match abi::decode_router_swap(&tx.input) {
            Ok(c) => c,
            Err(_) => return revert("", self.p.revert_gas),
        };
        if tx.gas_limit < self.p.swap_gas {
            return revert("out of gas", tx.gas_limit);
        }
        match self.swap(
            call.pool,
            call.sell_base,
            call.pay,
            call.min_receive,
            self.p.router,
            call.to,
            true,
        ) {
            Ok((_, log)) => Outcome {
                success: true,
                gas_used: self.p.swap_gas,
                logs: vec![log],
                revert: None,
            },
            Err(reason) => revert(&reason, self.p.revert_gas),
        }
    }

    /// A swap through the pool as DSP's `sellBase` / `sellQuote` runs it, then the
    /// router's minimum check; state changes only if `commit` and nothing reverted.
    #[allow(clippy::too_many_arguments)]
    fn swap(
        &mut self,
        pool: Address,
        sell_base: bool,
        pay: U256,
        min_receive: U256,
        trader: Address,
        receiver: Address,
        commit: bool,
    ) -> Result<(SellQuote, PrimLog), String> {
        let entry = self
            .pools
            .get_mut(&pool)
            .ok_or_else(|| "SorRouter: UNKNOWN_POOL".to_owned())?;
        let q = query(entry, sell_base, pay).map_err(|r| r.reason().to_owned())?;
        let next = apply(&entry.state, sell_base, pay, &q)?;
        if q.receive < min_receive {
            return Err(MIN_RECEIVE_REASON.into());
        }
        let (from_token, to_token) = if sell_base {
            (entry.base_token, entry.quote_token)
        } else {
            (entry.quote_token, entry.base_token)
        };
        if commit {
            entry.state = next;
        }
        let event = IDODOV2Pool::DODOSwap {
            fromToken: from_token,
            toToken: to_token,
            fromAmount: pay,
            toAmount: q.receive,
            trader,
            receiver,
        };
        Ok((
            q,
            PrimLog {
                address: pool,
                data: event.encode_log_data(),
            },
        ))
    }

    fn pools_at(&self, sel: BlockSel) -> Result<&BTreeMap<Address, PoolEntry>, RpcErr> {
        let number = match sel {
            BlockSel::Latest => return Ok(&self.pools),
            BlockSel::Earliest => 0,
            BlockSel::Number(n) => n,
        };
        if number == self.head {
            return Ok(&self.pools);
        }
        if number > self.head {
            return Err(RpcErr::server(format!("header not found: block {number}")));
        }
        self.history
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, p)| p)
            .ok_or_else(|| {
                RpcErr::server(format!(
                    "missing trie node: state of block {number} is not kept (last {} blocks)",
                    self.p.history
                ))
            })
    }

    /// `eth_call`: a pool's view functions, a router swap simulated, or nothing.
    pub(crate) fn call(&self, to: Address, data: &[u8], sel: BlockSel) -> Result<Bytes, RpcErr> {
        let pools = self.pools_at(sel)?;
        if let Some(entry) = pools.get(&to) {
            return pool_call(entry, data).map(Bytes::from);
        }
        if to == self.p.router {
            let call =
                abi::decode_router_swap(data).map_err(|_| RpcErr::reverted("", Vec::new()))?;
            let mut scratch = Chain::scratch(self, pools);
            return match scratch.swap(
                call.pool,
                call.sell_base,
                call.pay,
                call.min_receive,
                self.p.router,
                call.to,
                false,
            ) {
                Ok((q, _)) => Ok(Bytes::from(
                    ISorRouter::sellBaseWithMinCall::abi_encode_returns(&q.receive),
                )),
                Err(reason) => Err(RpcErr::reverted(&reason, abi::encode_revert(&reason))),
            };
        }
        Ok(Bytes::new())
    }

    /// `eth_estimateGas`: the gas the transaction would use, or the revert.
    pub(crate) fn estimate_gas(&self, to: Option<Address>, data: &[u8]) -> Result<u64, RpcErr> {
        match to {
            Some(to) if to == self.p.router => {
                self.call(to, data, BlockSel::Latest)?;
                Ok(self.p.swap_gas)
            }
            Some(to) if self.pools.contains_key(&to) => {
                self.call(to, data, BlockSel::Latest)?;
                Ok(self.p.swap_gas / 2)
            }
            Some(_) => Ok(TRANSFER_GAS),
            None => Err(RpcErr::reverted(
                "contract creation is not supported",
                Vec::new(),
            )),
        }
    }

    /// A throwaway chain holding only `pools`, to simulate a swap without touching state.
    fn scratch(&self, pools: &BTreeMap<Address, PoolEntry>) -> Chain {
        Chain {
            p: self.p.clone(),
            pools: pools.clone(),
            history: VecDeque::new(),
            blocks: VecDeque::new(),
            head: self.head,
            head_hash: self.head_hash,
            nonces: HashMap::new(),
            pending_nonces: HashMap::new(),
            pending: Vec::new(),
            pending_hashes: HashSet::new(),
            receipts: HashMap::new(),
            receipt_order: VecDeque::new(),
            drop_next: 0,
            revert_next: 0,
            delay_until: None,
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }
}

fn query(entry: &PoolEntry, sell_base: bool, pay: U256) -> Result<SellQuote, pmm::Revert> {
    if sell_base {
        pmm::query_sell_base(&entry.state, &entry.fees, pay, entry.version)
    } else {
        pmm::query_sell_quote(&entry.state, &entry.fees, pay, entry.version)
    }
}

/// The state after an executed sell, as DSP's `sellBase` / `sellQuote` leave it: the
/// output (received plus maintainer fee) leaves the pool, R and the input side's target
/// change only with R, and reserves and the target must fit `uint112`.
fn apply(state: &PmmState, sell_base: bool, pay: U256, q: &SellQuote) -> Result<PmmState, String> {
    let out = q
        .receive
        .checked_add(q.mt_fee)
        .ok_or_else(|| "ADD_ERROR".to_owned())?;
    let mut s = *state;
    let (input, output, target) = if sell_base {
        (&mut s.b, &mut s.q, &mut s.b0)
    } else {
        (&mut s.q, &mut s.b, &mut s.q0)
    };
    *output = output
        .checked_sub(out)
        .ok_or_else(|| "SafeERC20: low-level call failed".to_owned())?;
    if q.new_r != s.r {
        if q.new_target > max112() {
            return Err("OVERFLOW".into());
        }
        *target = q.new_target;
        s.r = q.new_r;
    }
    *input = input
        .checked_add(pay)
        .ok_or_else(|| "OVERFLOW".to_owned())?;
    if s.b > max112() || s.q > max112() {
        return Err("OVERFLOW".into());
    }
    Ok(s)
}

fn word(v: U256) -> Vec<u8> {
    v.to_be_bytes::<32>().to_vec()
}

fn address_word(a: Address) -> Vec<u8> {
    a.into_word().to_vec()
}

/// A pool's answer to `data`; unknown selectors and bad arguments revert without data,
/// like a contract without a fallback.
fn pool_call(entry: &PoolEntry, data: &[u8]) -> Result<Vec<u8>, RpcErr> {
    use IDODOV2Pool as P;
    let no_data = || RpcErr::reverted("", Vec::new());
    let math = |r: pmm::Revert| RpcErr::reverted(r.reason(), abi::encode_revert(r.reason()));
    let selector: [u8; 4] = data
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(no_data)?;
    let s = &entry.state;
    Ok(match selector {
        P::getPMMStateForCallCall::SELECTOR => {
            abi::encode_pmm_state(&pmm::adjusted_state(s, entry.version).map_err(math)?)
        }
        P::getUserFeeRateCall::SELECTOR => {
            P::getUserFeeRateCall::abi_decode(data).map_err(|_| no_data())?;
            P::getUserFeeRateCall::abi_encode_returns(&P::getUserFeeRateReturn {
                lpFeeRate: entry.fees.lp_fee_rate,
                mtFeeRate: entry.fees.mt_fee_rate,
            })
        }
        P::_BASE_TOKEN_Call::SELECTOR => address_word(entry.base_token),
        P::_QUOTE_TOKEN_Call::SELECTOR => address_word(entry.quote_token),
        P::_BASE_RESERVE_Call::SELECTOR => word(s.b),
        P::_QUOTE_RESERVE_Call::SELECTOR => word(s.q),
        P::_BASE_TARGET_Call::SELECTOR => word(s.b0),
        P::_QUOTE_TARGET_Call::SELECTOR => word(s.q0),
        P::_RState_Call::SELECTOR => word(U256::from(s.r.code())),
        P::_I_Call::SELECTOR => word(s.i),
        P::_K_Call::SELECTOR => word(s.k),
        P::_LP_FEE_RATE_Call::SELECTOR => word(entry.fees.lp_fee_rate),
        P::_MT_FEE_RATE_Call::SELECTOR => word(entry.fees.mt_fee_rate),
        P::querySellBaseCall::SELECTOR => {
            let c = P::querySellBaseCall::abi_decode(data).map_err(|_| no_data())?;
            let q = query(entry, true, c.payBaseAmount).map_err(math)?;
            abi::encode_sell_quote(true, &q)
        }
        P::querySellQuoteCall::SELECTOR => {
            let c = P::querySellQuoteCall::abi_decode(data).map_err(|_| no_data())?;
            let q = query(entry, false, c.payQuoteAmount).map_err(math)?;
            abi::encode_sell_quote(false, &q)
        }
        _ => return Err(no_data()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::key::{ChainKey, UnsignedTx};
    use crate::pmm::RState;
    use alloy::consensus::{TxEip1559, TxLegacy};
    use alloy::primitives::TxKind;

    fn e18(n: u64) -> U256 {
        U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
    }

    fn params() -> Params {
        Params {
            chain_id: 31337,
            base_fee: 1_000_000_000,
            priority_fee: 100_000_000,
            swap_gas: 120_000,
            revert_gas: 45_000,
            router: Address::with_last_byte(0x99),
            history: 8,
            block_secs: 1,
            drop_probability: 0.0,
        }
    }

    fn chain() -> Chain {
        let state = PmmState {
            i: e18(1),
            k: e18(1) / U256::from(10u64),
            b: e18(1000),
            q: e18(1000),
            b0: e18(1000),
            q0: e18(1000),
            r: RState::One,
        };
        let fees = FeeRates {
            lp_fee_rate: U256::ZERO,
            mt_fee_rate: U256::ZERO,
        };
        Chain::new(params(), vec![SimPool::new(1, state, fees)], 7).unwrap()
    }

    fn key() -> ChainKey {
        ChainKey::from_bytes([7u8; 32]).unwrap()
    }

    fn swap_tx(nonce: u64, chain_id: u64, min: U256) -> Vec<u8> {
        let pool = SimPool::address_for(1);
        let input = abi::router_swap_call(false, pool, e18(100), min, key().address());
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: 300_000,
            max_fee_per_gas: 3_000_000_000,
            max_priority_fee_per_gas: 100_000_000,
            to: TxKind::Call(params().router),
            input: input.into(),
            ..Default::default()
        };
        key().sign(UnsignedTx::Eip1559(tx)).unwrap().0
    }

    #[test]
    fn decodes_signed_transactions_and_recovers_the_sender() {
        let raw = swap_tx(0, 31337, U256::ZERO);
        let tx = decode_raw_tx(&raw).unwrap();
        assert_eq!(tx.from, key().address());
        assert_eq!(tx.chain_id, Some(31337));
        assert_eq!(tx.ty, TxType::Eip1559);
        assert_eq!((tx.max_fee, tx.tip), (3_000_000_000, 100_000_000));
        let call = abi::decode_router_swap(&tx.input).unwrap();
        assert_eq!(call.pay, e18(100));
        assert!(!call.sell_base);

        let legacy = TxLegacy {
            chain_id: Some(31337),
            nonce: 4,
            gas_price: 2_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(Address::with_last_byte(1)),
            ..Default::default()
        };
        let (raw, hash) = key().sign(UnsignedTx::Legacy(legacy)).unwrap();
        let tx = decode_raw_tx(&raw).unwrap();
        assert_eq!((tx.from, tx.nonce, tx.hash), (key().address(), 4, hash));
        assert_eq!(tx.ty, TxType::Legacy);

        assert!(decode_raw_tx(&[0x02, 0x01]).is_err());
        let mut trailing = raw.clone();
        trailing.push(0);
        assert!(
            decode_raw_tx(&trailing)
                .unwrap_err()
                .contains("after the transaction")
        );
    }

    #[test]
    fn send_checks_chain_id_and_nonce_then_mines_the_dodo_math() {
        let mut c = chain();
        let e = c.send_raw(&swap_tx(0, 1, U256::ZERO)).unwrap_err();
        assert!(e.message.contains("invalid chain id"), "{e:?}");
        let e = c.send_raw(&swap_tx(1, 31337, U256::ZERO)).unwrap_err();
        assert!(e.message.contains("nonce too high"), "{e:?}");
        let e = c.send_raw(&[0xde, 0xad]).unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMS);
        assert!(e.message.contains("params[0]"), "{e:?}");

        let hash = c.send_raw(&swap_tx(0, 31337, U256::ZERO)).unwrap();
        assert_eq!(c.nonce(&key().address(), true), 1);
        assert_eq!(c.nonce(&key().address(), false), 0);
        assert_eq!(c.receipt(&hash), Value::Null);
        assert_eq!(c.mine(), 1);
        let r = c.receipt(&hash);
        assert_eq!(r["status"], "0x1");
        assert_eq!(r["gasUsed"], "0x1d4c0");
        // 1 gwei base fee + 0.1 gwei tip
        assert_eq!(r["effectiveGasPrice"], "0x4190ab00");
        let log = &r["logs"][0];
        let topics: Vec<B256> = serde_json::from_value(log["topics"].clone()).unwrap();
        let data: Bytes = serde_json::from_value(log["data"].clone()).unwrap();
        let ev = abi::decode_dodo_swap(&topics, &data).unwrap();
        // DODO's own DSP test: 100 quote buys 98.914196817061816111 base.
        assert_eq!(ev.toAmount, U256::from(98_914_196_817_061_816_111u128));
        let (state, _) = c.pool_state(&SimPool::address_for(1)).unwrap();
        assert_eq!(state.r, RState::AboveOne);
        assert_eq!(state.q, e18(1100));
        assert_eq!(c.nonce(&key().address(), false), 1);
    }

    #[test]
    fn min_receive_and_forced_reverts_pay_gas_and_change_nothing() {
        let mut c = chain();
        let before = c.pool_state(&SimPool::address_for(1));
        let h1 = c.send_raw(&swap_tx(0, 31337, e18(99))).unwrap();
        c.mine();
        let r = c.receipt(&h1);
        assert_eq!(r["status"], "0x0");
        assert_eq!(r["gasUsed"], "0xafc8");
        let data: Bytes = serde_json::from_value(r["revertReason"].clone()).unwrap();
        assert_eq!(
            abi::decode_revert(&data).as_deref(),
            Some(MIN_RECEIVE_REASON)
        );
        assert_eq!(c.pool_state(&SimPool::address_for(1)), before);

        c.revert_next(1);
        let h2 = c.send_raw(&swap_tx(1, 31337, U256::ZERO)).unwrap();
        c.mine();
        assert_eq!(c.receipt(&h2)["status"], "0x0");
        assert_eq!(c.pool_state(&SimPool::address_for(1)), before);
    }

    #[test]
    fn a_dropped_transaction_never_lands_and_its_nonce_is_reusable() {
        let mut c = chain();
        c.drop_next(1);
        let h = c.send_raw(&swap_tx(0, 31337, U256::ZERO)).unwrap();
        c.mine();
        assert_eq!(c.receipt(&h), Value::Null);
        assert_eq!(c.nonce(&key().address(), true), 0);
        let h = c.send_raw(&swap_tx(0, 31337, U256::ZERO)).unwrap();
        c.mine();
        assert_eq!(c.receipt(&h)["status"], "0x1");
    }

    #[test]
    fn calls_read_past_blocks_and_the_head() {
        let mut c = chain();
        let pool = SimPool::address_for(1);
        let q = abi::query_sell_call(true, Address::ZERO, e18(10));
        let at0 = c.call(pool, &q, BlockSel::Latest).unwrap();
        c.trade(pool, true, e18(50), TradeTiming::NextBlock)
            .unwrap();
        assert_eq!(c.call(pool, &q, BlockSel::Latest).unwrap(), at0);
        c.mine();
        assert_ne!(c.call(pool, &q, BlockSel::Latest).unwrap(), at0);
        assert_eq!(c.call(pool, &q, BlockSel::Number(0)).unwrap(), at0);
        assert!(c.call(pool, &q, BlockSel::Number(9)).is_err());
        // a call to the router simulates the swap without moving the pool
        let swap = abi::router_swap_call(true, pool, e18(10), e18(100), Address::ZERO);
        let e = c
            .call(params().router, &swap, BlockSel::Latest)
            .unwrap_err();
        assert_eq!(e.code, codes::EXECUTION_REVERTED);
        assert!(e.message.contains(MIN_RECEIVE_REASON));
        let e = c.estimate_gas(Some(params().router), &swap).unwrap_err();
        assert_eq!(e.code, codes::EXECUTION_REVERTED);
        let ok = abi::router_swap_call(true, pool, e18(10), U256::ZERO, Address::ZERO);
        assert_eq!(c.estimate_gas(Some(params().router), &ok), Ok(120_000));
        assert_eq!(
            c.estimate_gas(Some(Address::with_last_byte(3)), &[]),
            Ok(21_000)
        );
    }

    #[test]
    fn delayed_mining_waits_and_manual_mining_does_not() {
        let mut c = chain();
        let now = Instant::now();
        c.delay_mining(now + std::time::Duration::from_secs(60));
        assert_eq!(c.mine_on_schedule(now), None);
        assert_eq!(c.mine(), 1);
        assert_eq!(
            c.mine_on_schedule(now + std::time::Duration::from_secs(61)),
            Some(2)
        );
        assert_eq!(c.mine_on_schedule(now), Some(3));
    }

    #[test]
    fn seeded_random_drops_repeat() {
        let run = || {
            let mut p = params();
            p.drop_probability = 0.5;
            let (state, fees) = chain().pool_state(&SimPool::address_for(1)).unwrap();
            let mut c = Chain::new(p, vec![SimPool::new(1, state, fees)], 42).unwrap();
            (0..16)
                .map(|_| {
                    let next = c.nonce(&key().address(), true);
                    let h = c.send_raw(&swap_tx(next, 31337, U256::ZERO)).unwrap();
                    c.mine();
                    c.receipt(&h) != Value::Null
                })
                .collect::<Vec<bool>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.contains(&true) && a.contains(&false), "{a:?}");
    }
}
