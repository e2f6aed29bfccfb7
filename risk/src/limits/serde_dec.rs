//! Exact decimals in TOML: strings (`"0.9999"`) or integers, never floats.

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Parses a plain decimal string (`"2000000"`, `"-5"`, `"0.25"`; no exponent, no sign
/// on its own, no leading or trailing dot).
pub(crate) fn parse_plain(s: &str) -> Result<Decimal, String> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let ok = !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.matches('.').count() <= 1
        && !body.starts_with('.')
        && !body.ends_with('.');
    if !ok {
        return Err(format!("{s:?} is not a plain decimal like \"0.9999\""));
    }
    Decimal::from_str(s).map_err(|e| format!("{s:?} is not a decimal: {e}"))
}

struct DecVisitor;

impl Visitor<'_> for DecVisitor {
    type Value = Decimal;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal as a string, e.g. \"2000000\"")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Decimal, E> {
        parse_plain(s).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "{v} is a float; write decimals as strings, e.g. \"{v}\""
        )))
    }
}

/// `#[serde(with = "opt")]` for `Option<Decimal>` limit fields.
pub(crate) mod opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&d.normalize().to_string()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_any(DecVisitor).map(Some)
    }
}

/// A time of day in UTC, written `"HH:MM"` or `"HH:MM:SS"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct TimeOfDay {
    seconds: u32,
}

impl TimeOfDay {
    /// Midnight UTC.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay { seconds: 0 };

    /// The time `h:m:s`, or `None` past 23:59:59.
    pub fn new(h: u32, m: u32, s: u32) -> Option<Self> {
        (h < 24 && m < 60 && s < 60).then_some(Self {
            seconds: h * 3600 + m * 60 + s,
        })
    }

    /// Seconds since midnight.
    pub fn seconds(self) -> u32 {
        self.seconds
    }

    /// Nanoseconds since midnight.
    pub fn nanos(self) -> u64 {
        u64::from(self.seconds) * 1_000_000_000
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        write!(f, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a UTC time of day like \"17:00\" or \"00:00:00\"");
        let parts: Vec<&str> = s.split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let n = |i: usize| {
            parts
                .get(i)
                .map_or(Ok(0), |p| p.parse::<u32>().map_err(|_| bad()))
        };
        TimeOfDay::new(n(0)?, n(1)?, n(2)?).ok_or_else(bad)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_only() {
        assert_eq!(parse_plain("2000000").unwrap(), Decimal::from(2_000_000));
        assert_eq!(parse_plain("-5").unwrap(), Decimal::from(-5));
        for bad in ["", "1e5", ".5", "5.", "1.2.3", "--5", "-", " 5", "0x10"] {
            assert!(parse_plain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_of_day() {
        assert_eq!("17:00".parse::<TimeOfDay>().unwrap().seconds(), 17 * 3600);
        assert_eq!(
            "23:59:59".parse::<TimeOfDay>().unwrap().to_string(),
            "23:59:59"
        );
        for bad in ["24:00", "7:00", "12:60", "12", "12:00:00:00", "aa:bb"] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
    }
}
