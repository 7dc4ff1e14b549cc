//! What each fuzz target does with its input, shared with `tests/fuzz_corpus.rs`
//! (which replays the kept corpora in `cargo test`). Every function must
//! return for any input; a panic is a bug.

use std::path::Path;
use std::sync::Arc;
use upkeep::config::{Config, DecodeConfig};
use upkeep::decode::Decoder;
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::outputs::influx::line_protocol::{FieldValue, Point, Precision};

/// Event time the corpus payloads sit near (2026-01-01).
pub const NOW_MS: i64 = 1_767_225_600_000;

/// The fleet the decoder checks asset ids against: 20 assets from the shipped rules.
pub fn fleet(rules_dir: &Path) -> Fleet {
    let rules = upkeep::rules::load_dir(rules_dir).expect("the shipped rules load");
    Fleet::new(generate(&rules, FleetSpec { assets: 20, seed: 3 })).expect("a generated fleet is valid")
}

/// Topic up to the first NUL byte, payload after it.
pub fn decode(fleet: &Fleet, data: &[u8]) {
    let (topic, payload) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let topic = String::from_utf8_lossy(topic);
    let _ = Decoder::new(DecodeConfig::default()).decode(&topic, payload, fleet, NOW_MS);
}

/// The input as the topic of a valid message of the fleet's first asset.
pub fn topic(fleet: &Fleet, data: &[u8]) {
    let asset = &fleet.assets()[0].id;
    let payload = format!(r#"{{"asset_id": "{asset}", "ts": {NOW_MS}, "metric": "flow_m3h", "value": 1.5}}"#);
    let _ =
        Decoder::new(DecodeConfig::default()).decode(&String::from_utf8_lossy(data), payload.as_bytes(), fleet, NOW_MS);
}

/// The input as a rule file. A `health` rule names a model file it reads;
/// inputs pointing that at a device file (which never ends) are skipped.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if !["/dev/", "/proc/", "/sys/"].iter().any(|d| text.contains(d)) {
        let _ = upkeep::rules::parse_file(Path::new("fuzz.toml"), text);
    }
}

/// A config file up to a line `---`, then `KEY=VALUE` environment overrides.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (file, env) = text.split_once("\n---\n").unwrap_or((&text, ""));
    let vars = env.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned()));
    let _ = Config::parse(file, "fuzz", vars.collect::<Vec<_>>());
}

/// A point from the input: measurement, tags and fields separated by NUL
/// bytes, the field kind chosen by each field's first byte. An encoded
/// point is one line: it ends with a newline and its names hold none.
pub fn line_protocol(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0).map(|p| String::from_utf8_lossy(p).into_owned());
    let measurement = parts.next().unwrap_or_default();
    let time = data.iter().fold(0i64, |t, &b| t.wrapping_mul(31).wrapping_add(i64::from(b)));
    let mut point = Point::new(measurement, time);
    let rest: Vec<String> = parts.collect();
    for pair in rest.chunks(2) {
        let (key, value) = (pair[0].clone(), pair.get(1).cloned().unwrap_or_default());
        point = match key.bytes().next().unwrap_or(0) % 5 {
            0 => point.tag(key, Arc::<str>::from(value)),
            1 => point.field(key, FieldValue::Float(value.parse().unwrap_or(f64::from(value.len() as u32)))),
            2 => point.field(key, FieldValue::Int(value.parse().unwrap_or(i64::MIN))),
            3 => point.field(key, FieldValue::Bool(value.len() % 2 == 0)),
            _ => point.field(key, FieldValue::Str(value)),
        };
    }
    for precision in [Precision::Ms, Precision::Ns] {
        let mut out = String::new();
        if point.encode(precision, &mut out).is_ok() {
            assert!(out.ends_with('\n'), "a point ends its line: {out:?}");
            let names = std::iter::once(point.measurement.as_ref()).chain(point.tags.iter().map(|(k, _)| k.as_ref()));
            assert!(names.clone().all(|n| !n.contains('\n')), "encoded a name with a line break: {out:?}");
        }
    }
}
