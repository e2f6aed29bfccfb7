//! After a restart: what became of a child's swap, found from the swap log
//! ([`super::intents`]) and the chain.
//!
//! - no record for the child: it was never sent → `Rejected{NoLiquidity, "not sent ..."}`;
//! - a record: its receipt, waited for at most `receipt_timeout`, gives exactly the
//!   live path's reports ([`receipt_reports`]);
//! - a receipt, but the same transaction was recorded again for a later child (a dropped
//!   swap re-signed with the same nonce and amounts): that child reports it, this one is
//!   `Rejected{NoLiquidity, "dropped ..."}`, so one execution is never booked twice;
//! - no receipt in time: if the account's mined nonce is past the record's, another
//!   transaction took that nonce and this one can never be mined → `Rejected{NoLiquidity,
//!   "dropped ..."}`; otherwise the live path's "dropped: no receipt" reject, with a
//!   warning naming the transaction.
//!
//! When the engine already holds a fill of the child, the gas was booked with it: no
//! `Ack` and no `FixedCost` go out again, only what settles the child ([`settle`]).

use super::client::{ChainInfo, Inner, no_receipt, receipt_reports, rejected};
use super::intents::SwapRecord;
use crate::{Known, RejectKind, VenueReport};
use rust_decimal::Decimal;
use std::time::Instant;

/// The reports that tell the engine what became of `client_id`'s swap, of which it
/// already holds `known`.
pub(super) async fn after_restart(
    inner: &Inner,
    client_id: &str,
    known: Known,
) -> Vec<VenueReport> {
    let venue = &inner.cfg.venue;
    let record = inner
        .swaps
        .as_ref()
        .and_then(|log| log.lock().find(client_id).cloned());
    let Some(rec) = record else {
        tracing::info!(%venue, child = %client_id, "no swap recorded for this child: it was never sent");
        return rejected(
            RejectKind::NoLiquidity,
            "not sent before the restart: no swap was recorded for this child".into(),
        );
    };
    tracing::info!(%venue, child = %client_id, tx = %rec.tx, nonce = rec.nonce,
        "child working at the crash: reading its swap's receipt");
    let deadline = Instant::now() + inner.cfg.receipt_timeout;
    let info = connect_by(inner, deadline).await;
    let receipt = match info {
        Some(_) => inner.wait_receipt(rec.tx, deadline).await,
        None => None,
    };
    let reports = match (info, receipt) {
        (Some(info), Some(r)) => match resent_for(inner, &rec) {
            Some(reject) => reject,
            None => receipt_reports(inner, rec.sell_base, rec.qty, info, rec.tx, &r),
        },
        _ => without_receipt(inner, &rec, info).await,
    };
    settle(reports, known, rec.qty)
}

/// A reject if the same transaction was signed again for a later child (a dropped swap
/// re-signed with the same nonce and amounts has the same hash): its outcome is that
/// child's, reported by the live path, never twice.
fn resent_for(inner: &Inner, rec: &SwapRecord) -> Option<Vec<VenueReport>> {
    let log = inner.swaps.as_ref()?;
    let owner = log.lock().owner(&rec.tx)?.to_owned();
    if owner == rec.client_id {
        return None;
    }
    tracing::warn!(venue = %inner.cfg.venue, child = %rec.client_id, tx = %rec.tx, later = %owner,
        "the swap's transaction was signed again for a later child: reported there");
    Some(rejected(
        RejectKind::NoLiquidity,
        format!(
            "dropped: tx {} was signed again for child {owner}, which reports it",
            rec.tx
        ),
    ))
}

/// The chain id and tokens, asked again every `receipt_poll` until `deadline`.
async fn connect_by(inner: &Inner, deadline: Instant) -> Option<ChainInfo> {
    loop {
        match inner.connect().await {
            Ok(info) => return Some(info),
            Err(e) => {
                tracing::debug!(venue = %inner.cfg.venue, "reconcile: node not reached: {e}")
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        tokio::time::sleep(inner.cfg.receipt_poll.min(deadline - now)).await;
    }
}

/// No receipt within the bound: replaced or dropped if its nonce is used, else the live
/// path's "dropped: no receipt".
async fn without_receipt(
    inner: &Inner,
    rec: &SwapRecord,
    info: Option<ChainInfo>,
) -> Vec<VenueReport> {
    let venue = &inner.cfg.venue;
    match inner.mined_nonce().await {
        Ok(mined) if mined > rec.nonce => {
            // It may have been mined since the last look.
            if let Some(info) = info
                && let Some(r) = inner.wait_receipt(rec.tx, Instant::now()).await
            {
                return resent_for(inner, rec).unwrap_or_else(|| {
                    receipt_reports(inner, rec.sell_base, rec.qty, info, rec.tx, &r)
                });
            }
            tracing::warn!(%venue, child = %rec.client_id, tx = %rec.tx, nonce = rec.nonce, mined,
                "swap replaced or dropped: its nonce is used and it has no receipt");
            rejected(
                RejectKind::NoLiquidity,
                format!(
                    "dropped: tx {} (nonce {}) has no receipt and the account's mined nonce is {mined}: replaced or dropped",
                    rec.tx, rec.nonce
                ),
            )
        }
        Ok(_) => no_receipt(&inner.cfg, rec.tx),
        Err(e) => {
            tracing::warn!(%venue, tx = %rec.tx, "mined nonce not read: {e}");
            no_receipt(&inner.cfg, rec.tx)
        }
    }
}

/// What the engine still needs of `reports` when it holds `known` of a child of
/// `child_qty`. A swap is charged gas once: with gas already booked no `FixedCost` goes
/// again (a crash between a revert's gas and its reject), else it does. With nothing
/// filled, everything else goes. Otherwise the engine holds the swap's one execution,
/// so no second `Ack`: the fill goes again (the engine drops it by its exec id when it
/// holds it), plus `Expired` for any rest, since a child with a fill cannot be
/// rejected.
pub(super) fn settle(
    reports: Vec<VenueReport>,
    known: Known,
    child_qty: Decimal,
) -> Vec<VenueReport> {
    let gas_booked = known.fixed_cost > Decimal::ZERO;
    let reports: Vec<VenueReport> = reports
        .into_iter()
        .filter(|r| !(gas_booked && matches!(r, VenueReport::FixedCost { .. })))
        .collect();
    let known_filled = known.filled;
    if known_filled <= Decimal::ZERO {
        return reports;
    }
    let mut holds = known_filled;
    let mut out = Vec::new();
    let mut fills = 0;
    for r in reports {
        match &r {
            VenueReport::Fill { qty, .. } => {
                holds = holds.max(*qty);
                fills += 1;
                out.push(r);
            }
            VenueReport::FixedCost { .. } => out.push(r),
            _ => {}
        }
    }
    if fills == 0 {
        tracing::error!(%known_filled, "the engine holds a fill of a swap the chain shows no fill for; check it by hand");
    }
    let left = child_qty - holds;
    if left > Decimal::ZERO {
        out.push(VenueReport::Expired { unfilled: left });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn fill(qty: Decimal) -> VenueReport {
        VenueReport::Fill {
            qty,
            px: dec!(0.999),
            fee: Decimal::ZERO,
            exec_id: "0xabc".into(),
        }
    }

    fn live_fill() -> Vec<VenueReport> {
        vec![
            VenueReport::Ack,
            fill(dec!(100)),
            VenueReport::FixedCost {
                amount: dec!(0.0001),
            },
        ]
    }

    #[test]
    fn nothing_known_gets_every_live_report() {
        assert_eq!(settle(live_fill(), Known::NOTHING, dec!(100)), live_fill());
    }

    fn known(filled: Decimal, fixed_cost: Decimal) -> Known {
        Known {
            filled,
            gross: filled,
            fixed_cost,
        }
    }

    #[test]
    fn a_known_fill_gets_no_second_ack_or_gas() {
        assert_eq!(
            settle(live_fill(), known(dec!(100), dec!(0.0001)), dec!(100)),
            vec![fill(dec!(100))]
        );
        // The fill was journaled, its gas not yet: the gas still goes, once.
        assert_eq!(
            settle(live_fill(), known(dec!(100), Decimal::ZERO), dec!(100)),
            vec![
                fill(dec!(100)),
                VenueReport::FixedCost {
                    amount: dec!(0.0001)
                }
            ]
        );
    }

    #[test]
    fn a_revert_whose_gas_was_journaled_is_rejected_without_a_second_charge() {
        let revert = vec![
            VenueReport::FixedCost { amount: dec!(1) },
            VenueReport::Rejected {
                kind: RejectKind::Revert,
                reason: "reverted".into(),
            },
        ];
        assert_eq!(
            settle(revert.clone(), known(Decimal::ZERO, dec!(1)), dec!(100)),
            revert[1..].to_vec()
        );
        assert_eq!(settle(revert.clone(), Known::NOTHING, dec!(100)), revert);
    }

    #[test]
    fn a_known_fill_short_of_the_child_is_ended_with_the_rest() {
        let short = vec![VenueReport::Ack, fill(dec!(60))];
        assert_eq!(
            settle(short, known(dec!(60), dec!(1)), dec!(100)),
            vec![fill(dec!(60)), VenueReport::Expired { unfilled: dec!(40) }]
        );
        // A revert against a known fill cannot reject the child: it ends it.
        let revert = vec![
            VenueReport::FixedCost { amount: dec!(1) },
            VenueReport::Rejected {
                kind: RejectKind::Revert,
                reason: "reverted".into(),
            },
        ];
        assert_eq!(
            settle(revert, known(dec!(30), dec!(1)), dec!(100)),
            vec![VenueReport::Expired { unfilled: dec!(70) }]
        );
    }
}
