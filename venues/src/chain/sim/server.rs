//! The simulator's JSON-RPC 2.0 front: request parsing, parameter checking with errors
//! that name the field, and dispatch to [`Chain`].

use super::TradeTiming;
use super::chain::{BlockSel, Chain, RpcErr};
use crate::chain::rpc::codes;
use crate::pmm::{FeeRates, PmmState, RState};
use alloy::primitives::{Address, Bytes, U64, U256};
use parking_lot::Mutex;
use serde_json::{Value, json};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Largest batch answered in one HTTP request.
const MAX_BATCH: usize = 256;

/// Answers one HTTP body: a request object or a batch. `None` when nothing is to be
/// sent back (only notifications).
pub(crate) fn handle_body(chain: &Mutex<Chain>, body: &[u8]) -> Option<Value> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Some(error_response(
                Value::Null,
                &RpcErr {
                    code: codes::PARSE_ERROR,
                    message: format!("parse error: {e}"),
                    data: None,
                },
            ));
        }
    };
    match v {
        Value::Array(items) if items.is_empty() => {
            Some(error_response(Value::Null, &invalid_request("empty batch")))
        }
        Value::Array(items) if items.len() > MAX_BATCH => Some(error_response(
            Value::Null,
            &invalid_request(&format!(
                "batch of {} requests, at most {MAX_BATCH}",
                items.len()
            )),
        )),
        Value::Array(items) => {
            let answers: Vec<Value> = items
                .iter()
                .filter_map(|item| handle_one(chain, item))
                .collect();
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        other => handle_one(chain, &other),
    }
}

fn invalid_request(why: &str) -> RpcErr {
    RpcErr {
        code: codes::INVALID_REQUEST,
        message: format!("invalid request: {why}"),
        data: None,
    }
}

fn error_response(id: Value, e: &RpcErr) -> Value {
    let mut err = json!({"code": e.code, "message": e.message});
    if let Some(d) = &e.data {
        err["data"] = d.clone();
    }
    json!({"jsonrpc": "2.0", "id": id, "error": err})
}

fn handle_one(chain: &Mutex<Chain>, req: &Value) -> Option<Value> {
    let Some(obj) = req.as_object() else {
        return Some(error_response(
            Value::Null,
            &invalid_request("a request must be a JSON object"),
        ));
    };
    let id = obj.get("id").cloned();
    let answer_id = id.clone().unwrap_or(Value::Null);
    if obj.get("jsonrpc") != Some(&json!("2.0")) {
        return Some(error_response(
            answer_id,
            &invalid_request("jsonrpc: must be \"2.0\""),
        ));
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return Some(error_response(
            answer_id,
            &invalid_request("method: missing or not a string"),
        ));
    };
    let params = match obj.get("params") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => {
            return Some(error_response(
                answer_id,
                &RpcErr::params("params: must be an array (positional parameters)"),
            ));
        }
    };
    let result = dispatch(chain, method, params);
    // A request without an id is a notification: it runs, nothing is answered.
    let id = id?;
    Some(match result {
        Ok(v) => json!({"jsonrpc": "2.0", "id": id, "result": v}),
        Err(e) => error_response(id, &e),
    })
}

fn dispatch(chain: &Mutex<Chain>, method: &str, p: &[Value]) -> Result<Value, RpcErr> {
    let mut c = chain.lock();
    match method {
        "eth_chainId" => Ok(json!(U64::from(c.params().chain_id))),
        "net_version" => Ok(json!(c.params().chain_id.to_string())),
        "web3_clientVersion" => Ok(json!("sor-chain-sim/0.1")),
        "eth_blockNumber" => Ok(json!(U64::from(c.head()))),
        "eth_gasPrice" => Ok(json!(U256::from(c.gas_price()))),
        "eth_maxPriorityFeePerGas" => Ok(json!(U256::from(c.params().priority_fee))),
        "eth_getBlockByNumber" => {
            let sel = block_tag(need(p, 0, "block")?, "params[0]")?;
            if let Some(full) = p.get(1) {
                full.as_bool().ok_or_else(|| {
                    RpcErr::params("params[1] (full transactions): expected a boolean")
                })?;
            }
            Ok(c.block(sel))
        }
        "eth_getTransactionCount" => {
            let who = address(need(p, 0, "address")?, "params[0]")?;
            let pending = match p.get(1) {
                None => false,
                Some(v) if v == "pending" => true,
                Some(v) => {
                    block_tag(v, "params[1]")?;
                    false
                }
            };
            Ok(json!(U64::from(c.nonce(&who, pending))))
        }
        "eth_call" => {
            let call = need(p, 0, "transaction")?;
            let to = address(field(call, "to", "params[0].to")?, "params[0].to")?;
            let data = call_data(call)?;
            let sel = match p.get(1) {
                None => BlockSel::Latest,
                Some(v) => block_tag(v, "params[1]")?,
            };
            c.call(to, &data, sel).map(|b| json!(b))
        }
        "eth_estimateGas" => {
            let call = need(p, 0, "transaction")?;
            let to = match call.get("to") {
                None | Some(Value::Null) => None,
                Some(v) => Some(address(v, "params[0].to")?),
            };
            let data = call_data(call)?;
            c.estimate_gas(to, &data).map(|g| json!(U64::from(g)))
        }
        "eth_sendRawTransaction" => {
            let raw = bytes(need(p, 0, "signed transaction")?, "params[0]")?;
            c.send_raw(&raw).map(|h| json!(h))
        }
        "eth_getTransactionReceipt" => {
            let v = need(p, 0, "transaction hash")?;
            let hash = v
                .as_str()
                .and_then(|s| alloy::primitives::B256::from_str(s).ok())
                .ok_or_else(|| {
                    RpcErr::params(format!(
                        "params[0] (transaction hash): expected 0x and 64 hex digits, got {v}"
                    ))
                })?;
            Ok(c.receipt(&hash))
        }
        "sim_mine" => Ok(json!(U64::from(c.mine()))),
        "sim_pendingCount" => Ok(json!(c.pending_count())),
        "sim_dropNext" => {
            let n = count(p.first(), "params[0] (count)")?;
            c.drop_next(n);
            Ok(json!(true))
        }
        "sim_revertNext" => {
            let n = count(p.first(), "params[0] (count)")?;
            c.revert_next(n);
            Ok(json!(true))
        }
        "sim_delayMining" => {
            let v = need(p, 0, "milliseconds")?;
            let ms = v.as_u64().ok_or_else(|| {
                RpcErr::params(format!(
                    "params[0] (milliseconds): expected a non-negative integer, got {v}"
                ))
            })?;
            c.delay_mining(Instant::now() + Duration::from_millis(ms));
            Ok(json!(true))
        }
        "sim_getPoolState" => {
            let pool = address(need(p, 0, "pool")?, "params[0]")?;
            let (s, f) = c
                .pool_state(&pool)
                .ok_or_else(|| RpcErr::params(format!("params[0] (pool): no pool at {pool}")))?;
            Ok(state_json(&s, &f))
        }
        "sim_setPoolState" => {
            let pool = address(need(p, 0, "pool")?, "params[0]")?;
            let (current, fees) = c
                .pool_state(&pool)
                .ok_or_else(|| RpcErr::params(format!("params[0] (pool): no pool at {pool}")))?;
            let (state, fees) = parse_state(need(p, 1, "state")?, current, fees)?;
            c.set_pool_state(&pool, state, Some(fees))
                .map_err(|e| RpcErr::params(format!("params[1].{e}")))?;
            Ok(json!(true))
        }
        "sim_trade" => {
            let pool = address(need(p, 0, "pool")?, "params[0]")?;
            let side = need(p, 1, "side")?;
            let sell_base = match side.as_str() {
                Some("sell_base") => true,
                Some("sell_quote") => false,
                _ => {
                    return Err(RpcErr::params(format!(
                        "params[1] (side): expected \"sell_base\" or \"sell_quote\", got {side}"
                    )));
                }
            };
            let amount = uint(need(p, 2, "amount")?, "params[2] (amount)")?;
            let when = match p.get(3).map(|v| v.as_str()) {
                None | Some(Some("next_block")) => TradeTiming::NextBlock,
                Some(Some("now")) => TradeTiming::Now,
                Some(_) => {
                    return Err(RpcErr::params(
                        "params[3] (when): expected \"now\" or \"next_block\"",
                    ));
                }
            };
            c.trade(pool, sell_base, amount, when)
                .map(|got| json!(got.to_string()))
                .map_err(|reason| RpcErr::server(format!("trade reverted: {reason}")))
        }
        other => Err(RpcErr {
            code: codes::METHOD_NOT_FOUND,
            message: format!("the method {other} does not exist/is not available"),
            data: None,
        }),
    }
}

fn need<'a>(p: &'a [Value], i: usize, name: &str) -> Result<&'a Value, RpcErr> {
    p.get(i)
        .ok_or_else(|| RpcErr::params(format!("params[{i}] ({name}): missing")))
}

fn field<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a Value, RpcErr> {
    match obj {
        Value::Object(m) => m
            .get(key)
            .filter(|v| !v.is_null())
            .ok_or_else(|| RpcErr::params(format!("{path}: missing"))),
        other => Err(RpcErr::params(format!(
            "{}: expected a transaction object, got {other}",
            path.rsplit_once('.').map_or(path, |(head, _)| head)
        ))),
    }
}

fn address(v: &Value, path: &str) -> Result<Address, RpcErr> {
    v.as_str()
        .filter(|s| s.len() == 42 && s.starts_with("0x"))
        .and_then(|s| Address::from_str(s).ok())
        .ok_or_else(|| {
            RpcErr::params(format!(
                "{path}: expected a 20-byte address as 0x and 40 hex digits, got {v}"
            ))
        })
}

fn bytes(v: &Value, path: &str) -> Result<Bytes, RpcErr> {
    v.as_str()
        .filter(|s| s.starts_with("0x"))
        .and_then(|s| Bytes::from_str(s).ok())
        .ok_or_else(|| RpcErr::params(format!("{path}: expected 0x-prefixed hex bytes, got {v}")))
}

/// `input` (or the older `data`) of a call object; empty when neither is there.
fn call_data(call: &Value) -> Result<Bytes, RpcErr> {
    if let Some(v) = call.get("input").filter(|v| !v.is_null()) {
        return bytes(v, "params[0].input");
    }
    if let Some(v) = call.get("data").filter(|v| !v.is_null()) {
        return bytes(v, "params[0].data");
    }
    Ok(Bytes::new())
}

fn block_tag(v: &Value, path: &str) -> Result<BlockSel, RpcErr> {
    let bad = || {
        RpcErr::params(format!(
            "{path} (block): expected a 0x block number or latest/pending/safe/finalized/earliest, got {v}"
        ))
    };
    match v.as_str() {
        Some("latest" | "pending" | "safe" | "finalized") => Ok(BlockSel::Latest),
        Some("earliest") => Ok(BlockSel::Earliest),
        Some(s) if s.starts_with("0x") => U64::from_str(s)
            .map(|n| BlockSel::Number(n.to::<u64>()))
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn count(v: Option<&Value>, path: &str) -> Result<u32, RpcErr> {
    match v {
        None => Ok(1),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                RpcErr::params(format!(
                    "{path}: expected a small non-negative integer, got {v}"
                ))
            }),
    }
}

/// A uint256 as a decimal integer string or 0x hex (JSON numbers lose precision, so they
/// are refused).
fn uint(v: &Value, path: &str) -> Result<U256, RpcErr> {
    let s = v.as_str().ok_or_else(|| {
        RpcErr::params(format!(
            "{path}: expected a decimal integer string or 0x hex, got {v}"
        ))
    })?;
    let parsed = if let Some(hex) = s.strip_prefix("0x") {
        U256::from_str_radix(hex, 16)
    } else {
        U256::from_str_radix(s, 10)
    };
    parsed.map_err(|_| {
        RpcErr::params(format!(
            "{path}: expected a decimal integer string or 0x hex, got {v}"
        ))
    })
}

fn state_json(s: &PmmState, f: &FeeRates) -> Value {
    json!({
        "i": s.i.to_string(), "k": s.k.to_string(),
        "b": s.b.to_string(), "q": s.q.to_string(),
        "b0": s.b0.to_string(), "q0": s.q0.to_string(),
        "r": s.r.name(),
        "lp_fee_rate": f.lp_fee_rate.to_string(), "mt_fee_rate": f.mt_fee_rate.to_string(),
    })
}

/// A state object as `sor pmm quote` writes it; absent fields keep their current value.
fn parse_state(
    v: &Value,
    mut s: PmmState,
    mut f: FeeRates,
) -> Result<(PmmState, FeeRates), RpcErr> {
    let obj = v
        .as_object()
        .ok_or_else(|| RpcErr::params(format!("params[1] (state): expected an object, got {v}")))?;
    for (key, val) in obj {
        let path = format!("params[1].{key}");
        match key.as_str() {
            "i" => s.i = uint(val, &path)?,
            "k" => s.k = uint(val, &path)?,
            "b" => s.b = uint(val, &path)?,
            "q" => s.q = uint(val, &path)?,
            "b0" => s.b0 = uint(val, &path)?,
            "q0" => s.q0 = uint(val, &path)?,
            "lp_fee_rate" => f.lp_fee_rate = uint(val, &path)?,
            "mt_fee_rate" => f.mt_fee_rate = uint(val, &path)?,
            "r" => {
                s.r = val
                    .as_str()
                    .and_then(|t| RState::from_str(t).ok())
                    .ok_or_else(|| {
                        RpcErr::params(format!(
                            "{path}: expected \"ONE\", \"ABOVE_ONE\" or \"BELOW_ONE\", got {val}"
                        ))
                    })?;
            }
            _ => {
                return Err(RpcErr::params(format!(
                    "{path}: unknown field (expected i, k, b, q, b0, q0, r, lp_fee_rate, mt_fee_rate)"
                )));
            }
        }
    }
    Ok((s, f))
}

#[cfg(test)]
mod tests {
    use super::super::SimPool;
    use super::super::chain::Params;
    use super::*;

    fn chain() -> Mutex<Chain> {
        let one = U256::from(10u64).pow(U256::from(18u64));
        let state = PmmState {
            i: one,
            k: one / U256::from(10u64),
            b: one * U256::from(1000u64),
            q: one * U256::from(1000u64),
            b0: one * U256::from(1000u64),
            q0: one * U256::from(1000u64),
            r: RState::One,
        };
        let fees = FeeRates {
            lp_fee_rate: U256::ZERO,
            mt_fee_rate: U256::ZERO,
        };
        let p = Params {
            chain_id: 31337,
            base_fee: 1,
            priority_fee: 1,
            swap_gas: 100_000,
            revert_gas: 40_000,
            router: Address::with_last_byte(0x99),
            history: 4,
            block_secs: 1,
            drop_probability: 0.0,
        };
        Mutex::new(Chain::new(p, vec![SimPool::new(1, state, fees)], 1).unwrap())
    }

    fn ask(c: &Mutex<Chain>, body: &str) -> Value {
        handle_body(c, body.as_bytes()).unwrap()
    }

    #[test]
    fn json_rpc_errors_follow_the_spec_and_name_the_field() {
        let c = chain();
        let r = ask(&c, "{nope");
        assert_eq!(r["error"]["code"], codes::PARSE_ERROR);
        let r = ask(&c, r#"{"jsonrpc":"2.0","id":1,"method":"eth_foo"}"#);
        assert_eq!(r["error"]["code"], codes::METHOD_NOT_FOUND);
        assert!(r["error"]["message"].as_str().unwrap().contains("eth_foo"));
        let r = ask(
            &c,
            r#"{"jsonrpc":"2.0","id":2,"method":"eth_call","params":[{"data":"0x"}]}"#,
        );
        assert_eq!(r["error"]["code"], codes::INVALID_PARAMS);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("params[0].to"),
            "{r}"
        );
        let r = ask(
            &c,
            r#"{"jsonrpc":"2.0","id":3,"method":"eth_getTransactionCount","params":["0x12","latest"]}"#,
        );
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("params[0]"),
            "{r}"
        );
        let r = ask(&c, r#"{"jsonrpc":"1.0","id":4,"method":"eth_chainId"}"#);
        assert_eq!(r["error"]["code"], codes::INVALID_REQUEST);
        assert_eq!(r["id"], 4);
        let r = ask(
            &c,
            r#"{"jsonrpc":"2.0","id":5,"method":"sim_trade","params":["0x000000000000000000000000000000000000d001","sell_base",1.5]}"#,
        );
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("params[2] (amount)"),
            "{r}"
        );
        let r = ask(
            &c,
            r#"{"jsonrpc":"2.0","id":6,"method":"sim_setPoolState","params":["0x000000000000000000000000000000000000d001",{"r":"SIDEWAYS"}]}"#,
        );
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("params[1].r"),
            "{r}"
        );
    }

    #[test]
    fn batches_and_notifications() {
        let c = chain();
        let r = ask(
            &c,
            r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","method":"sim_mine"},{"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"}]"#,
        );
        assert_eq!(r[0]["result"], "0x7a69");
        assert_eq!(r[1]["result"], "0x1");
        assert_eq!(r.as_array().unwrap().len(), 2);
        assert!(handle_body(&c, br#"{"jsonrpc":"2.0","method":"sim_mine"}"#).is_none());
        assert_eq!(ask(&c, "[]")["error"]["code"], codes::INVALID_REQUEST);
    }

    #[test]
    fn a_pool_state_set_over_rpc_reads_back() {
        let c = chain();
        let r = ask(
            &c,
            r#"{"jsonrpc":"2.0","id":1,"method":"sim_setPoolState","params":["0x000000000000000000000000000000000000d001",{"b":"5","r":"BELOW_ONE","lp_fee_rate":"0x10"}]}"#,
        );
        assert_eq!(r["result"], true, "{r}");
        let r = ask(
            &c,
            r#"{"jsonrpc":"2.0","id":2,"method":"sim_getPoolState","params":["0x000000000000000000000000000000000000d001"]}"#,
        );
        assert_eq!(r["result"]["b"], "5");
        assert_eq!(r["result"]["r"], "BELOW_ONE");
        assert_eq!(r["result"]["lp_fee_rate"], "16");
    }
}
