//! What committing a finding costs through the ticket service, on a SQLite
//! file (WAL, synced commits): an opening (the ticket, its assessment, the
//! pre-assignment with its parts, and a quote out of warranty, committed
//! in one transaction) and the frequent case, evidence appended to the
//! ticket already open.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upkeep::db::Db;
use upkeep::detect::{Committer, Evidence, Finding};
use upkeep::dispatch::Dispatcher;
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::rules::{Rule, RuleSet};
use upkeep::shutdown::Trigger;
use upkeep::telemetry::Metrics;
use upkeep::tickets::redispatch::Redispatch;
use upkeep::tickets::ServiceContext;

const ASSETS: usize = 2000;

/// A ticket service on a fresh SQLite file in `dir`, and the trigger that
/// would abandon its retries (kept, never fired).
async fn service(dir: &Path, rules: &Arc<RuleSet>, fleet: &Arc<Fleet>) -> (ServiceContext, Trigger) {
    let url = format!("sqlite://{}", dir.join("findings.db").display()).parse().expect("a database URL");
    let db = Db::connect(&url, 8).await.expect("SQLite opens");
    let tickets = db.tickets();
    db.stock().seed_stock(fleet.depots()).await.expect("stock seeded");
    let dispatcher = Arc::new(Dispatcher::new(Arc::clone(fleet), Default::default()));
    let sla = upkeep::sla::Sla::new(&Default::default(), &fleet.file().contracts).expect("default tiers");
    let redispatch = Arc::new(Redispatch::new(
        tickets.clone(),
        Arc::clone(fleet),
        Arc::clone(rules),
        Arc::clone(&dispatcher),
        sla.clone(),
    ));
    let metrics = Arc::new(Metrics::default());
    let (abandon, stop) = upkeep::shutdown::channel();
    let svc = ServiceContext {
        tickets,
        stock: db.stock(),
        dead_findings: db.dead_findings(),
        fleet: Arc::clone(fleet),
        dispatcher,
        rules: Arc::clone(rules),
        sla,
        redispatch,
        repairs: Default::default(),
        quote: Default::default(),
        metrics: Arc::clone(&metrics),
        retry: upkeep::db::Retry::new(metrics, stop, Duration::from_secs(10)),
        clock: Default::default(),
    };
    (svc, abandon)
}

/// Asset `i`'s finding of its model's `k`-th repair rule, at `at`.
fn finding(fleet: &Fleet, rules: &RuleSet, i: usize, k: usize, at: i64) -> Finding {
    let asset = &fleet.assets()[i % fleet.assets().len()];
    let model = rules.for_model(&asset.model).expect("a model with rules");
    let repairs: Vec<&Rule> = model.rules.iter().collect();
    let rule = repairs[k % repairs.len()];
    Finding {
        asset: asset.id.clone(),
        model: asset.model.clone(),
        rule: rule.id.clone(),
        fault: rule.fault.clone(),
        kind: rule.kind,
        severity: rule.severity,
        opened: true,
        evidence: Evidence { at, checks: Vec::new(), windows: Vec::new() },
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let rules = Arc::new(upkeep::rules::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap());
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: ASSETS, seed: 7 })).unwrap());
    let now = chrono::Utc::now().timestamp_millis();
    let mut group = c.benchmark_group("finding");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("opening", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let (svc, _abandon) = service(dir.path(), &rules, &fleet).await;
                let started = Instant::now();
                for i in 0..iters as usize {
                    let f = finding(&fleet, &rules, i, i / ASSETS, now);
                    svc.commit(&f, now * 1000).await.expect("committed");
                }
                started.elapsed()
            })
        })
    });
    group.bench_function("evidence_appended", |b| {
        let dir = tempfile::tempdir().unwrap();
        let (svc, _abandon) = rt.block_on(service(dir.path(), &rules, &fleet));
        let open = finding(&fleet, &rules, 0, 0, now);
        rt.block_on(svc.commit(&open, now * 1000)).expect("opened");
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for i in 0..iters as i64 {
                    let f = Finding { opened: false, ..finding(&fleet, &rules, 0, 0, now + i) };
                    svc.commit(&f, now * 1000).await.expect("committed");
                }
                started.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
