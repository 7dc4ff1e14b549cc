//! Replays the fuzzers' kept corpora (`fuzz/corpus/<target>/`, and any
//! crash inputs kept in `fuzz/regressions/<target>/`) through the same
//! harness the fuzz targets run (`fuzz/src/lib.rs`), so `cargo test` checks
//! every input the fuzzers found interesting, without a nightly toolchain.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .filter_map(|kind| std::fs::read_dir(root.join(kind).join(target)).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "the corpus of {target} is kept in the repository");
    files
}

fn replay(target: &str, run: impl Fn(&[u8])) {
    for file in inputs(target) {
        let data = std::fs::read(&file).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
        assert!(outcome.is_ok(), "{} panicked", file.display());
    }
}

fn fleet() -> upkeep::fleet::Fleet {
    harness::fleet(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
}

#[test]
fn decode_corpus() {
    let fleet = fleet();
    replay("decode", |d| harness::decode(&fleet, d));
}

#[test]
fn topic_corpus() {
    let fleet = fleet();
    replay("topic", |d| harness::topic(&fleet, d));
}

#[test]
fn rules_corpus() {
    replay("rules", harness::rules);
}

#[test]
fn config_corpus() {
    replay("config", harness::config);
}

#[test]
fn line_protocol_corpus() {
    replay("line_protocol", harness::line_protocol);
}
