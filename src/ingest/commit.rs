//! Acknowledging what is committed: messages are acknowledged to the broker
//! in arrival order, each once the detection engine is done with it and the
//! findings it produced are committed downstream (the ticket service, as a
//! `Committer`). A message after a finding that could not be committed is
//! never acknowledged: the broker redelivers it after a restart.

use super::acks::{AckQueue, PendingAck};
use super::mqtt::{Delivery, MqttAcker};
use crate::detect::{Committer, EngineEvent, EngineEvents};
use tokio::sync::mpsc::Receiver;

/// Runs until both the engine and the pipeline are finished.
pub async fn acknowledge_committed(
    committer: impl Committer,
    mut events: EngineEvents,
    mut deliveries: Receiver<PendingAck<Delivery>>,
    acker: MqttAcker,
) {
    let mut queue = AckQueue::default();
    let (mut events_open, mut deliveries_open) = (true, true);
    while events_open || deliveries_open {
        tokio::select! {
            ev = events.recv(), if events_open => match ev {
                Some(EngineEvent::Findings(found)) => {
                    for (finding, received_us) in found {
                        if committer.commit(&finding, received_us).await.is_err() {
                            tracing::warn!("shutting down with uncommitted findings; their messages stay unacknowledged");
                            return;
                        }
                    }
                }
                Some(EngineEvent::Done(seq)) => {
                    queue.engine_done(seq);
                    events.commits.done_committed();
                }
                None => events_open = false,
            },
            d = deliveries.recv(), if deliveries_open => match d {
                Some(p) => queue.push(p),
                None => deliveries_open = false,
            },
        }
        while let Some(d) = queue.pop_ready() {
            acker.ack(d).await;
        }
    }
}
