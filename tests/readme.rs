//! The README's blocks are what a newcomer types first, so each one either
//! runs here or says why not. A marker on the line before each block decides:
//! `<!-- readme: run -->` runs it in a scratch directory with `upkeep` on
//! the PATH, `with-demo` runs it against a demo started as the README says,
//! `payload` decodes each line as telemetry, `rule` loads it as a rule file,
//! `skip, REASON` names why it cannot run here. A block without a marker
//! fails the first test, so a new block needs a decision.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use upkeep::config::DecodeConfig;
use upkeep::decode::{AssetLookup, Decoder};
use upkeep::model::ModelId;

#[derive(Debug, PartialEq)]
enum Mark {
    Run,
    WithDemo,
    Payload,
    Rule,
    Skip(String),
}

#[derive(Debug)]
struct Block {
    line: usize,
    mark: Option<Mark>,
    body: String,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

fn mark(line: &str) -> Option<Mark> {
    let spec = line.trim().strip_prefix("<!-- readme:")?.strip_suffix("-->")?.trim();
    Some(match spec {
        "run" => Mark::Run,
        "with-demo" => Mark::WithDemo,
        "payload" => Mark::Payload,
        "rule" => Mark::Rule,
        _ => Mark::Skip(spec.strip_prefix("skip,")?.trim().to_owned()),
    })
}

/// Every fenced block with the marker on the line before it.
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with("```") {
            let end = (i + 1..lines.len()).find(|&j| lines[j].starts_with("```")).expect("closed block");
            let mark = i.checked_sub(1).and_then(|p| mark(lines[p]));
            out.push(Block { line: i + 1, mark, body: lines[i + 1..end].join("\n") });
            i = end;
        }
        i += 1;
    }
    out
}

fn marked(mark: &Mark) -> Vec<Block> {
    let found: Vec<Block> = blocks(&readme()).into_iter().filter(|b| b.mark.as_ref() == Some(mark)).collect();
    assert!(!found.is_empty(), "the README has no block marked {mark:?}");
    found
}

#[test]
fn every_readme_block_runs_here_or_names_why_not() {
    let all = blocks(&readme());
    let unmarked: Vec<usize> = all.iter().filter(|b| b.mark.is_none()).map(|b| b.line).collect();
    assert!(unmarked.is_empty(), "README blocks at lines {unmarked:?} have no `<!-- readme: ... -->` marker");
    for b in all.iter().filter(|b| matches!(b.mark, Some(Mark::Skip(_)))) {
        eprintln!("README line {}: not run here: {:?}", b.line, b.mark);
    }
    assert!(all.iter().filter(|b| !matches!(b.mark, Some(Mark::Skip(_)))).count() >= 4);
}

/// A scratch directory holding the shipped rules and a PATH whose first
/// entry holds the `upkeep` under test.
fn scratch() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), dir.path().join("rules")).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_upkeep"), bin.join("upkeep")).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    (dir, path)
}

/// Runs a block under `sh -eu`, every `curl` failing on an HTTP error.
fn sh(body: &str, dir: &Path, path: &str) -> String {
    let script = format!("curl() {{ command curl --fail-with-body \"$@\"; }}\n{body}\n");
    let out = Command::new("sh").args(["-eu", "-c", &script]).current_dir(dir).env("PATH", path).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "README block failed:\n{body}\n---\n{text}");
    text
}

#[test]
fn the_readme_production_steps_run_and_leave_a_config_and_a_fleet_that_check() {
    let (dir, path) = scratch();
    for b in marked(&Mark::Run) {
        let out = sh(&b.body, dir.path(), &path);
        assert!(out.contains("ok:"), "{out}");
    }
    let config = upkeep::config::Config::load(Some(&dir.path().join("upkeep.toml"))).unwrap();
    assert_eq!(config.api.listen.to_string(), "127.0.0.1:8080");
    let fleet = upkeep::fleet::Fleet::load(&dir.path().join("fleet.json")).unwrap();
    assert_eq!(fleet.assets().len(), 500);
}

struct Pumps;

impl AssetLookup for Pumps {
    fn model_of(&self, asset: &str) -> Option<ModelId> {
        asset.starts_with("PMP-").then(|| ModelId::new("centrifugal_pump"))
    }
}

#[test]
fn the_readme_payload_examples_decode() {
    let now = 1_767_225_600_000;
    let mut decoder = Decoder::new(DecodeConfig::default());
    let mut readings = 0;
    for b in marked(&Mark::Payload) {
        for message in b.body.split("\n{").map(|m| if m.starts_with('{') { m.to_owned() } else { format!("{{{m}") }) {
            let decoded = decoder.decode("plant/PMP-0001/telemetry", message.as_bytes(), &Pumps, now);
            readings += decoded.unwrap_or_else(|e| panic!("{message}: {e}")).readings.len();
        }
    }
    assert_eq!(readings, 3);
}

#[test]
fn the_readme_rule_example_loads() {
    for b in marked(&Mark::Rule) {
        let model = upkeep::rules::parse_file(Path::new("README.md"), &b.body).unwrap();
        assert_eq!(model.rules.len(), 1, "{model:?}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The demo as the README starts it (smaller, on free ports), killed on drop.
struct Demo {
    child: Child,
    api: u16,
    data_dir: PathBuf,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// `path` as the demo's dispatcher, once the demo has written its tokens.
    fn get(&self, path: &str) -> Option<serde_json::Value> {
        let env = std::fs::read_to_string(self.data_dir.join("tokens.env")).ok()?;
        let token = env.lines().find_map(|l| l.strip_prefix("export UPKEEP_DISPATCHER_TOKEN="))?;
        let token = token.split_whitespace().next()?;
        let url = format!("http://127.0.0.1:{}{path}", self.api);
        let auth = format!("Authorization: Bearer {token}");
        let out = Command::new("curl").args(["-sf", "-H", &auth, &url]).output().unwrap();
        serde_json::from_slice(&out.stdout).ok()
    }
}

fn start_demo(data_dir: PathBuf, api: u16) -> Demo {
    let child = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .args(["demo", "--assets", "40", "--days", "5", "--duration", "10m", "--data-dir"])
        .arg(&data_dir)
        .env("UPKEEP__API__LISTEN", format!("127.0.0.1:{api}"))
        .env("UPKEEP__BROKER__PORT", free_port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Demo { child, api, data_dir }
}

fn has_ticket(demo: &Demo, state: &str) -> bool {
    demo.get(&format!("/api/v1/tickets?limit=1&state={state}"))
        .is_some_and(|page| page["items"].as_array().is_some_and(|items| !items.is_empty()))
}

/// Waits until the demo's API lists a ticket in `state`, as a newcomer
/// would wait for the board to fill before the curls.
fn wait_for_ticket(demo: &mut Demo, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while !has_ticket(demo, state) {
        assert!(demo.child.try_wait().unwrap().is_none(), "the demo exited before a ticket was {state}");
        assert!(Instant::now() < deadline, "no {state} ticket within 300 s");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_readme_curls_answer_against_a_running_demo() {
    let (dir, path) = scratch();
    let api = free_port();
    let mut demo = start_demo(dir.path().join("demo"), api);
    wait_for_ticket(&mut demo, "assigned");
    for b in marked(&Mark::WithDemo) {
        let body = b.body.replace("localhost:8080", &format!("127.0.0.1:{api}")).replace("upkeep-demo/", "demo/");
        let out = sh(&body, dir.path(), &path);
        assert!(out.contains("\"evidence\""), "the ticket detail has its evidence: {out}");
        assert!(out.contains("upkeep_"), "the metrics answered: {out}");
    }
    // Once the simulated field team has worked a ticket, its steps and the
    // engine's events must read forwards. Which tickets the replay's window
    // holds depends on the hour it ends at: a fresh one is accepted at its
    // plan's real minutes, an older one worked to its end at once.
    let worked = ["accepted", "en_route", "on_site", "resolved", "closed", "cancelled"];
    let deadline = Instant::now() + Duration::from_secs(120);
    while !worked.iter().any(|s| has_ticket(&demo, s)) {
        assert!(Instant::now() < deadline, "the field team worked no ticket within 120 s");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_histories_in_time_order(&demo);
}

/// Every ticket's history reads forwards: the engine's events and the
/// simulated field team's are on one clock.
fn assert_histories_in_time_order(demo: &Demo) {
    let get = |path: &str| demo.get(path).unwrap_or_else(|| panic!("{path} answered"));
    let page = get("/api/v1/tickets?limit=100");
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(!ids.is_empty());
    for id in ids {
        let detail = get(&format!("/api/v1/tickets/{id}"));
        let at: Vec<i64> = detail["events"].as_array().unwrap().iter().map(|e| e["at"].as_i64().unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] <= w[1]), "{id}: events out of time order: {:?}", detail["events"]);
    }
}
