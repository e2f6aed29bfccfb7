//! Instruments and their precision: a value off an instrument's precision is an error,
//! never silently rounded.

use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// A tradable pair, e.g. `USDC/USD`, with the precision of its prices and quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instrument {
    /// Id, `BASE/QUOTE`.
    pub id: String,
    /// Base asset (what a quantity counts).
    pub base: String,
    /// Quote asset (what a price is in).
    pub quote: String,
    /// Decimal places of a price.
    pub price_scale: u32,
    /// Decimal places of a quantity.
    pub qty_scale: u32,
}

/// A value that does not fit an instrument's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// More decimal places than the instrument allows.
    #[error("{field}: {value} has more than {scale} decimal places allowed for {instrument}")]
    OffPrecision {
        /// Which field.
        field: String,
        /// The value.
        value: Decimal,
        /// The allowed decimal places.
        scale: u32,
        /// The instrument.
        instrument: String,
    },
    /// Zero or negative where a positive value is needed.
    #[error("{field}: must be greater than 0, got {value}")]
    NotPositive {
        /// Which field.
        field: String,
        /// The value.
        value: Decimal,
    },
    /// No instrument has that id.
    #[error("{field}: unknown instrument {id:?}")]
    Unknown {
        /// Which field.
        field: String,
        /// The id asked for.
        id: String,
    },
    /// An instrument id not of the form `BASE/QUOTE`.
    #[error("{field}: instrument id {id:?} is not BASE/QUOTE")]
    BadId {
        /// Which field.
        field: String,
        /// The id.
        id: String,
    },
}

impl Instrument {
    /// An instrument from its `BASE/QUOTE` id and precisions.
    pub fn new(id: &str, price_scale: u32, qty_scale: u32) -> Result<Self, InstrumentError> {
        let (base, quote) = id
            .split_once('/')
            .filter(|(b, q)| !b.is_empty() && !q.is_empty() && !q.contains('/'))
            .ok_or_else(|| InstrumentError::BadId {
                field: "instrument".into(),
                id: id.into(),
            })?;
        Ok(Self {
            id: id.into(),
            base: base.into(),
            quote: quote.into(),
            price_scale,
            qty_scale,
        })
    }

    fn check_scale(
        &self,
        field: &str,
        value: Decimal,
        scale: u32,
    ) -> Result<Decimal, InstrumentError> {
        if value.normalize().scale() > scale {
            return Err(InstrumentError::OffPrecision {
                field: field.into(),
                value,
                scale,
                instrument: self.id.clone(),
            });
        }
        Ok(value)
    }

    /// A positive quantity at this instrument's precision, or why not.
    pub fn qty(&self, field: &str, value: Decimal) -> Result<Decimal, InstrumentError> {
        if value <= Decimal::ZERO {
            return Err(InstrumentError::NotPositive {
                field: field.into(),
                value,
            });
        }
        self.check_scale(field, value, self.qty_scale)
    }

    /// A positive price at this instrument's precision, or why not.
    pub fn px(&self, field: &str, value: Decimal) -> Result<Decimal, InstrumentError> {
        if value <= Decimal::ZERO {
            return Err(InstrumentError::NotPositive {
                field: field.into(),
                value,
            });
        }
        self.check_scale(field, value, self.price_scale)
    }

    /// `value` cut down (toward zero) to this instrument's quantity precision.
    pub fn floor_qty(&self, value: Decimal) -> Decimal {
        value.round_dp_with_strategy(self.qty_scale, rust_decimal::RoundingStrategy::ToZero)
    }
}

/// The configured instruments, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instruments(BTreeMap<String, Instrument>);

impl Instruments {
    /// The corridor this project serves: `USDC/USD`, `cWUSDC/USDC`, `cWUSDT/cWUSDC`,
    /// `cWUSDT/USDT`, prices to 6 places (8 for USDC/USD), quantities to 6 (token decimals).
    pub fn corridor() -> Self {
        let mut all = Self::default();
        for (id, px) in [
            ("USDC/USD", 8),
            ("cWUSDC/USDC", 8),
            ("cWUSDT/cWUSDC", 8),
            ("cWUSDT/USDT", 8),
        ] {
            if let Ok(i) = Instrument::new(id, px, 6) {
                all.insert(i);
            }
        }
        all
    }

    /// Adds or replaces an instrument.
    pub fn insert(&mut self, instrument: Instrument) {
        self.0.insert(instrument.id.clone(), instrument);
    }

    /// The instrument with that id, or an error naming `field`.
    pub fn get(&self, field: &str, id: &str) -> Result<&Instrument, InstrumentError> {
        self.0.get(id).ok_or_else(|| InstrumentError::Unknown {
            field: field.into(),
            id: id.into(),
        })
    }

    /// Every instrument, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.0.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn off_precision_is_an_error_not_rounded() {
        let i = Instrument::new("USDC/USD", 4, 2).unwrap();
        assert_eq!(i.qty("qty", dec!(10.25)), Ok(dec!(10.25)));
        assert_eq!(i.qty("qty", dec!(10.2500)), Ok(dec!(10.2500)));
        let err = i.qty("parents[0].qty", dec!(10.251)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parents[0].qty: 10.251 has more than 2 decimal places allowed for USDC/USD"
        );
        assert!(i.px("limit", dec!(0.99991)).is_err());
        assert!(i.qty("qty", dec!(0)).is_err());
    }

    #[test]
    fn ids_must_be_base_slash_quote() {
        assert!(Instrument::new("USDCUSD", 4, 2).is_err());
        assert!(Instrument::new("USDC/", 4, 2).is_err());
        assert!(Instrument::new("A/B/C", 4, 2).is_err());
        let i = Instrument::new("cWUSDT/cWUSDC", 8, 6).unwrap();
        assert_eq!((i.base.as_str(), i.quote.as_str()), ("cWUSDT", "cWUSDC"));
    }

    #[test]
    fn corridor_has_the_four_instruments() {
        let c = Instruments::corridor();
        for id in ["USDC/USD", "cWUSDC/USDC", "cWUSDT/cWUSDC", "cWUSDT/USDT"] {
            assert!(c.get("x", id).is_ok(), "{id}");
        }
    }
}
