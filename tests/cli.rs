//! The command line fails early and clearly on bad files: a missing
//! `--config`, a fleet file with a duplicate id or an unknown equipment
//! model (file and line named), a fleet file that is not JSON.

use std::path::Path;
use std::process::Command;

fn upkeep(args: &[&str], dir: &Path) -> (bool, String) {
    upkeep_with(args, dir, &[])
}

fn upkeep_with(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> (bool, String) {
    upkeep_fed(args, dir, env, "")
}

/// `upkeep` with `input` on its standard input.
fn upkeep_fed(args: &[&str], dir: &Path, env: &[(&str, &str)], input: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn rules() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").display().to_string()
}

#[test]
fn a_missing_config_file_is_an_error_not_a_run_on_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = upkeep(&["run", "--config", "nope.toml"], dir.path());
    assert!(!ok);
    assert!(out.contains("config file nope.toml not found"), "{out}");
}

#[test]
fn fleet_check_names_the_file_and_line_of_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = upkeep(&["fleet", "generate", "--assets", "5", "--rules", &rules(), "--out", "f.json"], dir.path());
    assert!(ok, "{out}");
    let (ok, out) = upkeep(&["fleet", "check", "f.json", "--rules", &rules()], dir.path());
    assert!(ok && out.contains("ok: 5 assets"), "{out}");

    let mut fleet: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("f.json")).unwrap()).unwrap();
    let first = fleet["assets"][0]["id"].clone();
    let mut dup = fleet.clone();
    dup["assets"][1]["id"] = first.clone();
    std::fs::write(dir.path().join("dup.json"), serde_json::to_string_pretty(&dup).unwrap()).unwrap();
    let (ok, out) = upkeep(&["fleet", "check", "dup.json", "--rules", &rules()], dir.path());
    assert!(!ok);
    assert!(
        out.contains("dup.json, line ") && out.contains(&format!("duplicate asset id {}", first.as_str().unwrap()))
    );

    fleet["assets"][2]["model"] = "steam_turbine".into();
    std::fs::write(dir.path().join("model.json"), serde_json::to_string_pretty(&fleet).unwrap()).unwrap();
    let (ok, out) = upkeep(&["fleet", "check", "model.json", "--rules", &rules()], dir.path());
    assert!(!ok);
    assert!(out.contains("model.json, line ") && out.contains("'steam_turbine'"), "{out}");

    std::fs::write(dir.path().join("bad.json"), "{\"assets\": [1,}").unwrap();
    let (ok, out) = upkeep(&["fleet", "check", "bad.json", "--rules", &rules()], dir.path());
    assert!(!ok);
    assert_eq!(out.matches("expected struct Asset").count(), 1, "the JSON error is printed once: {out}");
}

#[test]
fn tokens_are_issued_listed_and_revoked_and_run_will_not_listen_beyond_loopback_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules();
    let (ok, out) = upkeep(&["fleet", "generate", "--assets", "5", "--rules", &rules, "--out", "f.json"], dir.path());
    assert!(ok, "{out}");
    let env =
        [("UPKEEP__DATABASE__URL", "sqlite://t.db"), ("UPKEEP__FLEET__PATH", "f.json"), ("UPKEEP__RULES__DIR", &rules)];
    let mut open = env.to_vec();
    open.extend([("UPKEEP__API__LISTEN", "0.0.0.0:0"), ("UPKEEP__MQTT__URL", "mqtt://127.0.0.1:1")]);
    let (ok, out) = upkeep_with(&["run"], dir.path(), &open);
    assert!(!ok && out.contains("api.listen is 0.0.0.0:0") && out.contains("upkeep tokens issue"), "{out}");

    let (ok, out) = upkeep_with(&["tokens", "issue", "--name", "Ann Li", "--role", "dispatcher"], dir.path(), &env);
    let token = out.lines().find(|l| l.starts_with("upk_")).unwrap_or_else(|| panic!("no token in {out}")).to_owned();
    assert!(ok && token.len() == 68, "{out}");
    let (ok, out) = upkeep_with(&["tokens", "issue", "--name", "Li", "--role", "engineer"], dir.path(), &env);
    assert!(!ok && out.contains("names exactly one engineer"), "{out}");
    let (ok, out) = upkeep_with(&["tokens", "issue", "--name", "x", "--role", "root"], dir.path(), &env);
    assert!(!ok && out.contains("unknown role 'root'"), "{out}");
    let (ok, list) = upkeep_with(&["tokens", "list"], dir.path(), &env);
    assert!(ok && list.contains("dispatcher\tAnn Li") && list.contains("live"), "{list}");
    assert!(!list.contains(&token[4..]), "a listing never shows a secret");
    let id = list.split('\t').next().unwrap().to_owned();
    assert!(upkeep_with(&["tokens", "revoke", &id], dir.path(), &env).0);
    let (ok, out) = upkeep_with(&["tokens", "revoke", &id], dir.path(), &env);
    assert!(!ok && out.contains(&format!("no live token {id}")), "{out}");

    let add = ["users", "add", "--name", "ann", "--role", "dispatcher"];
    let (ok, out) = upkeep_fed(&add, dir.path(), &env, "short\n");
    assert!(!ok && out.contains("at least 12 characters"), "{out}");
    let (ok, out) = upkeep_fed(&add, dir.path(), &env, "correct horse battery\n");
    assert!(ok, "{out}");
    let (_, list) = upkeep_with(&["users", "list"], dir.path(), &env);
    assert!(list.contains("ann\tdispatcher\t\tactive") && !list.contains("argon2"), "{list}");
    assert!(upkeep_fed(&["users", "passwd", "ann"], dir.path(), &env, "another long password\n").0);
    assert!(upkeep_with(&["users", "disable", "ann"], dir.path(), &env).0);
    let (_, list) = upkeep_with(&["users", "list"], dir.path(), &env);
    assert!(list.contains("disabled"), "{list}");
}

/// A scratch directory beside the build, so a hard link to the engine works.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// The engine binary linked into `dir`, so what lies beside it is the
/// test's choice (a link, not a copy: no file open for writing).
fn engine_in(dir: &Path) -> std::path::PathBuf {
    let exe = dir.join("upkeep");
    std::fs::hard_link(env!("CARGO_BIN_EXE_upkeep"), &exe).unwrap();
    exe
}

/// Runs `cmd`, again while the file is busy: a test thread that forks
/// while another writes an executable briefly holds it open (ETXTBSY).
fn output(cmd: &mut Command) -> std::process::Output {
    for _ in 0..50 {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            r => return r.unwrap(),
        }
    }
    panic!("{cmd:?} stayed busy for a second")
}

#[cfg(unix)]
#[test]
fn upkeep_eval_runs_the_lab_binary_beside_it_with_every_argument_and_its_exit_status() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let exe = engine_in(dir.path());
    let lab = dir.path().join("upkeep-eval");
    std::fs::write(&lab, "#!/bin/sh\necho \"lab got: $*\"\nexit 3\n").unwrap();
    std::fs::set_permissions(&lab, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = output(Command::new(exe).args(["eval", "nab", "--out", "x y", "--help"]));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "lab got: nab --out x y --help");
}

#[test]
fn upkeep_eval_without_the_lab_installed_says_how_to_build_it() {
    let dir = scratch();
    let exe = engine_in(dir.path());
    let out = output(Command::new(exe).args(["eval", "nab"]).env("PATH", dir.path()));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cargo install --path crates/upkeep-eval"), "{err}");
}
