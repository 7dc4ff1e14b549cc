//! Telemetry for InfluxDB: raw samples thinned to one per `raw_every` and
//! mean/min/max per `rollup` bucket, per asset and metric (event time), so
//! a large fleet does not overload the store. Owned by the decode step.

use super::points;
use crate::fleet::Fleet;
use crate::model::{AssetId, EpochMs, MetricName, ModelId, Reading, SiteId};
use crate::outputs::influx::queue::InfluxSink;
use crate::outputs::ReadingsTap;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A rollup bucket being filled.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub start: EpochMs,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub count: u64,
}

impl Bucket {
    fn new(start: EpochMs, v: f64) -> Self {
        Bucket { start, sum: v, min: v, max: v, count: 1 }
    }

    fn add(&mut self, v: f64) {
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.count += 1;
    }
}

struct Series {
    last_raw: Option<EpochMs>,
    bucket: Option<Bucket>,
    /// Buckets before this were written; later readings for them are late.
    written_until: EpochMs,
    touched: Instant,
}

/// The tags every telemetry point of an asset carries.
struct AssetSeries {
    model: ModelId,
    site: SiteId,
    metrics: HashMap<MetricName, Series>,
}

pub struct TelemetryFeed {
    sink: InfluxSink,
    fleet: Arc<Fleet>,
    raw_every: i64,
    rollup: i64,
    assets: HashMap<AssetId, AssetSeries>,
}

impl TelemetryFeed {
    pub fn new(sink: InfluxSink, fleet: Arc<Fleet>, raw_every: i64, rollup: i64) -> Self {
        TelemetryFeed { sink, fleet, raw_every, rollup: rollup.max(1), assets: HashMap::new() }
    }

    /// Takes one message's readings: raw samples that are due go out now; a
    /// bucket goes out when a reading of a later bucket arrives (or idle).
    fn take(&mut self, asset: &AssetId, model: &ModelId, readings: &[Reading]) {
        let fleet = &self.fleet;
        let series = self.assets.entry(asset.clone()).or_insert_with(|| AssetSeries {
            model: model.clone(),
            site: fleet.site_of(asset.as_str()),
            metrics: HashMap::new(),
        });
        let now = Instant::now();
        for r in readings.iter().filter(|r| r.value.is_finite()) {
            let s = match series.metrics.get_mut(&r.metric) {
                Some(s) => s,
                None => series.metrics.entry(r.metric.clone()).or_insert(Series {
                    last_raw: None,
                    bucket: None,
                    written_until: EpochMs::MIN,
                    touched: now,
                }),
            };
            s.touched = now;
            let tags = points::SeriesTags { asset, model: &series.model, site: &series.site, metric: &r.metric };
            if s.last_raw.is_none_or(|t| r.ts >= t + self.raw_every) {
                s.last_raw = Some(r.ts);
                self.sink.send(points::raw(&tags, r.ts, r.value));
            }
            let start = r.ts.div_euclid(self.rollup) * self.rollup;
            match &mut s.bucket {
                // Its bucket was written already; rewriting it would lose the rest.
                _ if start < s.written_until => late(&self.sink),
                Some(b) if b.start == start => b.add(r.value),
                Some(b) if b.start > start => late(&self.sink),
                slot => {
                    if let Some(done) = slot.replace(Bucket::new(start, r.value)) {
                        s.written_until = done.start + self.rollup;
                        self.sink.send(points::rollup(&tags, &done));
                    }
                }
            }
        }
    }

    fn flush_due(&mut self, due: impl Fn(&Series) -> bool) {
        for (asset, a) in &mut self.assets {
            for (metric, s) in a.metrics.iter_mut().filter(|(_, s)| due(s)) {
                if let Some(b) = s.bucket.take() {
                    s.written_until = b.start + self.rollup;
                    let tags = points::SeriesTags { asset, model: &a.model, site: &a.site, metric };
                    self.sink.send(points::rollup(&tags, &b));
                }
            }
        }
    }
}

impl ReadingsTap for TelemetryFeed {
    fn observe(&mut self, asset: &AssetId, model: &ModelId, readings: &[Reading]) {
        self.take(asset, model, readings);
    }

    /// Writes the buckets no reading has touched for `idle` (wall clock):
    /// an asset that went quiet still shows its last minute.
    fn idle(&mut self, idle: Duration) {
        self.flush_due(|s| s.touched.elapsed() >= idle);
    }

    /// Writes every open bucket (at shutdown).
    fn flush(&mut self) {
        self.flush_due(|_| true);
    }
}

fn late(sink: &InfluxSink) {
    sink.metrics().rollup_late.fetch_add(1, Relaxed);
}
