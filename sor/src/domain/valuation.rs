//! How a venue trading one instrument counts toward a parent in another.
//!
//! A parent sells (or buys) its instrument's base asset for its quote asset. A venue in
//! another instrument counts toward it when its base asset is declared equivalent to the
//! parent's (1 cWUSDC sold on-chain is 1 USDC of the parent), and its quote proceeds are
//! valued in the parent's quote currency at the configured reference prices (USDC
//! proceeds count at the USDC/USD reference). The router then compares every venue in the
//! parent's own terms, net of fees and fixed costs.

use super::Instrument;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A valuation question that the configuration cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValuationError {
    /// No reference price or equivalence reaches the valuation currency.
    #[error("no reference price for {asset} in {currency}")]
    NoReference {
        /// The asset.
        asset: String,
        /// The currency asked for.
        currency: String,
    },
    /// The venue's base asset does not count toward the parent's.
    #[error("{venue_base} does not count toward {parent_base} (declare it under [assets])")]
    NotEquivalent {
        /// The venue instrument's base asset.
        venue_base: String,
        /// The parent instrument's base asset.
        parent_base: String,
    },
}

/// How one venue instrument counts toward one parent instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    /// Parent base units per venue base unit.
    pub qty_rate: Decimal,
    /// Parent quote units per venue quote unit.
    pub quote_value: Decimal,
}

impl Conversion {
    /// The identity: a venue in the parent's own instrument.
    pub const IDENTITY: Conversion = Conversion {
        qty_rate: Decimal::ONE,
        quote_value: Decimal::ONE,
    };

    /// A venue price (quote per venue base unit) in parent terms.
    pub fn px_to_parent(&self, venue_px: Decimal) -> Decimal {
        venue_px * self.quote_value / self.qty_rate
    }

    /// A parent price in venue terms.
    pub fn px_to_venue(&self, parent_px: Decimal) -> Decimal {
        parent_px * self.qty_rate / self.quote_value
    }
}

/// Reference prices and asset equivalences, in one valuation currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valuation {
    currency: String,
    references: BTreeMap<String, Decimal>,
    equivalents: BTreeMap<String, (String, Decimal)>,
}

/// How deep an equivalence chain may go (cWUSDT → USDT → …).
const MAX_CHAIN: usize = 4;

impl Valuation {
    /// A valuation in `currency` with no references yet.
    pub fn new(currency: &str) -> Self {
        Self {
            currency: currency.into(),
            references: BTreeMap::new(),
            equivalents: BTreeMap::new(),
        }
    }

    /// The valuation currency (e.g. `USD`).
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// Sets the price of one unit of `asset` in the valuation currency.
    pub fn set_reference(&mut self, asset: &str, px: Decimal) {
        self.references.insert(asset.into(), px);
    }

    /// Declares that one unit of `asset` counts as `rate` units of `as_asset`.
    pub fn set_equivalent(&mut self, asset: &str, as_asset: &str, rate: Decimal) {
        self.equivalents
            .insert(asset.into(), (as_asset.into(), rate));
    }

    /// The price of `asset` in the valuation currency.
    pub fn reference(&self, asset: &str) -> Result<Decimal, ValuationError> {
        let mut asset = asset;
        let mut rate = Decimal::ONE;
        for _ in 0..=MAX_CHAIN {
            if asset == self.currency {
                return Ok(rate);
            }
            if let Some(px) = self.references.get(asset) {
                return Ok(rate * px);
            }
            match self.equivalents.get(asset) {
                Some((next, r)) => {
                    rate *= r;
                    asset = next;
                }
                None => break,
            }
        }
        Err(ValuationError::NoReference {
            asset: asset.into(),
            currency: self.currency.clone(),
        })
    }

    /// The value of one unit of `asset` in units of `currency`.
    pub fn value(&self, asset: &str, currency: &str) -> Result<Decimal, ValuationError> {
        if asset == currency {
            return Ok(Decimal::ONE);
        }
        let a = self.reference(asset)?;
        let c = self.reference(currency)?;
        if c.is_zero() {
            return Err(ValuationError::NoReference {
                asset: currency.into(),
                currency: self.currency.clone(),
            });
        }
        Ok(a / c)
    }

    /// How `venue` counts toward a parent in `parent`.
    pub fn conversion(
        &self,
        venue: &Instrument,
        parent: &Instrument,
    ) -> Result<Conversion, ValuationError> {
        if venue.id == parent.id {
            return Ok(Conversion::IDENTITY);
        }
        let qty_rate = self.base_rate(&venue.base, &parent.base)?;
        let quote_value = self.value(&venue.quote, &parent.quote)?;
        Ok(Conversion {
            qty_rate,
            quote_value,
        })
    }

    fn base_rate(&self, from: &str, to: &str) -> Result<Decimal, ValuationError> {
        let mut asset = from;
        let mut rate = Decimal::ONE;
        for _ in 0..=MAX_CHAIN {
            if asset == to {
                return Ok(rate);
            }
            match self.equivalents.get(asset) {
                Some((next, r)) => {
                    rate *= r;
                    asset = next;
                }
                None => break,
            }
        }
        Err(ValuationError::NotEquivalent {
            venue_base: from.into(),
            parent_base: to.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn corridor() -> Valuation {
        let mut v = Valuation::new("USD");
        v.set_reference("USDC", dec!(0.9999));
        v.set_reference("USDT", dec!(1.0002));
        v.set_equivalent("cWUSDC", "USDC", dec!(1));
        v.set_equivalent("cWUSDT", "USDC", dec!(1));
        v
    }

    #[test]
    fn on_chain_sale_counts_one_for_one_with_proceeds_at_the_reference() {
        let parent = Instrument::new("USDC/USD", 8, 6).unwrap();
        let pool = Instrument::new("cWUSDC/USDC", 8, 6).unwrap();
        let c = corridor().conversion(&pool, &parent).unwrap();
        assert_eq!(c.qty_rate, dec!(1));
        assert_eq!(c.quote_value, dec!(0.9999));
        assert_eq!(c.px_to_parent(dec!(0.9990)), dec!(0.9990) * dec!(0.9999));
        let usdt = Instrument::new("cWUSDT/USDT", 8, 6).unwrap();
        assert_eq!(
            corridor().conversion(&usdt, &parent).unwrap().quote_value,
            dec!(1.0002)
        );
    }

    #[test]
    fn an_undeclared_asset_does_not_count() {
        let parent = Instrument::new("USDC/USD", 8, 6).unwrap();
        let other = Instrument::new("DAI/USDC", 8, 6).unwrap();
        assert!(matches!(
            corridor().conversion(&other, &parent),
            Err(ValuationError::NotEquivalent { .. })
        ));
        assert!(corridor().reference("EURC").is_err());
    }
}
