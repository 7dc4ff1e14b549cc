//! What the MQTT connection reports about itself: each event logs and
//! moves the connection's counters and gauges together.

use crate::telemetry::{InternalEvent, Metrics};
use std::fmt::Display;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// The connection failed or dropped; a reconnect follows after `retry_in`.
pub struct ConnectionLost<'a> {
    pub broker: &'a str,
    pub error: &'a str,
    pub retry_in: Duration,
}

impl InternalEvent for ConnectionLost<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.mqtt_connected.store(0, Relaxed);
        m.mqtt_subscribed.store(0, Relaxed);
        m.mqtt_errors.fetch_add(1, Relaxed);
        let retry_in_ms = self.retry_in.as_millis() as u64;
        tracing::warn!(broker = %self.broker, error = %self.error, retry_in_ms, "MQTT connection error");
    }
}

/// Connected; a resumed session keeps its subscription, so messages flow at
/// once (the new SUBACK may queue behind a backlog intake holds back).
pub struct ConnectedToBroker<'a> {
    pub broker: &'a str,
    pub session: u64,
    pub session_present: bool,
    pub held: usize,
}

impl InternalEvent for ConnectedToBroker<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.mqtt_connected.store(1, Relaxed);
        if self.session_present {
            m.mqtt_subscribed.store(1, Relaxed);
        }
        let ConnectedToBroker { broker, session, session_present, held } = self;
        tracing::info!(broker = %broker, session, session_present, held, "connected to MQTT broker");
    }
}

/// The broker had no session for the engine on reconnect: what it queued
/// for the engine while it was away is gone. In production the only sign
/// that messages may have been lost at the broker.
pub struct SessionLost<'a> {
    pub broker: &'a str,
}

impl InternalEvent for SessionLost<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.mqtt_sessions_lost.fetch_add(1, Relaxed);
        tracing::warn!(broker = %self.broker, "the broker lost this engine's session: what it queued for the engine while it was away is gone (a broker restart without persistence?)");
    }
}

/// The subscription could not be queued, or the broker refused it: no
/// telemetry will arrive on this connection.
pub struct SubscriptionFailed<'a> {
    pub broker: &'a str,
    pub filter: &'a str,
    pub error: &'a dyn Display,
}

impl InternalEvent for SubscriptionFailed<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.mqtt_errors.fetch_add(1, Relaxed);
        let SubscriptionFailed { broker, filter, error } = self;
        tracing::error!(broker = %broker, filter = %filter, error = %error, "subscription failed: no telemetry will arrive");
    }
}

/// The broker granted the subscription.
pub struct Subscribed;

impl InternalEvent for Subscribed {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.mqtt_subscribed.store(1, Relaxed);
    }
}
