use super::*;
use crate::model::Span;

struct Known;

impl AssetLookup for Known {
    fn model_of(&self, asset: &str) -> Option<ModelId> {
        asset.starts_with("PMP-").then(|| ModelId::new("centrifugal_pump"))
    }
}

const NOW: EpochMs = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn limits() -> DecodeConfig {
    DecodeConfig {
        max_payload_bytes: 4096,
        max_readings: 50,
        max_age: Span::from_hours(24),
        max_future: Span::from_mins(5),
    }
}

fn run(text: &str) -> Result<Decoded, DecodeError> {
    let asset =
        serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v["asset_id"].as_str().map(str::to_owned));
    Decoder::new(limits()).decode(
        &format!("upkeep/telemetry/{}", asset.unwrap_or_default()),
        text.as_bytes(),
        &Known,
        NOW,
    )
}

fn reason(text: &str) -> DeadLetterReason {
    run(text).expect_err("should be rejected").reason()
}

#[test]
fn a_batch_decodes_into_typed_readings() {
    let d = run(r#"{"asset_id":"PMP-0001","readings":[
        {"ts":1767225600000,"metric":"vibration_rms_mm_s","value":2.31},
        {"ts":"2026-01-01T00:01:00Z","metric":"bearing_temp_c","value":48}]}"#)
    .unwrap();
    assert_eq!(d.asset.as_str(), "PMP-0001");
    assert_eq!(d.model.as_str(), "centrifugal_pump");
    assert_eq!(d.readings.len(), 2);
    assert_eq!(d.readings[1].ts, NOW + 60_000);
    assert_eq!(d.readings[1].value, 48.0);
}

#[test]
fn a_single_reading_decodes_too() {
    let d = run(r#"{"asset_id":"PMP-0001","ts":1767225600000,"metric":"flow_m3h","value":120.5}"#).unwrap();
    assert_eq!(d.readings, vec![Reading { ts: NOW, metric: MetricName::new("flow_m3h"), value: 120.5 }]);
}

#[test]
fn each_kind_of_bad_input_gets_its_reason() {
    let r = |body: &str| reason(&format!(r#"{{"asset_id":"PMP-0001","readings":[{body}]}}"#));
    assert_eq!(reason("{not json"), DeadLetterReason::InvalidJson);
    assert_eq!(reason(""), DeadLetterReason::InvalidJson);
    assert_eq!(
        reason(r#"{"asset_id":"XYZ-1","ts":1767225600000,"metric":"m","value":1}"#),
        DeadLetterReason::UnknownAsset
    );
    assert_eq!(r(r#"{"ts":1767225600000,"metric":"m","value":"NaN"}"#), DeadLetterReason::NonFinite);
    assert_eq!(r(r#"{"ts":1767225600000,"metric":"m","value":"-Infinity"}"#), DeadLetterReason::NonFinite);
    assert_eq!(r(r#"{"ts":1767225600000,"metric":"m","value":1e999}"#), DeadLetterReason::NonFinite);
    assert_eq!(r(r#"{"ts":1767225600000,"metric":"m","value":"hot"}"#), DeadLetterReason::InvalidSchema);
    assert_eq!(r(r#"{"ts":1767225600000,"metric":"m","value":true}"#), DeadLetterReason::InvalidSchema);
    assert_eq!(r(r#"{"ts":0,"metric":"m","value":1}"#), DeadLetterReason::AbsurdTimestamp);
    assert_eq!(r(r#"{"ts":"2999-01-01T00:00:00Z","metric":"m","value":1}"#), DeadLetterReason::AbsurdTimestamp);
    assert_eq!(r(r#"{"ts":1767226200001,"metric":"m","value":1}"#), DeadLetterReason::AbsurdTimestamp, "10 min ahead");
    assert_eq!(r(r#"{"ts":"yesterday","metric":"m","value":1}"#), DeadLetterReason::AbsurdTimestamp);
    assert_eq!(r(r#"{"ts":1767225600000,"value":1}"#), DeadLetterReason::InvalidSchema);
    assert_eq!(reason(r#"{"asset_id":"PMP-0001","readings":[]}"#), DeadLetterReason::InvalidSchema);
    assert_eq!(reason(r#"{"asset_id":"PMP-0001"}"#), DeadLetterReason::InvalidSchema);
    assert_eq!(reason(r#"{"asset_id":7,"readings":[]}"#), DeadLetterReason::InvalidSchema);
    assert_eq!(reason(r#"[1,2,3]"#), DeadLetterReason::InvalidSchema);
}

#[test]
fn limits_on_size_and_count_are_enforced() {
    let big = format!(r#"{{"asset_id":"PMP-0001","pad":"{}"}}"#, "x".repeat(5000));
    assert_eq!(reason(&big), DeadLetterReason::Oversize);
    let many: Vec<String> = (0..51).map(|i| format!(r#"{{"ts":{},"metric":"m","value":1}}"#, NOW + i)).collect();
    assert_eq!(
        reason(&format!(r#"{{"asset_id":"PMP-0001","readings":[{}]}}"#, many.join(","))),
        DeadLetterReason::Oversize
    );
}

#[test]
fn an_asset_reporting_on_another_assets_topic_is_rejected() {
    let text = r#"{"asset_id":"PMP-0002","ts":1767225600000,"metric":"m","value":1}"#;
    let e = Decoder::new(limits()).decode("upkeep/telemetry/PMP-0001", text.as_bytes(), &Known, NOW).unwrap_err();
    assert_eq!(e.reason(), DeadLetterReason::TopicMismatch);
    assert!(Decoder::new(limits()).decode("site/PMP-0002/telemetry", text.as_bytes(), &Known, NOW).is_ok());
}

#[test]
fn metric_names_are_shared_between_readings_and_bounded() {
    let mut decoder = Decoder::new(limits());
    let text = |m: &str| format!(r#"{{"asset_id":"PMP-0001","ts":1767225600000,"metric":"{m}","value":1}}"#);
    let a = decoder.decode("t/PMP-0001", text("flow").as_bytes(), &Known, NOW).unwrap();
    let b = decoder.decode("t/PMP-0001", text("flow").as_bytes(), &Known, NOW).unwrap();
    assert!(std::ptr::eq(a.readings[0].metric.as_str(), b.readings[0].metric.as_str()), "one allocation per name");
    for i in 0..MAX_NAMES + 10 {
        decoder.decode("t/PMP-0001", text(&format!("m{i}")).as_bytes(), &Known, NOW).unwrap();
    }
    assert_eq!(decoder.names.len(), MAX_NAMES);
}

#[test]
fn mixing_single_and_batch_forms_is_rejected() {
    let text = r#"{"asset_id":"PMP-0001","metric":"m","readings":[{"ts":1767225600000,"metric":"m","value":1}]}"#;
    assert_eq!(reason(text), DeadLetterReason::InvalidSchema);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut decoder = Decoder::new(limits());
    let mut seed = 0x2545F4914F6CDD1Du64;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let alphabet = b"{}[]\":,0123456789.eE-+ assetidreadingstsmetricvalueNaN\xff";
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect();
        let _ = decoder.decode("upkeep/telemetry/PMP-0001", &bytes, &Known, NOW);
    }
}

#[test]
fn the_json_schema_examples_decode() {
    let schema: serde_json::Value = serde_json::from_str(include_str!("../../schemas/telemetry.schema.json")).unwrap();
    let examples = schema["examples"].as_array().unwrap();
    assert!(!examples.is_empty());
    for ex in examples {
        let d = run(&ex.to_string()).unwrap_or_else(|e| panic!("{ex}: {e}"));
        assert!(!d.readings.is_empty());
    }
}
