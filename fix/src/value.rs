//! Strict parsers for FIX value formats, reporting errors against a tag.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::FieldError;

/// Parses a FIX `float`/`Qty`/`Price` exactly: an optional `-`, digits, and an
/// optional `.` with digits. No `+`, exponent, whitespace or separators; a value
/// with more digits than a `Decimal` holds exactly is refused, never rounded.
pub(crate) fn decimal(tag: u32, name: &'static str, raw: &str) -> Result<Decimal, FieldError> {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let well_formed = !(int_part.is_empty() && frac_part.is_empty())
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(FieldError::format(
            tag,
            name,
            raw,
            "is not a plain decimal (digits with an optional '-' and '.'; no exponent)",
        ));
    }
    match Decimal::from_str(raw) {
        Ok(value) if value.scale() as usize == frac_part.len() => Ok(value),
        _ => Err(FieldError::format(
            tag,
            name,
            raw,
            "has more digits than can be held exactly (at most 28 decimal places, 96-bit mantissa)",
        )),
    }
}

/// Parses a decimal that must be strictly greater than zero.
pub(crate) fn positive_decimal(
    tag: u32,
    name: &'static str,
    raw: &str,
) -> Result<Decimal, FieldError> {
    let value = decimal(tag, name, raw)?;
    if value > Decimal::ZERO {
        Ok(value)
    } else {
        Err(FieldError::invalid(
            tag,
            name,
            raw,
            "must be greater than 0",
        ))
    }
}

/// Parses a non-negative whole number made of ASCII digits only.
pub(crate) fn whole_number(tag: u32, name: &'static str, raw: &str) -> Result<u64, FieldError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::format(tag, name, raw, "is not a whole number"));
    }
    u64::from_str(raw).map_err(|_| FieldError::format(tag, name, raw, "is too large"))
}

/// Checks a FIX 4.4 UTCTimestamp: `YYYYMMDD-HH:MM:SS` or `YYYYMMDD-HH:MM:SS.sss`,
/// with real calendar dates and seconds up to 60 (leap second).
pub(crate) fn utc_timestamp(tag: u32, name: &'static str, raw: &str) -> Result<(), FieldError> {
    const RULE: &str = "is not a UTCTimestamp YYYYMMDD-HH:MM:SS[.sss]";
    let bad = || FieldError::format(tag, name, raw, RULE);
    let b = raw.as_bytes();
    if !(b.len() == 17 || b.len() == 21) {
        return Err(bad());
    }
    let pattern: &[u8] = b"DDDDDDDD-DD:DD:DD.DDD";
    let shape_ok = b.iter().zip(pattern).all(|(&c, &p)| {
        if p == b'D' {
            c.is_ascii_digit()
        } else {
            c == p
        }
    });
    if !shape_ok {
        return Err(bad());
    }
    let num = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (num(0, 4), num(4, 6), num(6, 8));
    let (hour, minute, second) = (num(9, 11), num(12, 14), num(15, 17));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_exact_and_strict() {
        assert_eq!(
            decimal(38, "OrderQty", "1000.50").map(|d| d.to_string()),
            Ok("1000.50".to_owned())
        );
        assert_eq!(
            decimal(38, "OrderQty", "-0.1").map(|d| d.to_string()),
            Ok("-0.1".to_owned())
        );
        for bad in [
            "", "-", ".", "1e5", "1E5", "+1", " 1", "1 ", "1,000", "1_000", "abc", "0x10", "1.2.3",
            "NaN", "inf",
        ] {
            assert!(
                matches!(
                    decimal(38, "OrderQty", bad),
                    Err(FieldError::Format { tag: 38, .. })
                ),
                "{bad:?} accepted"
            );
        }
        // 29 decimal places would be rounded by rust_decimal: refuse instead.
        assert!(decimal(44, "Price", "0.00000000000000000000000000001").is_err());
        assert!(decimal(38, "OrderQty", "99999999999999999999999999999999").is_err());
    }

    #[test]
    fn positive_decimal_rejects_zero_and_negative() {
        for bad in ["0", "0.000", "-1"] {
            assert!(matches!(
                positive_decimal(38, "OrderQty", bad),
                Err(FieldError::Invalid { tag: 38, .. })
            ));
        }
    }

    #[test]
    fn timestamp_shapes() {
        for good in [
            "20240229-23:59:60",
            "20250101-00:00:00.000",
            "20251231-12:34:56.789",
        ] {
            assert_eq!(utc_timestamp(60, "TransactTime", good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "20250101",
            "20250101-00:00",
            "20250101 00:00:00",
            "20250101-00:00:00.1",
            "20250101-00:00:00.123456",
            "20250229-00:00:00",
            "20251301-00:00:00",
            "20250100-00:00:00",
            "20250101-24:00:00",
            "20250101-00:60:00",
            "20250101-00:00:61",
            "2025-01-01T00:00:00",
        ] {
            assert!(utc_timestamp(60, "TransactTime", bad).is_err(), "{bad}");
        }
    }
}

/// The current UTC time as a FIX UTCTimestamp with milliseconds,
/// `YYYYMMDD-HH:MM:SS.sss`.
pub fn utc_now() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    utc_timestamp_of(since.as_secs(), since.subsec_millis())
}

/// Formats `secs` since the Unix epoch plus `millis` as `YYYYMMDD-HH:MM:SS.sss`.
pub fn utc_timestamp_of(secs: u64, millis: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{millis:03}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Gregorian (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// days-to-civil algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn timestamps_follow_the_calendar() {
        assert_eq!(utc_timestamp_of(0, 0), "19700101-00:00:00.000");
        // 2026-11-23 00:26:56 UTC.
        assert_eq!(utc_timestamp_of(1_795_393_616, 7), "20261123-00:26:56.007");
        // A leap day.
        assert_eq!(
            utc_timestamp_of(1_709_164_800, 999),
            "20240229-00:00:00.999"
        );
        assert!(utc_timestamp(60, "TransactTime", &utc_now()).is_ok());
    }
}
