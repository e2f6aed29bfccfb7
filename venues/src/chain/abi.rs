//! The contract interfaces the chain adapter speaks, as Solidity ABI through alloy's
//! `sol!`: the DODO V2 pool subset, the swap router, and helpers that turn the calls'
//! return data into [`crate::pmm`] values.
//!
//! The pool functions are those of DODO V2 DSP / DPP (`contracts/DODOStablePool`,
//! `contracts/DODOPrivatePool` in DODOEX/contractV2): their selectors and return types
//! are the real ones, so the same calls work against a deployed pool. The router is ours
//! (see [`ISorRouter`] and the module documentation of [`crate::chain`] for the
//! real-network mapping).

use super::ChainError;
use crate::pmm::{FeeRates, PmmState, RState, SellQuote};
use alloy::primitives::{Address, U256};
use alloy::sol_types::{SolCall, SolEvent};

alloy::sol! {
    /// The DODO V2 pool (DSP / DPP) functions and event the adapter and the simulator use.
    #[derive(Debug, PartialEq, Eq)]
    interface IDODOV2Pool {
        /// The pool state after the target adjustment, `(i, K, B, Q, B0, Q0, R)`, with R as
        /// `uint256` (`DSPStorage.getPMMStateForCall`).
        function getPMMStateForCall() external view returns (uint256 i, uint256 K, uint256 B, uint256 Q, uint256 B0, uint256 Q0, uint256 R);
        /// The LP and maintainer fee rates that `user` pays (1e18 = 100%).
        function getUserFeeRate(address user) external view returns (uint256 lpFeeRate, uint256 mtFeeRate);
        /// The base token.
        function _BASE_TOKEN_() external view returns (address);
        /// The quote token.
        function _QUOTE_TOKEN_() external view returns (address);
        /// Stored base reserve `B`.
        function _BASE_RESERVE_() external view returns (uint112);
        /// Stored quote reserve `Q`.
        function _QUOTE_RESERVE_() external view returns (uint112);
        /// Stored base target `B0` (stale in ABOVE_ONE).
        function _BASE_TARGET_() external view returns (uint112);
        /// Stored quote target `Q0` (stale in BELOW_ONE).
        function _QUOTE_TARGET_() external view returns (uint112);
        /// Stored R state: 0 ONE, 1 ABOVE_ONE, 2 BELOW_ONE.
        function _RState_() external view returns (uint32);
        /// Oracle price `i` (1e18 scale, raw units).
        function _I_() external view returns (uint256);
        /// Curve parameter `K` (1e18 scale).
        function _K_() external view returns (uint256);
        /// LP fee rate (1e18 scale).
        function _LP_FEE_RATE_() external view returns (uint256);
        /// Maintainer fee rate (GSP's getter; DSP/DPP ask `_MT_FEE_RATE_MODEL_` per trader).
        function _MT_FEE_RATE_() external view returns (uint256);
        /// What selling `payBaseAmount` base would pay `trader`, and the pool's R and base
        /// target after it.
        function querySellBase(address trader, uint256 payBaseAmount) external view returns (uint256 receiveQuoteAmount, uint256 mtFee, uint8 newRState, uint256 newBaseTarget);
        /// What selling `payQuoteAmount` quote would pay `trader`, and the pool's R and quote
        /// target after it.
        function querySellQuote(address trader, uint256 payQuoteAmount) external view returns (uint256 receiveBaseAmount, uint256 mtFee, uint8 newRState, uint256 newQuoteTarget);
        /// Sells the base tokens already transferred to the pool; pays `to`.
        function sellBase(address to) external returns (uint256 receiveQuoteAmount);
        /// Sells the quote tokens already transferred to the pool; pays `to`.
        function sellQuote(address to) external returns (uint256 receiveBaseAmount);
        /// Emitted by the pool on every swap (no indexed fields).
        event DODOSwap(address fromToken, address toToken, uint256 fromAmount, uint256 toAmount, address trader, address receiver);
    }

    /// The swap router the adapter sends transactions to: one call pulls the input from the
    /// sender, transfers it to the pool, calls `sellBase` / `sellQuote` and reverts unless
    /// the output is at least the minimum.
    #[derive(Debug, PartialEq, Eq)]
    interface ISorRouter {
        /// Sells `payBaseAmount` base into `pool`; reverts unless at least `minReceiveQuote`
        /// quote reaches `to`.
        function sellBaseWithMin(address pool, uint256 payBaseAmount, uint256 minReceiveQuote, address to) external returns (uint256 receiveQuoteAmount);
        /// Sells `payQuoteAmount` quote into `pool`; reverts unless at least `minReceiveBase`
        /// base reaches `to`.
        function sellQuoteWithMin(address pool, uint256 payQuoteAmount, uint256 minReceiveBase, address to) external returns (uint256 receiveBaseAmount);
    }
}

/// The router's revert reason when the output is below the minimum.
pub const MIN_RECEIVE_REASON: &str = "SorRouter: RECEIVE_BELOW_MIN";

/// Calldata of `getPMMStateForCall()`.
pub fn get_pmm_state_call() -> Vec<u8> {
    IDODOV2Pool::getPMMStateForCallCall {}.abi_encode()
}

/// The pool state from `getPMMStateForCall()`'s return data.
pub fn decode_pmm_state(data: &[u8]) -> Result<PmmState, ChainError> {
    let r = IDODOV2Pool::getPMMStateForCallCall::abi_decode_returns(data)
        .map_err(|e| abi_err("getPMMStateForCall", e))?;
    Ok(PmmState {
        i: r.i,
        k: r.K,
        b: r.B,
        q: r.Q,
        b0: r.B0,
        q0: r.Q0,
        r: r_state(r.R, "getPMMStateForCall.R")?,
    })
}

/// Return data of `getPMMStateForCall()` for `state` (what a pool answers).
pub fn encode_pmm_state(state: &PmmState) -> Vec<u8> {
    IDODOV2Pool::getPMMStateForCallCall::abi_encode_returns(
        &IDODOV2Pool::getPMMStateForCallReturn {
            i: state.i,
            K: state.k,
            B: state.b,
            Q: state.q,
            B0: state.b0,
            Q0: state.q0,
            R: U256::from(state.r.code()),
        },
    )
}

/// Calldata of `getUserFeeRate(user)`.
pub fn get_user_fee_rate_call(user: Address) -> Vec<u8> {
    IDODOV2Pool::getUserFeeRateCall { user }.abi_encode()
}

/// The fee rates from `getUserFeeRate`'s return data.
pub fn decode_fee_rates(data: &[u8]) -> Result<FeeRates, ChainError> {
    let r = IDODOV2Pool::getUserFeeRateCall::abi_decode_returns(data)
        .map_err(|e| abi_err("getUserFeeRate", e))?;
    Ok(FeeRates {
        lp_fee_rate: r.lpFeeRate,
        mt_fee_rate: r.mtFeeRate,
    })
}

/// Calldata of `_BASE_TOKEN_()` (`base`) or `_QUOTE_TOKEN_()`.
pub fn token_call(base: bool) -> Vec<u8> {
    if base {
        IDODOV2Pool::_BASE_TOKEN_Call {}.abi_encode()
    } else {
        IDODOV2Pool::_QUOTE_TOKEN_Call {}.abi_encode()
    }
}

/// The token address from `_BASE_TOKEN_()` (`base`) or `_QUOTE_TOKEN_()` return data.
pub fn decode_token(base: bool, data: &[u8]) -> Result<Address, ChainError> {
    if base {
        IDODOV2Pool::_BASE_TOKEN_Call::abi_decode_returns_validate(data)
            .map_err(|e| abi_err("_BASE_TOKEN_ (is this a DODO V2 pool?)", e))
    } else {
        IDODOV2Pool::_QUOTE_TOKEN_Call::abi_decode_returns_validate(data)
            .map_err(|e| abi_err("_QUOTE_TOKEN_ (is this a DODO V2 pool?)", e))
    }
}

/// Calldata of `querySellBase(trader, amount)` (`sell_base`) or `querySellQuote`.
pub fn query_sell_call(sell_base: bool, trader: Address, amount: U256) -> Vec<u8> {
    if sell_base {
        IDODOV2Pool::querySellBaseCall {
            trader,
            payBaseAmount: amount,
        }
        .abi_encode()
    } else {
        IDODOV2Pool::querySellQuoteCall {
            trader,
            payQuoteAmount: amount,
        }
        .abi_encode()
    }
}

/// The quote from `querySellBase` / `querySellQuote` return data.
pub fn decode_sell_quote(sell_base: bool, data: &[u8]) -> Result<SellQuote, ChainError> {
    if sell_base {
        let r = IDODOV2Pool::querySellBaseCall::abi_decode_returns_validate(data)
            .map_err(|e| abi_err("querySellBase", e))?;
        Ok(SellQuote {
            receive: r.receiveQuoteAmount,
            mt_fee: r.mtFee,
            new_r: r_state(U256::from(r.newRState), "querySellBase.newRState")?,
            new_target: r.newBaseTarget,
        })
    } else {
        let r = IDODOV2Pool::querySellQuoteCall::abi_decode_returns_validate(data)
            .map_err(|e| abi_err("querySellQuote", e))?;
        Ok(SellQuote {
            receive: r.receiveBaseAmount,
            mt_fee: r.mtFee,
            new_r: r_state(U256::from(r.newRState), "querySellQuote.newRState")?,
            new_target: r.newQuoteTarget,
        })
    }
}

/// Return data of `querySellBase` (`sell_base`) or `querySellQuote` for `q`.
pub fn encode_sell_quote(sell_base: bool, q: &SellQuote) -> Vec<u8> {
    let r = r_code(q.new_r);
    if sell_base {
        IDODOV2Pool::querySellBaseCall::abi_encode_returns(&IDODOV2Pool::querySellBaseReturn {
            receiveQuoteAmount: q.receive,
            mtFee: q.mt_fee,
            newRState: r,
            newBaseTarget: q.new_target,
        })
    } else {
        IDODOV2Pool::querySellQuoteCall::abi_encode_returns(&IDODOV2Pool::querySellQuoteReturn {
            receiveBaseAmount: q.receive,
            mtFee: q.mt_fee,
            newRState: r,
            newQuoteTarget: q.new_target,
        })
    }
}

/// Calldata of the router swap: `sellBaseWithMin` (`sell_base`) or `sellQuoteWithMin`.
pub fn router_swap_call(
    sell_base: bool,
    pool: Address,
    pay: U256,
    min_receive: U256,
    to: Address,
) -> Vec<u8> {
    if sell_base {
        ISorRouter::sellBaseWithMinCall {
            pool,
            payBaseAmount: pay,
            minReceiveQuote: min_receive,
            to,
        }
        .abi_encode()
    } else {
        ISorRouter::sellQuoteWithMinCall {
            pool,
            payQuoteAmount: pay,
            minReceiveBase: min_receive,
            to,
        }
        .abi_encode()
    }
}

/// A decoded router swap call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterSwap {
    /// Whether base is sold (`sellBaseWithMin`), else quote.
    pub sell_base: bool,
    /// The pool.
    pub pool: Address,
    /// The input amount, raw.
    pub pay: U256,
    /// The least output accepted, raw.
    pub min_receive: U256,
    /// Who receives the output.
    pub to: Address,
}

/// The router swap in `calldata`, or an error naming what is wrong with it.
pub fn decode_router_swap(calldata: &[u8]) -> Result<RouterSwap, ChainError> {
    let selector: [u8; 4] = calldata
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| ChainError::Abi {
            what: "router call".into(),
            detail: format!(
                "calldata is {} bytes, shorter than a selector",
                calldata.len()
            ),
        })?;
    if selector == ISorRouter::sellBaseWithMinCall::SELECTOR {
        let c = ISorRouter::sellBaseWithMinCall::abi_decode_validate(calldata)
            .map_err(|e| abi_err("sellBaseWithMin", e))?;
        Ok(RouterSwap {
            sell_base: true,
            pool: c.pool,
            pay: c.payBaseAmount,
            min_receive: c.minReceiveQuote,
            to: c.to,
        })
    } else if selector == ISorRouter::sellQuoteWithMinCall::SELECTOR {
        let c = ISorRouter::sellQuoteWithMinCall::abi_decode_validate(calldata)
            .map_err(|e| abi_err("sellQuoteWithMin", e))?;
        Ok(RouterSwap {
            sell_base: false,
            pool: c.pool,
            pay: c.payQuoteAmount,
            min_receive: c.minReceiveBase,
            to: c.to,
        })
    } else {
        Err(ChainError::Abi {
            what: "router call".into(),
            detail: format!("unknown selector 0x{}", alloy::hex::encode(selector)),
        })
    }
}

/// The `DODOSwap` event a swap emitted, if `topics`/`data` are one.
pub fn decode_dodo_swap(
    topics: &[alloy::primitives::B256],
    data: &[u8],
) -> Option<IDODOV2Pool::DODOSwap> {
    if topics.first() != Some(&IDODOV2Pool::DODOSwap::SIGNATURE_HASH) {
        return None;
    }
    IDODOV2Pool::DODOSwap::decode_raw_log_validate(topics.iter().copied(), data).ok()
}

/// ABI-encoded `Error(string)` revert data for `reason`, as `require(…, reason)` leaves it.
pub fn encode_revert(reason: &str) -> Vec<u8> {
    use alloy::sol_types::SolError;
    alloy::sol_types::Revert::from(reason).abi_encode()
}

/// The reason string in revert data (`Error(string)`, `Panic(uint256)` or plain UTF-8).
pub fn decode_revert(data: &[u8]) -> Option<String> {
    use alloy::sol_types::SolError;
    if let Ok(r) = alloy::sol_types::Revert::abi_decode(data) {
        return Some(r.reason);
    }
    if let Ok(p) = alloy::sol_types::Panic::abi_decode(data) {
        return Some(p.to_string());
    }
    alloy::sol_types::decode_revert_reason(data)
}

fn r_state(v: U256, field: &str) -> Result<RState, ChainError> {
    u32::try_from(v)
        .ok()
        .and_then(RState::from_code)
        .ok_or_else(|| ChainError::Abi {
            what: field.into(),
            detail: format!("R state {v} is not 0, 1 or 2"),
        })
}

fn r_code(r: RState) -> u8 {
    match r {
        RState::One => 0,
        RState::AboveOne => 1,
        RState::BelowOne => 2,
    }
}

fn abi_err(what: &str, e: alloy::sol_types::Error) -> ChainError {
    ChainError::Abi {
        what: what.into(),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256};

    fn e18(n: u64) -> U256 {
        U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
    }

    fn state() -> PmmState {
        PmmState {
            i: e18(1),
            k: e18(1) / U256::from(10u64),
            b: e18(1000),
            q: e18(1100),
            b0: e18(1000),
            q0: e18(1000),
            r: RState::AboveOne,
        }
    }

    #[test]
    fn selectors_are_the_dodo_contracts() {
        // keccak256("querySellBase(address,uint256)")[..4] and friends, as deployed.
        assert_eq!(
            IDODOV2Pool::querySellBaseCall::SELECTOR,
            [0x79, 0xa0, 0x48, 0x76]
        );
        assert_eq!(
            IDODOV2Pool::querySellQuoteCall::SELECTOR,
            [0x66, 0x41, 0x0a, 0x21]
        );
        assert_eq!(
            IDODOV2Pool::sellBaseCall::SELECTOR,
            [0xbd, 0x60, 0x15, 0xb4]
        );
        assert_eq!(
            IDODOV2Pool::sellQuoteCall::SELECTOR,
            [0xdd, 0x93, 0xf5, 0x9a]
        );
        assert_eq!(
            IDODOV2Pool::DODOSwap::SIGNATURE,
            "DODOSwap(address,address,uint256,uint256,address,address)"
        );
    }

    #[test]
    fn pmm_state_round_trips() {
        let s = state();
        assert_eq!(decode_pmm_state(&encode_pmm_state(&s)).unwrap(), s);
        assert_eq!(get_pmm_state_call().len(), 4);
        // seven words, R last
        let data = encode_pmm_state(&s);
        assert_eq!(data.len(), 7 * 32);
        assert_eq!(data[7 * 32 - 1], 1);
    }

    #[test]
    fn an_r_state_above_two_is_refused_naming_the_field() {
        let mut data = encode_pmm_state(&state());
        let last = data.len() - 1;
        data[last] = 7;
        let e = decode_pmm_state(&data).unwrap_err().to_string();
        assert!(e.contains("getPMMStateForCall.R"), "{e}");
    }

    #[test]
    fn sell_quotes_round_trip_both_ways() {
        for sell_base in [true, false] {
            let q = SellQuote {
                receive: U256::from(98_914_196_817_061_816_111u128),
                mt_fee: U256::from(3u64),
                new_r: RState::BelowOne,
                new_target: e18(1000) - U256::from(3287u64),
            };
            let data = encode_sell_quote(sell_base, &q);
            assert_eq!(decode_sell_quote(sell_base, &data).unwrap(), q);
        }
        let call = query_sell_call(
            true,
            address!("0x00000000000000000000000000000000000000aa"),
            e18(5),
        );
        let c = IDODOV2Pool::querySellBaseCall::abi_decode(&call).unwrap();
        assert_eq!(c.payBaseAmount, e18(5));
    }

    #[test]
    fn fee_rates_round_trip() {
        let data = IDODOV2Pool::getUserFeeRateCall::abi_encode_returns(
            &IDODOV2Pool::getUserFeeRateReturn {
                lpFeeRate: U256::from(3u64),
                mtFeeRate: U256::from(1u64),
            },
        );
        assert_eq!(
            decode_fee_rates(&data).unwrap(),
            FeeRates {
                lp_fee_rate: U256::from(3u64),
                mt_fee_rate: U256::from(1u64)
            }
        );
    }

    #[test]
    fn router_calls_round_trip_and_unknown_selectors_are_named() {
        let pool = address!("0x000000000000000000000000000000000000d001");
        let to = address!("0x000000000000000000000000000000000000beef");
        for sell_base in [true, false] {
            let data = router_swap_call(sell_base, pool, e18(7), e18(6), to);
            assert_eq!(
                decode_router_swap(&data).unwrap(),
                RouterSwap {
                    sell_base,
                    pool,
                    pay: e18(7),
                    min_receive: e18(6),
                    to
                }
            );
        }
        let e = decode_router_swap(&[1, 2, 3, 4, 5])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown selector 0x01020304"), "{e}");
        assert!(decode_router_swap(&[1]).is_err());
    }

    #[test]
    fn dodo_swap_event_round_trips() {
        let ev = IDODOV2Pool::DODOSwap {
            fromToken: address!("0x00000000000000000000000000000000000000b1"),
            toToken: address!("0x00000000000000000000000000000000000000c1"),
            fromAmount: e18(100),
            toAmount: e18(99),
            trader: address!("0x0000000000000000000000000000000000000001"),
            receiver: address!("0x0000000000000000000000000000000000000002"),
        };
        let log = ev.encode_log_data();
        assert_eq!(decode_dodo_swap(log.topics(), &log.data), Some(ev));
        let other = b256!("0x0000000000000000000000000000000000000000000000000000000000000001");
        assert_eq!(decode_dodo_swap(&[other], &log.data), None);
    }

    #[test]
    fn token_getters_round_trip_and_empty_answers_are_refused() {
        let base = address!("0x00000000000000000000000000000000000000b1");
        let data = IDODOV2Pool::_BASE_TOKEN_Call::abi_encode_returns(&base);
        assert_eq!(decode_token(true, &data).unwrap(), base);
        assert_eq!(token_call(false), IDODOV2Pool::_QUOTE_TOKEN_Call::SELECTOR);
        let e = decode_token(false, &[]).unwrap_err().to_string();
        assert!(e.contains("_QUOTE_TOKEN_"), "{e}");
    }

    #[test]
    fn revert_reasons_round_trip() {
        let data = encode_revert(MIN_RECEIVE_REASON);
        assert_eq!(decode_revert(&data).as_deref(), Some(MIN_RECEIVE_REASON));
    }
}
