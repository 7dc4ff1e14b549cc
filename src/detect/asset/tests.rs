use super::*;
use crate::model::Span;
use crate::rules::parse_file;
use std::path::Path;

use crate::detect::fixtures::RULES;

const MIN: i64 = 60_000;

fn params() -> WindowParams {
    WindowParams {
        window_ms: 30 * MIN,
        bucket_ms: 10 * MIN,
        history_ms: 24 * 60 * MIN,
        lateness_ms: 5 * MIN,
        baseline_alpha: 0.05,
        warmup_buckets: 6,
        ..WindowParams::from_config(&crate::detect::DetectConfig::default())
    }
}

fn detector() -> AssetDetector {
    AssetDetector::new(Arc::new(parse_file(Path::new("t.toml"), RULES).unwrap()))
}

fn reading(minute: i64, metric: &str, value: f64) -> Reading {
    Reading { ts: minute * MIN, metric: MetricName::new(metric), value }
}

/// Feeds one batch per 10 minutes of `signal(minute) -> readings` and returns findings.
fn run(d: &mut AssetDetector, minutes: std::ops::Range<i64>, signal: impl Fn(i64) -> Vec<Reading>) -> Vec<Finding> {
    let asset = AssetId::new("P-1");
    let mut out = Vec::new();
    let mut batch = Vec::new();
    for m in minutes {
        batch.extend(signal(m));
        if m % 10 == 9 {
            d.process(&asset, &batch, &params(), Span::from_hours(1), &mut out);
            batch.clear();
        }
    }
    out
}

fn healthy(m: i64) -> Vec<Reading> {
    vec![
        reading(m, "temp", 60.0 + (m % 7) as f64 * 0.1),
        reading(m, "flow", 100.0),
        reading(m, "vib", 2.0 + (m % 3) as f64 * 0.05),
    ]
}

#[test]
fn a_healthy_asset_produces_no_findings() {
    assert!(run(&mut detector(), 0..48 * 60, healthy).is_empty());
}

#[test]
fn a_sustained_overheat_opens_once_then_adds_evidence() {
    let hot = |m: i64| {
        let mut r = healthy(m);
        r[0].value = if m >= 120 { 85.0 + (m % 5) as f64 * 0.1 } else { 60.0 };
        r
    };
    let findings = run(&mut detector(), 0..6 * 60, hot);
    let opened: Vec<_> = findings.iter().filter(|f| f.opened).collect();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].rule.as_str(), "hot");
    assert!(opened[0].evidence.at >= 135 * MIN, "held 5m and for 10m before opening");
    assert!(findings.iter().any(|f| !f.opened), "evidence keeps coming while it persists");
    let temp = &opened[0].evidence.windows[0];
    assert!(temp.samples.iter().any(|&(_, v)| v >= 85.0), "evidence carries the window values");
}

#[test]
fn isolated_spikes_do_not_open_a_ticket() {
    let spiky = |m: i64| {
        let mut r = healthy(m);
        if m % 97 == 0 {
            r[0].value = 300.0;
            r[2].value = 10.0;
        }
        r
    };
    assert!(run(&mut detector(), 0..24 * 60, spiky).is_empty());
}

#[test]
fn a_silent_metric_raises_a_sensor_check_not_a_repair() {
    let silent = |m: i64| healthy(m).into_iter().filter(|r| m < 300 || r.metric.as_str() != "flow").collect();
    let findings = run(&mut detector(), 0..8 * 60, silent);
    let opened: Vec<_> = findings.iter().filter(|f| f.opened).collect();
    assert_eq!(opened.len(), 1, "{findings:?}");
    assert_eq!(opened[0].kind, TicketKind::SensorCheck);
    assert!(opened[0].evidence.at >= 359 * MIN, "an hour after the last flow reading at minute 299");
    assert!(findings.iter().all(|f| f.rule.as_str() == "dropout"));
}

#[test]
fn a_rising_trend_is_forecast_before_it_reaches_the_limit() {
    let ramp = |m: i64| {
        let mut r = healthy(m);
        if m > 600 {
            r[2].value += (m - 600) as f64 * 0.004; // +0.24 per hour: 2 -> 10 in ~33 h
        }
        r
    };
    let findings = run(&mut detector(), 0..40 * 60, ramp);
    let first = findings.iter().find(|f| f.rule.as_str() == "trend").expect("forecast fires");
    let value_then = 2.0 + (first.evidence.at / MIN - 600) as f64 * 0.004;
    assert!(value_then < 10.0, "fired at {value_then}, before the limit");
}

#[test]
fn redelivering_a_batch_changes_nothing() {
    let mut d = detector();
    let asset = AssetId::new("P-1");
    let batch: Vec<_> = (0..10).flat_map(healthy).collect();
    let mut out = Vec::new();
    let first = d.process(&asset, &batch, &params(), Span::from_hours(1), &mut out);
    let again = d.process(&asset, &batch, &params(), Span::from_hours(1), &mut out);
    assert_eq!(first.accepted, 30);
    assert_eq!(again.accepted, 0);
    assert_eq!(again.duplicate + again.late, 30);
}

#[test]
fn metrics_no_rule_reads_are_counted_not_kept() {
    let mut d = detector();
    let mut out = Vec::new();
    let c = d.process(&AssetId::new("P-1"), &[reading(0, "humidity", 3.0)], &params(), Span::from_hours(1), &mut out);
    assert_eq!(c.unmonitored, 1);
}

#[test]
fn a_stuck_sensor_is_seen_even_when_held_longer_than_the_window() {
    let stuck = |m: i64| {
        let mut r = healthy(m);
        if m >= 600 {
            r[0].value = 61.234;
        }
        r
    };
    let findings = run(&mut detector(), 0..16 * 60, stuck);
    let opened: Vec<_> = findings.iter().filter(|f| f.opened).collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].rule.as_str(), "stuck");
    assert!(opened[0].evidence.at >= 720 * MIN, "2 h after it got stuck");
}

#[test]
fn scores_are_every_checks_latest_outcome_at_most_once_per_interval() {
    let mut d = detector();
    let asset = AssetId::new("P-1");
    assert!(d.take_scores(&asset, 30 * MIN).is_none(), "nothing evaluated yet");
    run(&mut d, 0..10, healthy);
    let first = d.take_scores(&asset, 30 * MIN).expect("first evaluation is due");
    assert_eq!((first.asset.as_str(), first.at), ("P-1", 9 * MIN));
    let evaluated: usize = (0..d.rules.rules.len()).map(|i| d.last_evaluation(i).0.len()).sum();
    assert!(evaluated > 0);
    assert_eq!(first.checks.len(), evaluated, "one entry per check evaluated");
    assert!(first.checks.iter().all(|(rule, _)| d.rules.rules.iter().any(|r| &r.id == rule)));
    // 20 minutes of event time later: not yet due; after 30 minutes: due.
    run(&mut d, 10..30, healthy);
    assert!(d.take_scores(&asset, 30 * MIN).is_none());
    run(&mut d, 30..40, healthy);
    assert_eq!(d.take_scores(&asset, 30 * MIN).map(|s| s.at), Some(39 * MIN));
}
