use super::*;

const GOOD: &str = r#"
model = "centrifugal_pump"
asset_prefix = "PMP"

[[rule]]
id = "pump.bearing_wear"
fault = "BEARING_WEAR"
severity = "major"
description = "Bearing wear"
for = "20m"
clear_after = "2h"
skills = { mechanical = 2 }
parts = [{ part = "BRG-6310", qty = 2 }]
when = { any = [
  { metric = "vibration_rms_mm_s", detector = "threshold", above = 4.5, held = "20m" },
  { all = [
    { metric = "vibration_rms_mm_s", detector = "forecast", above = 11.2, horizon = "48h" },
    { metric = "bearing_temp_c", detector = "baseline", above = 4.0 },
  ] },
] }

[[rule]]
id = "pump.sensor_dropout"
fault = "SENSOR_DROPOUT"
kind = "sensor_check"
severity = "general"
description = "A sensor stopped reporting"
when = { metric = "flow_m3h", detector = "stale", after = "1h" }
"#;

fn parse(text: &str) -> Result<ModelRules, RuleError> {
    parse_file(Path::new("pump.toml"), text)
}

fn error_of(text: &str) -> RuleError {
    parse(text).expect_err("should be rejected")
}

#[test]
fn a_good_file_yields_rules_with_their_conditions() {
    let m = parse(GOOD).unwrap();
    assert_eq!(m.model.as_str(), "centrifugal_pump");
    assert_eq!(m.rules.len(), 2);
    let wear = &m.rules[0];
    assert_eq!(wear.hold_for, Span::from_mins(20));
    assert_eq!(wear.clear_after, Span::from_hours(2));
    assert_eq!(wear.parts[0].qty, 2);
    let Condition::Any(branches) = &wear.when else { panic!("expected any") };
    assert!(matches!(&branches[1], Condition::All(c) if c.len() == 2));
    assert_eq!(m.rules[1].kind, TicketKind::SensorCheck);
    assert_eq!(m.rules[1].clear_after, Span(0), "clear_after defaults to `for`");
}

#[test]
fn metrics_are_collected_sorted_and_unique() {
    let m = parse(GOOD).unwrap();
    let names: Vec<_> = m.metrics.iter().map(|m| m.as_str()).collect();
    assert_eq!(names, ["bearing_temp_c", "flow_m3h", "vibration_rms_mm_s"]);
}

#[test]
fn an_unknown_detector_is_reported_on_its_line() {
    let text = GOOD.replace("detector = \"stale\"", "detector = \"magic\"");
    let e = error_of(&text);
    assert_eq!(e.line, Some(28), "{e}");
    assert!(e.reason.contains("unknown detector 'magic'"), "{e}");
}

#[test]
fn a_missing_parameter_is_named() {
    let e = error_of(&GOOD.replace(", horizon = \"48h\"", ""));
    assert!(e.reason.contains("needs 'horizon'"), "{e}");
    assert_eq!(e.line, Some(17));
}

#[test]
fn a_parameter_the_detector_does_not_take_is_rejected() {
    let e = error_of(&GOOD.replace("after = \"1h\"", "after = \"1h\", above = 3"));
    assert!(e.reason.contains("does not take 'above/below'"), "{e}");
}

#[test]
fn syntax_errors_and_unknown_keys_carry_a_line() {
    let e = error_of(&GOOD.replace("severity = \"major\"", "severity = \"urgent\""));
    assert_eq!(e.line, Some(8), "{e}");
    let e = error_of(&GOOD.replace("for = \"20m\"", "fro = \"20m\""));
    assert!(e.reason.contains("fro"), "{e}");
    let e = error_of(&GOOD.replace("for = \"20m\"", "for = \"twenty\""));
    assert!(e.reason.contains("invalid duration"), "{e}");
}

#[test]
fn duplicate_ids_empty_groups_and_bad_levels_are_rejected() {
    let dup = GOOD.replace("pump.sensor_dropout", "pump.bearing_wear");
    assert!(error_of(&dup).reason.contains("duplicate rule id"));
    let empty =
        GOOD.replace("when = { metric = \"flow_m3h\", detector = \"stale\", after = \"1h\" }", "when = { all = [] }");
    assert!(error_of(&empty).reason.contains("at least one condition"));
    assert!(error_of(&GOOD.replace("mechanical = 2", "mechanical = 5")).reason.contains("levels are 1 to 3"));
    assert!(error_of(&GOOD.replace("qty = 2", "qty = 0")).reason.contains("quantity"));
}

#[test]
fn a_condition_mixing_group_and_check_is_rejected() {
    let text = GOOD.replace(
        "{ metric = \"flow_m3h\", detector = \"stale\", after = \"1h\" }",
        "{ metric = \"flow_m3h\", detector = \"stale\", after = \"1h\", any = [] }",
    );
    assert!(error_of(&text).reason.contains("exactly one of"));
}

#[test]
fn the_shipped_rule_files_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let set = load_dir(&dir).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(set.models.len() >= 5, "one file per equipment model");
    assert!(set.rule_count() >= 10);
}

#[test]
fn a_directory_with_a_broken_file_reports_that_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), GOOD).unwrap();
    std::fs::write(dir.path().join("b.toml"), "model = \"x\"\nasset_prefix = \"X\"\n[[rule]]\nid = 3\n").unwrap();
    let errors = load_dir(dir.path()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].file.ends_with("b.toml"));
    assert_eq!(errors[0].line, Some(4));
}

#[test]
fn zero_durations_duplicate_faults_and_parts_are_rejected() {
    let zero = GOOD.replace("after = \"1h\"", "after = \"0s\"");
    assert!(error_of(&zero).reason.contains("longer than 0"), "{}", error_of(&zero));
    let same_fault = GOOD.replace("fault = \"SENSOR_DROPOUT\"", "fault = \"BEARING_WEAR\"");
    assert!(error_of(&same_fault).reason.contains("already named"));
    let twice = GOOD.replace(
        "parts = [{ part = \"BRG-6310\", qty = 2 }]",
        "parts = [{ part = \"BRG-6310\", qty = 2 }, { part = \"BRG-6310\", qty = 1 }]",
    );
    assert!(error_of(&twice).reason.contains("listed twice"));
    assert!(error_of(&GOOD.replace("asset_prefix = \"PMP\"", "asset_prefix = \"\"")).reason.contains("asset_prefix"));
}

#[test]
fn core_components_are_marked_on_their_rules_and_default_to_false() {
    let set = crate::rules::shipped();
    let core: Vec<String> =
        set.sorted_models().iter().flat_map(|m| m.rules.iter().filter(|r| r.core).map(|r| r.id.to_string())).collect();
    assert_eq!(core, ["elevator.motor_overheat", "compressor.overheat", "spindle.bearing_wear"]);
}
