//! Human-readable durations (`90s`, `15m`, `12h`, `3d`) for config and rule files.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A non-negative duration in milliseconds, written as `<number><unit>` with
/// unit `ms`, `s`, `m`, `h` or `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub i64);

impl Span {
    pub const fn from_secs(s: i64) -> Self {
        Span(s * 1000)
    }
    pub const fn from_mins(m: i64) -> Self {
        Span(m * 60_000)
    }
    pub const fn from_hours(h: i64) -> Self {
        Span(h * 3_600_000)
    }
    pub fn as_millis(self) -> i64 {
        self.0
    }
    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0.max(0) as u64)
    }
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / 3_600_000.0
    }
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid duration '{0}': expected a number and a unit (ms, s, m, h, d), e.g. 15m")]
pub struct DurationError(pub String);

/// Parses `250ms`, `30s`, `15m`, `12h`, `3d` (fractions allowed: `1.5h`).
pub fn parse_duration(text: &str) -> Result<Span, DurationError> {
    let err = || DurationError(text.to_owned());
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(err)?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.trim().parse().map_err(|_| err())?;
    let unit_ms = match unit {
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return Err(err()),
    };
    // Capped at 100 years so that adding a span to a timestamp cannot overflow.
    if !n.is_finite() || n < 0.0 || n * unit_ms > 100.0 * 365.25 * 86_400_000.0 {
        return Err(err());
    }
    Ok(Span((n * unit_ms).round() as i64))
}

impl FromStr for Span {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let units = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
        match units.iter().find(|(u, _)| ms != 0 && ms % u == 0) {
            Some((u, name)) => write!(f, "{}{}", ms / u, name),
            None => write!(f, "{ms}ms"),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("250ms").unwrap(), Span(250));
        assert_eq!(parse_duration("30s").unwrap(), Span::from_secs(30));
        assert_eq!(parse_duration("15m").unwrap(), Span::from_mins(15));
        assert_eq!(parse_duration("1.5h").unwrap(), Span::from_mins(90));
        assert_eq!(parse_duration("3d").unwrap(), Span::from_hours(72));
    }

    #[test]
    fn rejects_missing_unit_negative_and_garbage() {
        for bad in ["15", "-3m", "m", "3 weeks", "", "NaNs", "1e300d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["90s", "15m", "12h", "3d", "250ms"] {
            assert_eq!(parse_duration(text).unwrap().to_string(), text);
        }
    }
}
