//! Drives the broker connection: forwards publishes, writes acks, resubscribes
//! when the broker lost our session, reconnects with backoff. It never waits
//! on detection or the database. Acks are written straight to the socket
//! (rumqttc takes one queued request per poll but reads ten packets, so under
//! a flood queued acks would fall ever further behind). When the held budget
//! is full it stops reading (the broker keeps the backlog) while acks still
//! go out, and polls at least every half keep-alive so pings flow.

use super::budget::Budget;
use super::internal_events::{ConnectedToBroker, ConnectionLost, SessionLost, Subscribed, SubscriptionFailed};
use super::mqtt::{AckRequest, Delivery};
use super::session::{Connected, Receipt, SessionState};
use crate::retry::Backoff;
use crate::shutdown::Shutdown;
use crate::telemetry::{InternalEvent, Metrics};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, Outgoing, Packet, PubAck, Publish, QoS, SubscribeReasonCode,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the final acks and DISCONNECT may take at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct EventLoopTask {
    pub(super) client: AsyncClient,
    pub(super) eventloop: EventLoop,
    pub(super) acks: mpsc::Receiver<AckRequest>,
    pub(super) session: Arc<SessionState>,
    pub(super) budget: Arc<Budget>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) topic_filter: String,
    pub(super) backoff: Backoff,
    pub(super) keep_alive: Duration,
    /// The broker's URL, named in every connection warning.
    pub(super) broker: String,
}

/// What ended the wait after a lost connection.
enum AfterLoss {
    Reconnect,
    Stop,
    Done,
}

/// What woke the loop.
enum Wake {
    Polled(Result<Event, ConnectionError>),
    Ack(Option<AckRequest>),
    Stop,
    Done,
}

impl EventLoopTask {
    /// Polls until `done`. On `stop` it stops forwarding (closing `out`, so the
    /// stages behind drain) but keeps the connection, so what they drain can
    /// still be acknowledged; on `done` it disconnects cleanly.
    pub async fn run(mut self, out: mpsc::Sender<Delivery>, mut stop: Shutdown, mut done: Shutdown) {
        let mut out = Some(out);
        loop {
            if out.is_some() && self.budget.is_full() && !self.pause(&mut done).await {
                break;
            }
            let wake = tokio::select! {
                e = self.eventloop.poll() => Wake::Polled(e),
                a = self.acks.recv() => Wake::Ack(a),
                _ = stop.wait(), if out.is_some() => Wake::Stop,
                _ = done.wait() => Wake::Done,
            };
            match wake {
                Wake::Polled(Ok(event)) => self.handle(event, &mut out).await,
                Wake::Polled(Err(e)) => match self.connection_lost(&e.to_string(), &mut stop, &mut done).await {
                    AfterLoss::Reconnect => {}
                    AfterLoss::Stop => out = None,
                    AfterLoss::Done => break,
                },
                Wake::Ack(Some(first)) => self.write_acks(first).await,
                Wake::Ack(None) | Wake::Done => break,
                Wake::Stop => out = None,
            }
        }
        self.close().await;
    }

    async fn handle(&mut self, event: Event, out: &mut Option<mpsc::Sender<Delivery>>) {
        match event {
            Event::Incoming(Packet::ConnAck(ack)) => {
                self.backoff.reset();
                self.connected(ack.session_present);
            }
            Event::Incoming(Packet::SubAck(ack)) => self.subscribed(&ack.return_codes),
            // After `stop` a message is not taken: unacked, the broker redelivers it next session.
            Event::Incoming(Packet::Publish(publish)) => {
                // A packet from the broker proves it alive. While intake holds
                // back, the answer to our last ping waits behind the backlog in
                // the socket; the client would take it as a dead connection.
                self.eventloop.state.await_pingresp = false;
                if let Some(tx) = out {
                    if !self.forward(publish, tx).await {
                        *out = None;
                    }
                }
            }
            _ => {}
        }
    }

    /// False when the stages behind have gone.
    async fn forward(&mut self, publish: Publish, tx: &mpsc::Sender<Delivery>) -> bool {
        let Receipt::Take { session } = self.session.received(publish.pkid, publish.dup) else {
            self.metrics.redeliveries_skipped.fetch_add(1, Ordering::Relaxed);
            return true;
        };
        let held = self.budget.take(publish.payload.len());
        tx.send(Delivery { publish, session, held }).await.is_ok()
    }

    /// Writes `first` and every other ack already waiting, then flushes once.
    /// Acks of a session the broker lost, or with no connection, are dropped
    /// (the broker redelivers those messages).
    async fn write_acks(&mut self, first: AckRequest) {
        let mut batch = vec![first];
        while let Ok(next) = self.acks.try_recv() {
            batch.push(next);
        }
        let current = self.session.current();
        let Some(network) = self.eventloop.network.as_mut() else { return };
        let mut written = Vec::with_capacity(batch.len());
        for ack in batch.iter().filter(|a| a.session == current) {
            if network.write(Packet::PubAck(PubAck::new(ack.pkid))).await.is_err() {
                break;
            }
            written.push(ack.pkid);
        }
        if network.flush().await.is_err() {
            // The next poll finds the broken connection and reconnects; the
            // broker redelivers what these acks were for.
            self.eventloop.clean();
            return;
        }
        self.metrics.messages_acked.fetch_add(written.len() as u64, Ordering::Relaxed);
        for pkid in written {
            self.session.ack_written(pkid);
        }
    }

    /// Stops reading while the budget is full, writing acks meanwhile, for
    /// at most half a keep-alive; false when `done` fired.
    async fn pause(&mut self, done: &mut Shutdown) -> bool {
        self.metrics.intake_paused.store(1, Ordering::Relaxed);
        self.metrics.intake_pauses.fetch_add(1, Ordering::Relaxed);
        let budget = Arc::clone(&self.budget);
        let until = tokio::time::Instant::now() + self.keep_alive / 2;
        let resumed = loop {
            tokio::select! {
                () = budget.room() => break true,
                () = tokio::time::sleep_until(until) => break true,
                a = self.acks.recv() => match a {
                    Some(first) => self.write_acks(first).await,
                    None => break false,
                },
                () = done.wait() => break false,
            }
        };
        self.metrics.intake_paused.store(0, Ordering::Relaxed);
        resumed
    }

    /// Counts and logs a lost connection and waits the backoff, or until
    /// Ctrl-C (`stop`) or `done`: shutdown never waits out a reconnect delay.
    async fn connection_lost(&mut self, error: &str, stop: &mut Shutdown, done: &mut Shutdown) -> AfterLoss {
        let delay = self.backoff.next_delay();
        ConnectionLost { broker: &self.broker, error, retry_in: delay }.emit(&self.metrics);
        tokio::select! {
            () = tokio::time::sleep(delay) => AfterLoss::Reconnect,
            () = stop.wait(), if !stop.is_set() => AfterLoss::Stop,
            () = done.wait() => AfterLoss::Done,
        }
    }

    fn connected(&self, session_present: bool) {
        let Connected { session, lost } = self.session.connected(session_present);
        if lost {
            SessionLost { broker: &self.broker }.emit(&self.metrics);
        }
        let held = self.session.held();
        ConnectedToBroker { broker: &self.broker, session, session_present, held }.emit(&self.metrics);
        // Subscribing again is harmless when the session kept it, and needed
        // when the filter changed or the broker lost the session.
        if let Err(e) = self.client.try_subscribe(self.topic_filter.clone(), QoS::AtLeastOnce) {
            self.subscription_failed(&e);
        }
    }

    fn subscribed(&self, codes: &[SubscribeReasonCode]) {
        if codes.iter().any(|c| matches!(c, SubscribeReasonCode::Failure)) {
            self.subscription_failed(&"refused by the broker");
        } else {
            Subscribed.emit(&self.metrics);
        }
    }

    fn subscription_failed(&self, error: &dyn std::fmt::Display) {
        SubscriptionFailed { broker: &self.broker, filter: &self.topic_filter, error }.emit(&self.metrics);
    }

    /// Writes the acks still waiting and sends DISCONNECT, within `CLOSE_TIMEOUT`.
    async fn close(mut self) {
        self.metrics.mqtt_connected.store(0, Ordering::Relaxed);
        self.metrics.mqtt_subscribed.store(0, Ordering::Relaxed);
        let flush = async {
            if let Ok(first) = self.acks.try_recv() {
                self.write_acks(first).await;
            }
            if self.client.try_disconnect().is_err() {
                return;
            }
            while let Ok(event) = self.eventloop.poll().await {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, flush).await;
    }
}
