use super::*;
use std::sync::Mutex;

/// An output that records what reached it, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn seen(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn push(&self, what: String) {
        self.0.lock().unwrap().push(what);
    }
}

impl ReadingsTap for Recorder {
    fn observe(&mut self, asset: &AssetId, _: &ModelId, readings: &[Reading]) {
        self.push(format!("{asset}: {}", readings.len()));
    }

    fn idle(&mut self, _: Duration) {
        self.push("idle".into());
    }

    fn flush(&mut self) {
        self.push("flush".into());
    }
}

/// An output named `name` with every tap, its scores and KPI passes every
/// `every`, and one task that records when it stops.
fn output(name: &'static str, every: Span, log: &Recorder) -> Started {
    let tap = log.clone();
    let scores: ScoresTap = Arc::new(move |s: &AssetScores| tap.push(format!("scores {}", s.asset)));
    let tap = log.clone();
    let kpi: KpiTap = Arc::new(move |p: &KpiPass| tap.push(format!("kpi pass of {} tickets", p.histories.len())));
    let (trigger, mut stop) = crate::shutdown::channel();
    let stopped = log.clone();
    let task = tokio::spawn(async move {
        stop.wait().await;
        stopped.push(format!("{name} stopped"));
    });
    Started {
        metrics: Arc::new(OutputMetrics::new(name)),
        readings: Some(Box::new(log.clone())),
        scores: Some((every, scores)),
        kpi: Some(KpiRequest { every, lookback: Span::from_hours(24), tap: kpi }),
        tasks: vec![(trigger, task)],
    }
}

/// An empty store and a small fleet for the KPI pass to read.
async fn context() -> (Arc<Fleet>, crate::db::Db, tempfile::TempDir) {
    let rules = crate::rules::shipped();
    let fleet =
        Arc::new(Fleet::new(crate::fleet::generate(&rules, crate::fleet::FleetSpec { assets: 2, seed: 1 })).unwrap());
    let (db, dir) = crate::db::temp_sqlite().await;
    (fleet, db, dir)
}

#[tokio::test]
async fn every_output_gets_every_event_and_stops_in_registration_order() {
    let (a, b) = (Recorder::default(), Recorder::default());
    let (fleet, db, _dir) = context().await;
    let (tickets, stock, metrics) = (db.ticket_reader(), db.stock(), Arc::new(Metrics::default()));
    let rules = Arc::new(crate::rules::shipped());
    let ctx =
        OutputContext { db: &db, fleet: &fleet, rules: &rules, tickets: &tickets, stock: &stock, metrics: &metrics };
    let started = vec![output("a", Span::from_mins(5), &a), output("b", Span::from_mins(1), &b)];
    let mut outputs = Outputs::assemble(started, &ctx);
    let mut readings = outputs.readings();
    let scores = outputs.scores().expect("both want scores");
    assert_eq!(scores.every, Span::from_mins(1), "the most frequent interval any output asked for");

    let reading = Reading { ts: 0, metric: crate::model::MetricName::new("flow"), value: 1.0 };
    readings.observe(&AssetId::new("PMP-1"), &ModelId::new("pump"), &[reading.clone(), reading]);
    readings.idle(Duration::from_secs(10));
    let s = AssetScores { asset: AssetId::new("PMP-1"), model: ModelId::new("pump"), at: 0, checks: vec![] };
    (scores.send)(s);
    readings.flush();
    outputs.stop().await;

    // A pass may run at start (the timer's first tick races the stop); the
    // last runs at stop, before any output stops.
    for (name, log) in [("a", &a), ("b", &b)] {
        let mut seen = log.seen();
        assert_eq!(seen.pop(), Some(format!("{name} stopped")));
        assert_eq!(seen.pop().as_deref(), Some("kpi pass of 0 tickets"), "the last pass, handed to {name}");
        seen.retain(|s| !s.starts_with("kpi pass"));
        assert_eq!(seen, ["PMP-1: 2", "idle", "scores PMP-1", "flush"]);
    }
}

#[test]
fn without_outputs_nothing_is_tapped() {
    let mut outputs = Outputs { started: vec![], kpi_pass: None };
    assert!(outputs.scores().is_none());
    assert!(outputs.readings().0.is_empty());
}

#[tokio::test]
async fn outputs_left_unconfigured_start_nothing() {
    let (fleet, db, _dir) = context().await;
    let metrics = Arc::new(Metrics::default());
    let (tickets, stock) = (db.ticket_reader(), db.stock());
    let rules = Arc::new(crate::rules::shipped());
    let ctx =
        OutputContext { db: &db, fleet: &fleet, rules: &rules, tickets: &tickets, stock: &stock, metrics: &metrics };
    let notify = crate::outputs::notify::config::NotifyConfig { enabled: false, ..Default::default() };
    let config = OutputsConfig { influx: &Default::default(), notify: &notify, mqtt: &Default::default() };
    let outputs = Outputs::start(&config, &ctx).unwrap();
    assert!(outputs.started.is_empty() && outputs.kpi_pass.is_none());
}

/// Detection takes scores at the most frequent interval any output asked
/// for; an output that asked for fewer gets one per asset per its own.
#[tokio::test]
async fn each_output_gets_scores_at_its_own_interval() {
    let (fast, slow) = (Recorder::default(), Recorder::default());
    let mut outputs = Outputs {
        started: vec![output("fast", Span::from_mins(1), &fast), output("slow", Span::from_mins(5), &slow)],
        kpi_pass: None,
    };
    let scores = outputs.scores().expect("both want scores");
    for minute in 0..10 {
        for asset in ["PMP-1", "PMP-2"] {
            let at = minute * 60_000;
            (scores.send)(AssetScores { asset: AssetId::new(asset), model: ModelId::new("pump"), at, checks: vec![] });
        }
    }
    let count = |log: &Recorder| log.seen().iter().filter(|s| s.starts_with("scores")).count();
    assert_eq!((count(&fast), count(&slow)), (20, 4), "slow: minutes 0 and 5 of each asset");
    outputs.stop().await;
}
