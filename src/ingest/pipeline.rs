//! Decode step: each delivery becomes an engine batch or a dead letter, and
//! is queued for its ordered acknowledgement.

use super::{Delivery, PendingAck};
use crate::db::{Failure, Retry};
use crate::decode::DeadLetterStore;
use crate::decode::DecodeConfig;
use crate::decode::{DeadLetter, DeadLetterMetrics, DeadLettered, Decoder, ReadingsTap};
use crate::detect::{AssetBatch, EngineHandle};
use crate::fleet::Fleet;
use crate::telemetry::{InternalEvent, Metrics};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{Receiver, Sender};

pub struct PipelineContext {
    pub fleet: Arc<Fleet>,
    pub limits: DecodeConfig,
    pub dead_letters: DeadLetterStore,
    pub metrics: Arc<Metrics>,
    /// Decode's own section: dead letters by reason.
    pub dead_letter_metrics: Arc<DeadLetterMetrics>,
    pub retry: Retry,
    /// Every output's readings tap (none when no output is configured).
    pub outputs: Box<dyn ReadingsTap>,
}

/// A rollup bucket nobody added to for this long (wall clock) is written.
const IDLE_FLUSH: Duration = Duration::from_secs(10);

/// Runs until the deliveries channel closes; then closes the engine's input.
pub async fn run(
    mut ctx: PipelineContext,
    mut deliveries: Receiver<Delivery>,
    engine: EngineHandle,
    pending: Sender<PendingAck<Delivery>>,
) {
    let mut seq = 0u64;
    let mut decoder = Decoder::new(ctx.limits.clone());
    ctx.metrics.ingest_running.store(1, Ordering::Relaxed);
    let mut idle = tokio::time::interval(IDLE_FLUSH);
    loop {
        let d = tokio::select! {
            d = deliveries.recv() => match d {
                Some(d) => d,
                None => break,
            },
            _ = idle.tick() => {
                ctx.outputs.idle(IDLE_FLUSH);
                continue;
            }
        };
        seq += 1;
        ctx.metrics.messages_received.fetch_add(1, Ordering::Relaxed);
        let now = chrono::Utc::now();
        match decoder.decode(&d.publish.topic, &d.publish.payload, ctx.fleet.as_ref(), now.timestamp_millis()) {
            Ok(decoded) => {
                ctx.outputs.observe(&decoded.asset, &decoded.model, &decoded.readings);
                if pending.send(PendingAck { seq, needs_engine: true, message: d }).await.is_err() {
                    break;
                }
                let batch = AssetBatch {
                    seq,
                    asset: decoded.asset,
                    model: decoded.model,
                    readings: decoded.readings,
                    received_us: now.timestamp_micros(),
                };
                if engine.send(batch).await.is_err() {
                    tracing::error!("detection engine stopped; ingest ends");
                    break;
                }
            }
            Err(e) => {
                DeadLettered { topic: &d.publish.topic, error: &e }.emit(&ctx.dead_letter_metrics);
                let letter = DeadLetter::new(
                    &d.publish.topic,
                    e.reason(),
                    &e.to_string(),
                    &d.publish.payload,
                    now.timestamp_millis(),
                );
                // Acked only once stored: during an outage the broker keeps the message.
                match ctx
                    .retry
                    .committed("storing a dead letter", || ctx.dead_letters.insert_dead_letter(&letter))
                    .await
                {
                    Ok(()) => {}
                    Err(Failure::Data(_)) => {
                        tracing::error!(payload_hex = %letter.payload_hex(), "dead letter not stored; its payload is logged here");
                    }
                    Err(Failure::Abandoned) => break,
                }
                if pending.send(PendingAck { seq, needs_engine: false, message: d }).await.is_err() {
                    break;
                }
            }
        }
    }
    ctx.metrics.ingest_running.store(0, Ordering::Relaxed);
    ctx.outputs.flush();
    tokio::task::spawn_blocking(move || engine.shutdown()).await.ok();
}
