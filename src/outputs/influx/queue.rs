//! The InfluxDB sink's queue: producers hand points over without ever
//! waiting (a bounded channel; what does not fit is counted and logged),
//! one task encodes them into batches by size and time and writes each
//! batch, backing off while InfluxDB is unreachable or failing. Ingestion
//! never slows down for the sink; an outage costs at most the queue.

use super::line_protocol::{Point, Precision};
use super::writer::InfluxWriter;
use crate::outputs::internal_events::{PointDropped, PointInvalid, WriteRejected, WriteRetried};
use crate::outputs::OutputMetrics;
use crate::shutdown::Shutdown;
use crate::telemetry::InternalEvent;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, error::TrySendError};

/// How the sink batches and retries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SinkSettings {
    /// Points per write request at most.
    pub batch_points: usize,
    /// A partial batch is written after this long.
    pub flush_every: Duration,
    /// Points waiting in the queue at most; more are dropped and counted.
    pub queue_points: usize,
    pub precision: Precision,
    /// Longest wait between retries of a failing write.
    pub max_backoff: Duration,
}

/// The producers' end: cheap to clone, never waits.
#[derive(Debug, Clone)]
pub struct InfluxSink {
    tx: mpsc::Sender<Point>,
    metrics: Arc<OutputMetrics>,
}

impl InfluxSink {
    /// Starts the writing task; it drains the queue and returns after `stop`.
    pub fn start(
        writer: InfluxWriter,
        settings: SinkSettings,
        metrics: Arc<OutputMetrics>,
        stop: Shutdown,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (sink, rx) = Self::detached(settings.queue_points, metrics);
        let task = tokio::spawn(run(writer, settings, Arc::clone(&sink.metrics), rx, stop));
        (sink, task)
    }

    /// A sink whose queue the caller drains: what producers feed, without a
    /// server (tests, benchmarks).
    pub fn detached(queue_points: usize, metrics: Arc<OutputMetrics>) -> (Self, mpsc::Receiver<Point>) {
        let (tx, rx) = mpsc::channel(queue_points.max(1));
        (InfluxSink { tx, metrics }, rx)
    }

    pub fn metrics(&self) -> &OutputMetrics {
        &self.metrics
    }

    /// Queues a point; a full queue drops it (counted, logged every 10,000th).
    pub fn send(&self, point: Point) {
        if let Err(TrySendError::Full(_) | TrySendError::Closed(_)) = self.tx.try_send(point) {
            PointDropped.emit(&self.metrics);
        }
    }
}

/// Points encoded for one write, and when the oldest was queued.
struct Batch {
    lines: String,
    points: u64,
    since: Option<Instant>,
}

/// Bytes per encoded point to reserve up front (most lines are shorter).
const LINE_BYTES: usize = 160;

impl Batch {
    fn new(points: usize) -> Self {
        Batch { lines: lines_buffer(points), points: 0, since: None }
    }
}

/// Room for a batch of `points` encoded lines.
fn lines_buffer(points: usize) -> String {
    String::with_capacity(points.min(100_000) * LINE_BYTES)
}

async fn run(
    writer: InfluxWriter,
    s: SinkSettings,
    metrics: Arc<OutputMetrics>,
    mut rx: mpsc::Receiver<Point>,
    mut stop: Shutdown,
) {
    let mut batch = Batch::new(s.batch_points);
    let mut tick = tokio::time::interval(s.flush_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Points are taken from the queue in bulk: one wake-up per many points.
    let mut taken = Vec::with_capacity(s.batch_points.min(4096));
    loop {
        tokio::select! {
            n = rx.recv_many(&mut taken, s.batch_points.min(4096)) => {
                if n == 0 {
                    break;
                }
                for p in taken.drain(..) {
                    add(&mut batch, &p, s.precision, &metrics);
                    if batch.points as usize >= s.batch_points {
                        flush(&writer, &s, &metrics, &mut batch, Some(&mut stop)).await;
                    }
                }
            },
            _ = tick.tick() => {}
            () = stop.wait() => break,
        }
        if batch.since.is_some_and(|t| t.elapsed() >= s.flush_every) {
            flush(&writer, &s, &metrics, &mut batch, Some(&mut stop)).await;
        }
    }
    // Drain what was queued before the stop, without waiting out outages.
    rx.close();
    while let Some(p) = rx.recv().await {
        add(&mut batch, &p, s.precision, &metrics);
        if batch.points as usize >= s.batch_points {
            flush(&writer, &s, &metrics, &mut batch, None).await;
        }
    }
    flush(&writer, &s, &metrics, &mut batch, None).await;
}

fn add(batch: &mut Batch, p: &Point, precision: Precision, metrics: &OutputMetrics) {
    match p.encode(precision, &mut batch.lines) {
        Ok(()) => {
            batch.points += 1;
            batch.since.get_or_insert_with(Instant::now);
        }
        Err(e) => PointInvalid { error: &e }.emit(metrics),
    }
}

/// Writes the batch, retrying with exponential backoff while the error is
/// retriable. With a `stop`, retrying ends when it fires; without, after
/// one attempt (shutdown must not hang on an outage).
async fn flush(
    writer: &InfluxWriter,
    s: &SinkSettings,
    metrics: &OutputMetrics,
    batch: &mut Batch,
    mut stop: Option<&mut Shutdown>,
) {
    if batch.points == 0 {
        return;
    }
    let mut backoff = crate::retry::Backoff::new(Duration::from_millis(200), s.max_backoff);
    // Handed to the client as shared bytes: a retry sends them again without a copy.
    let body = bytes::Bytes::from(std::mem::replace(&mut batch.lines, lines_buffer(s.batch_points)));
    loop {
        if let Some(since) = batch.since {
            metrics.lag_ms.store(since.elapsed().as_millis() as i64, Relaxed);
        }
        match writer.write(body.clone(), s.precision).await {
            Ok(()) => {
                metrics.points_written.fetch_add(batch.points, Relaxed);
                metrics.batches_written.fetch_add(1, Relaxed);
                metrics.last_batch_points.store(batch.points, Relaxed);
                metrics.lag_ms.store(0, Relaxed);
                break;
            }
            Err(e) if e.is_retriable() && stop.is_some() => {
                WriteRetried { error: &e, points: batch.points }.emit(metrics);
                // After a stop fires here the batch gets one last attempt.
                let st = stop.take().expect("guarded by is_some");
                if backoff.wait(st).await {
                    stop = Some(st);
                }
            }
            Err(e) => {
                WriteRejected { error: &e, points: batch.points }.emit(metrics);
                break;
            }
        }
    }
    batch.points = 0;
    batch.since = None;
}
