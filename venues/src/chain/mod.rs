//! On-chain DODO V2 pools over Ethereum JSON-RPC: the adapter ([`ChainLink`]) and a
//! chain simulator ([`sim::ChainSim`]) to run it against.
//!
//! - [`abi`]: the pool and router interfaces (alloy `sol!`), call and return encoding.
//! - [`ChainLink`]: one pool as a [`crate::VenueLink`]. It reads the pool state per
//!   block and shows it to the router as [`crate::sim::PoolSim`]'s curve over
//!   [`crate::pool_math::ExactPmm`]; it checks every quote against the chain before
//!   sending, sends a signed swap with a min-receive guard, and reports the fill the
//!   receipt's `DODOSwap` event says and the gas the receipt says.
//! - `intents`: the write-ahead swap log ([`ChainLinkConfig::intent_log`]), and
//!   `reconcile`: what became of a child's swap after a restart, from that log and the
//!   receipt.
//! - [`sim`]: a JSON-RPC server on 127.0.0.1 holding pools with the same exact math,
//!   with controls to move pools, drop or revert transactions and delay blocks.
//!
//! # Pointing the adapter at a real node
//!
//! **RPC methods used**: `eth_chainId`, `eth_blockNumber`, `eth_getBlockByNumber`
//! (header only: `baseFeePerGas`), `eth_call` at a block number (the state of the
//! last ~`poll_interval` of blocks must be available: any full node keeps 128),
//! `eth_maxPriorityFeePerGas` (EIP-1559) or `eth_gasPrice` ([`FeeMode::Legacy`]),
//! `eth_getTransactionCount` (`pending`; `latest` when reconciling after a restart),
//! `eth_sendRawTransaction`, `eth_getTransactionReceipt`. Receipts are read as Ethereum receipts (alloy's types);
//! a chain with its own receipt types (an L2's deposit transactions) needs its node to
//! answer ours in the Ethereum shape, which they do for ordinary transactions. A
//! `revertReason` field in a failed receipt (Besu, the simulator) is shown in the reject;
//! other nodes give "status 0".
//!
//! **Pool calls**: `getPMMStateForCall()`, `getUserFeeRate(trader)`, `_BASE_TOKEN_()`,
//! `_QUOTE_TOKEN_()`, `querySellBase` / `querySellQuote(trader, amount)`: DSP, DPP and
//! DPPOracle pools answer all of them. A DVM returns two values from its query calls and
//! is not supported; a GSP is, with its own math revision (not modelled in
//! [`crate::pmm`] yet). Set [`ChainLinkConfig::math`] to the pool template's revision.
//!
//! **The key**: from the environment variable `SOR_CHAIN_KEY` (64 hex digits, `0x`
//! optional) by default ([`KeySource::Env`]), or given in the config
//! ([`KeySource::Hex`]). It is never shown by `Debug`, in errors or in logs; the RPC
//! URL is shown as scheme and host only, since paths often carry API keys.
//!
//! **The router**: DODO pools are paid before they are called (`transfer` to the pool,
//! then `sellBase(to)` / `sellQuote(to)`), so a swap needs a contract in front. The
//! adapter calls [`abi::ISorRouter`]:
//!
//! ```solidity
//! function sellBaseWithMin(address pool, uint256 pay, uint256 minReceive, address to)
//!     external returns (uint256 got) {
//!     IERC20(IDODOV2(pool)._BASE_TOKEN_()).safeTransferFrom(msg.sender, pool, pay);
//!     got = IDODOV2(pool).sellBase(to);
//!     require(got >= minReceive, "SorRouter: RECEIVE_BELOW_MIN");
//! }   // sellQuoteWithMin: the same with _QUOTE_TOKEN_ and sellQuote
//! ```
//!
//! Deploy that (the trader's account approves it once per token), or map the two calls
//! to DODO's own proxy: `DODOV2Proxy02.dodoSwapV2TokenToToken(fromToken, toToken,
//! pay, minReceive, [pool], directions, false, deadline)` with direction bit 0 for a
//! base sale and 1 for a quote sale, after approving `DODOApprove`; its revert on the
//! guard is `DODOV2Proxy02: Return amount is not enough`. Only the calldata in
//! [`abi::router_swap_call`] changes; the pool's `DODOSwap` event, which the fill is read
//! from, is the same (check which `receiver` the proxy passes: the adapter only reads
//! events whose receiver is its own account).
//!
//! **What is not handled on a real network yet**: a transaction without a receipt
//! within `receipt_timeout` is reported as dropped (a `Rejected`, never a fill) and its
//! nonce is re-read from the node, but it is not replaced by a cancelling transaction,
//! so if it is still mined later that fill arrives unreported (the adapter logs the
//! hash at warn level for reconciliation). Swaps go one at a time (each waits for its
//! receipt), which keeps the nonce sequence and the quote check simple. Reorgs are not
//! watched for: the first receipt counts.
//!
//! **After a crash**: with [`ChainLinkConfig::intent_log`] set (`sor serve` puts it at
//! `<data_dir>/chain/<venue>.swaps.jsonl`) every signed swap is recorded and synced
//! before it is sent, and [`crate::VenueLink::reconcile`] reads the recorded
//! transaction's receipt; the operator's view is in `docs/journal.md`.

pub mod abi;
mod client;
mod error;
mod intents;
mod key;
mod reconcile;
pub mod rpc;
pub mod sim;
mod units;

pub use alloy::primitives::{Address, B256, Bytes, U256};
pub use client::{ChainLink, ChainLinkConfig, FeeMode, TokenInfo};
pub use error::ChainError;
pub use key::{ChainKey, KEY_ENV, KeySource, SecretKeyHex, UnsignedTx};
pub use rpc::RpcClient;
pub use units::{NATIVE_DECIMALS, Rounding, from_raw, gas_cost, to_raw};
