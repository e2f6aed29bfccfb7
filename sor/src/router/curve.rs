//! A venue's liquidity in the parent's terms, ready for the solver.

use crate::domain::Conversion;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use venues::{CurveShape, Liquidity, Side, VenueId, VenueKind};

/// One piece of a venue's curve: `qty` more at marginal `net_px`.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Signed marginal net price (`+px` for a buy, `-px` for a sell): lower is better.
    pub cost: f64,
    /// Quantity, parent base units.
    pub qty: Decimal,
    /// Marginal net price per parent unit, after fees, in the parent's quote currency.
    pub net_px: Decimal,
    /// Gross price in venue terms: the child's limit if this is its last segment.
    pub gross_px: Decimal,
}

/// How the solver treats a venue's segments.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteShape {
    /// Marginal segments, best first; any prefix may be taken (books, pools).
    Curve(Vec<Segment>),
    /// RFQ tiers, smallest first: one tier is chosen, and up to its `qty` trades at its
    /// price.
    Tiers(Vec<Segment>),
}

/// A venue as the solver sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteVenue {
    /// The venue.
    pub venue: VenueId,
    /// Its kind.
    pub kind: VenueKind,
    /// Its instrument.
    pub instrument: String,
    /// Its curve.
    pub shape: RouteShape,
    /// Cost per child in the parent's quote currency (gas, a ticket fee).
    pub fixed_cost: Decimal,
    /// Value of one unit of the venue's fixed-cost asset in the parent's quote currency.
    pub fixed_cost_value: Decimal,
    /// How its units count toward the parent.
    pub conversion: Conversion,
    /// Decimal places of a quantity at the venue.
    pub qty_scale: u32,
}

fn net_venue_px(side: Side, px: Decimal, fee_rate: Decimal) -> Decimal {
    match side {
        Side::Buy => px * (Decimal::ONE + fee_rate),
        Side::Sell => px * (Decimal::ONE - fee_rate),
    }
}

impl RouteVenue {
    /// Builds the solver's view of `liq`: `conversion` to the parent, the value of one
    /// unit of the fixed-cost asset in the parent's quote currency, and the venue's
    /// quantity precision.
    pub fn from_liquidity(
        liq: &Liquidity,
        conversion: Conversion,
        fixed_cost_value: Decimal,
        qty_scale: u32,
    ) -> Self {
        let fee_rate = liq.fee_bps / Decimal::from(10_000);
        let sign = Decimal::from(liq.side.sign());
        let segment = |gross: Decimal, venue_qty: Decimal| {
            let net_px = conversion.px_to_parent(net_venue_px(liq.side, gross, fee_rate));
            Segment {
                cost: (sign * net_px).to_f64().unwrap_or(f64::INFINITY),
                qty: venue_qty * conversion.qty_rate,
                net_px,
                gross_px: gross,
            }
        };
        let shape = match &liq.shape {
            CurveShape::Steps(levels) => RouteShape::Curve(
                levels
                    .iter()
                    .filter(|l| l.qty > Decimal::ZERO && l.px > Decimal::ZERO)
                    .map(|l| segment(l.px, l.qty))
                    .collect(),
            ),
            CurveShape::Tiers(tiers) => RouteShape::Tiers(
                tiers
                    .iter()
                    .filter(|t| t.qty > Decimal::ZERO && t.px > Decimal::ZERO)
                    .map(|t| segment(t.px, t.qty))
                    .collect(),
            ),
            CurveShape::Smooth(points) => {
                let mut out = Vec::with_capacity(points.len());
                let (mut q0, mut a0) = (Decimal::ZERO, Decimal::ZERO);
                for p in points {
                    let dq = p.qty - q0;
                    if dq > Decimal::ZERO && p.amount > a0 {
                        out.push(segment((p.amount - a0) / dq, dq));
                    }
                    (q0, a0) = (p.qty, p.amount);
                }
                RouteShape::Curve(out)
            }
        };
        Self {
            venue: liq.venue.clone(),
            kind: liq.kind,
            instrument: liq.instrument.clone(),
            shape,
            fixed_cost: liq.fixed_cost * fixed_cost_value,
            fixed_cost_value,
            conversion,
            qty_scale,
        }
    }

    /// Total quantity offered, parent units (the largest tier for a ladder).
    pub fn depth(&self) -> Decimal {
        match &self.shape {
            RouteShape::Curve(s) => s.iter().map(|s| s.qty).sum(),
            RouteShape::Tiers(t) => t.last().map_or(Decimal::ZERO, |t| t.qty),
        }
    }

    /// Best marginal net price, if any liquidity.
    pub fn best_net_px(&self) -> Option<Decimal> {
        match &self.shape {
            RouteShape::Curve(s) | RouteShape::Tiers(s) => s.first().map(|s| s.net_px),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use venues::{Level, Point};

    fn liq(shape: CurveShape, fee: Decimal) -> Liquidity {
        Liquidity {
            venue: VenueId("v".into()),
            kind: VenueKind::Book,
            instrument: "USDC/USD".into(),
            side: Side::Sell,
            shape,
            fee_bps: fee,
            fixed_cost: dec!(0.05),
            fixed_cost_asset: "USD".into(),
        }
    }

    #[test]
    fn book_levels_become_net_segments() {
        let l = liq(
            CurveShape::Steps(vec![Level {
                px: dec!(1),
                qty: dec!(10),
            }]),
            dec!(2),
        );
        let v = RouteVenue::from_liquidity(&l, Conversion::IDENTITY, dec!(1), 6);
        let RouteShape::Curve(s) = &v.shape else {
            panic!()
        };
        assert_eq!(s[0].net_px, dec!(0.9998));
        assert_eq!(s[0].cost, -0.9998);
        assert_eq!(v.fixed_cost, dec!(0.05));
    }

    #[test]
    fn smooth_samples_become_marginal_segments_in_parent_terms() {
        let l = liq(
            CurveShape::Smooth(vec![
                Point {
                    qty: dec!(1),
                    amount: dec!(0.999),
                },
                Point {
                    qty: dec!(3),
                    amount: dec!(2.995),
                },
            ]),
            dec!(0),
        );
        let conv = Conversion {
            qty_rate: dec!(1),
            quote_value: dec!(0.5),
        };
        let v = RouteVenue::from_liquidity(&l, conv, dec!(2), 6);
        let RouteShape::Curve(s) = &v.shape else {
            panic!()
        };
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].gross_px, dec!(0.998));
        assert_eq!(s[1].net_px, dec!(0.499));
        assert_eq!(v.fixed_cost, dec!(0.10));
    }
}
