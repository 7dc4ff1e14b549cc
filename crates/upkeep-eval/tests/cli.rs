//! The lab's own binary runs an evaluation end to end: a small dispatch day
//! against the optimum, as `upkeep eval dispatch` does.

use std::process::Command;

#[test]
fn the_lab_binary_scores_a_dispatch_day_as_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_upkeep-eval"))
        .args(["dispatch", "--seed", "3", "--engineers", "50", "--format", "json"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["tickets"].as_u64().is_some_and(|n| n > 0), "{report}");
}
