//! InfluxDB line protocol: `measurement,tag=v field=1.5,n=2i 1700000000000`.
//! One encoder for both write APIs (v1 `/write`, v2 `/api/v2/write`): they
//! take the same text. Escaping follows the line-protocol reference:
//! measurement names escape commas and spaces; tag keys, tag values and
//! field keys also escape equals signs; string field values are quoted and
//! escape double quotes and backslashes. A backslash in a name is doubled
//! so it cannot escape the separator after it.

use crate::model::EpochMs;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

/// Measurement names and keys: mostly constants, so no allocation.
pub type Name = Cow<'static, str>;

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
    pub measurement: Name,
    /// Values are shared: ids (assets, metrics, sites) are tagged without a copy.
    pub tags: Vec<(Name, Arc<str>)>,
    pub fields: Vec<(Name, FieldValue)>,
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
    pub fn new(measurement: impl Into<Name>, time: EpochMs) -> Self {
        Point { measurement: measurement.into(), tags: Vec::with_capacity(8), fields: Vec::with_capacity(4), time }
    }

    pub fn tag(mut self, key: impl Into<Name>, value: impl Into<Arc<str>>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    pub fn field(mut self, key: impl Into<Name>, value: impl Into<FieldValue>) -> Self {
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
        let names = std::iter::once(self.measurement.as_ref())
            .chain(self.tags.iter().flat_map(|(k, v)| [k.as_ref(), v.as_ref()]))
            .chain(self.fields.iter().map(|(k, _)| k.as_ref()));
        for name in names.filter(|n| n.contains(['\n', '\r', '\\'])) {
            if name.contains(['\n', '\r']) {
                return Err(EncodeError::LineBreak(self.measurement.to_string()));
            }
            if !backslashes_representable(name) {
                return Err(EncodeError::Backslash(self.measurement.to_string()));
            }
        }
        let kept = |(k, v): &&(Name, FieldValue)| !k.is_empty() && !matches!(v, FieldValue::Float(f) if !f.is_finite());
        if !self.fields.iter().any(|f| kept(&f)) {
            return Err(EncodeError::NoFields(self.measurement.to_string()));
        }
        escape(&self.measurement, &[',', ' '], out);
        if self.tags.is_sorted_by(|a, b| a.0 <= b.0) {
            write_tags(self.tags.iter(), out);
        } else {
            let mut tags: Vec<&(Name, Arc<str>)> = self.tags.iter().collect();
            tags.sort_by(|a, b| a.0.cmp(&b.0));
            write_tags(tags.into_iter(), out);
        }
        for (i, (k, v)) in self.fields.iter().filter(kept).enumerate() {
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

/// Tags in the order given, empty keys and values left out.
fn write_tags<'a>(tags: impl Iterator<Item = &'a (Name, Arc<str>)>, out: &mut String) {
    for (k, v) in tags.filter(|(k, v)| !k.is_empty() && !v.is_empty()) {
        out.push(',');
        escape(k, KEY_SPECIALS, out);
        out.push('=');
        escape(v, KEY_SPECIALS, out);
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
    if !s.contains(specials) {
        out.push_str(s);
        return;
    }
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
