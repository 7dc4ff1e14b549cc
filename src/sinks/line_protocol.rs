//! InfluxDB line protocol: `measurement,tag=v field=1.5,n=2i 1700000000000`.
//! One encoder for both write APIs (v1 `/write`, v2 `/api/v2/write`): they
//! take the same text. Escaping follows the line-protocol reference:
//! measurement names escape commas and spaces; tag keys, tag values and
//! field keys also escape equals signs; string field values are quoted and
//! escape double quotes and backslashes. A backslash in a name is doubled
//! so it cannot escape the separator after it.

use crate::model::EpochMs;
use std::fmt::Write as _;

/// A field value, typed as InfluxDB stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(String),
}

/// One point: a measurement, its tags (indexed, low cardinality), its
/// fields (the values) and its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    pub fields: Vec<(String, FieldValue)>,
    pub time: EpochMs,
}

/// Timestamp precision of the written text (the `precision` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Ms,
    Ns,
}

impl Precision {
    /// The value both write APIs take for `precision`.
    pub fn as_param(self) -> &'static str {
        match self {
            Precision::Ms => "ms",
            Precision::Ns => "ns",
        }
    }
}

/// Why a point was not encoded; the rest of its batch is unaffected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    #[error("empty measurement name")]
    EmptyMeasurement,
    #[error("{0}: no finite field value (NaN and infinities are left out)")]
    NoFields(String),
    #[error("{0}: names must not contain line breaks")]
    LineBreak(String),
    #[error("{0}: a backslash in a name must be followed by an ordinary character")]
    Backslash(String),
}

impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        FieldValue::Float(v)
    }
}
impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        FieldValue::Int(v)
    }
}
impl From<u64> for FieldValue {
    fn from(v: u64) -> Self {
        FieldValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<u32> for FieldValue {
    fn from(v: u32) -> Self {
        FieldValue::Int(i64::from(v))
    }
}
impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Bool(v)
    }
}
impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Str(v.to_owned())
    }
}

impl Point {
    pub fn new(measurement: impl Into<String>, time: EpochMs) -> Self {
        Point { measurement: measurement.into(), tags: Vec::new(), fields: Vec::new(), time }
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    pub fn field(mut self, key: impl Into<String>, value: impl Into<FieldValue>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }

    /// Appends the point as one line (with its newline) to `out`. Tags are
    /// written sorted by key (InfluxDB's fastest path) and empty tag values
    /// are left out (the server rejects them); fields with non-finite floats
    /// or empty keys are left out, and a point left without fields is an error. On error `out` is
    /// unchanged.
    pub fn encode(&self, precision: Precision, out: &mut String) -> Result<(), EncodeError> {
        if self.measurement.is_empty() {
            return Err(EncodeError::EmptyMeasurement);
        }
        let names = std::iter::once(self.measurement.as_str())
            .chain(self.tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
            .chain(self.fields.iter().map(|(k, _)| k.as_str()));
        for name in names {
            if name.contains(['\n', '\r']) {
                return Err(EncodeError::LineBreak(self.measurement.clone()));
            }
            if !backslashes_representable(name) {
                return Err(EncodeError::Backslash(self.measurement.clone()));
            }
        }
        let fields: Vec<&(String, FieldValue)> = self
            .fields
            .iter()
            .filter(|(k, v)| !k.is_empty() && !matches!(v, FieldValue::Float(f) if !f.is_finite()))
            .collect();
        if fields.is_empty() {
            return Err(EncodeError::NoFields(self.measurement.clone()));
        }
        escape(&self.measurement, &[',', ' '], out);
        let mut tags: Vec<&(String, String)> =
            self.tags.iter().filter(|(k, v)| !k.is_empty() && !v.is_empty()).collect();
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in tags {
            out.push(',');
            escape(k, KEY_SPECIALS, out);
            out.push('=');
            escape(v, KEY_SPECIALS, out);
        }
        for (i, (k, v)) in fields.into_iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            escape(k, KEY_SPECIALS, out);
            out.push('=');
            write_value(v, out);
        }
        let time = match precision {
            Precision::Ms => i128::from(self.time),
            Precision::Ns => i128::from(self.time) * 1_000_000,
        };
        let _ = writeln!(out, " {time}");
        Ok(())
    }
}

/// Characters escaped in tag keys, tag values and field keys.
const KEY_SPECIALS: &[char] = &[',', '=', ' '];

/// Whether every backslash in `name` is followed by an ordinary character.
fn backslashes_representable(name: &str) -> bool {
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_none_or(|n| *n == '\\' || KEY_SPECIALS.contains(n)) {
            return false;
        }
    }
    true
}

fn escape(s: &str, specials: &[char], out: &mut String) {
    for c in s.chars() {
        if specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

fn write_value(v: &FieldValue, out: &mut String) {
    match v {
        // `{:?}` keeps a decimal point or exponent, so 2.0 stays a float ("2.0").
        FieldValue::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        FieldValue::Int(i) => {
            let _ = write!(out, "{i}i");
        }
        FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        FieldValue::Str(s) => {
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
    }
}

#[cfg(test)]
mod tests;
