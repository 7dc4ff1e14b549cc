//! The MQTT side: a persistent QoS 1 session with manual acks. The event
//! loop task only polls and forwards; it never waits on detection or the
//! database, so keep-alives flow while the engine is busy.

use crate::config::MqttConfig;
use crate::shutdown::Shutdown;
use crate::telemetry::Metrics;
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, Publish, QoS, SubscribeReasonCode, TlsConfiguration,
    Transport,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("invalid broker url '{0}': expected mqtt://host:port or mqtts://host:port")]
    Url(String),
    #[error("cannot read CA file {path}: {source}")]
    CaFile { path: String, source: std::io::Error },
    #[error("no system trust roots could be loaded for TLS; set mqtt.ca_file")]
    TrustRoots,
}

/// One received message, tagged with the connection it came on: a packet id
/// is only meaningful on that connection.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub publish: Publish,
    pub generation: u64,
}

/// Acknowledges deliveries on the live connection; deliveries of an older
/// connection are skipped (the broker redelivers them on the resumed session).
#[derive(Clone)]
pub struct MqttAcker {
    client: AsyncClient,
    generation: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
}

impl MqttAcker {
    pub async fn ack(&self, d: &Delivery) {
        if d.generation != self.generation.load(Ordering::Acquire) {
            return;
        }
        match self.client.ack(&d.publish).await {
            Ok(()) => {
                self.metrics.messages_acked.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not queue an MQTT ack; the broker will redeliver")
            }
        }
    }
}

/// Builds the client; `EventLoopTask::run` must then be spawned to drive it.
pub fn connect(cfg: &MqttConfig, metrics: Arc<Metrics>) -> Result<(MqttAcker, EventLoopTask), MqttError> {
    let (tls, host, port) = parse_url(&cfg.url)?;
    let mut opts = MqttOptions::new(cfg.client_id.clone(), host, port);
    opts.set_keep_alive(cfg.keep_alive.as_std())
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_inflight(cfg.max_inflight.max(1))
        .set_max_packet_size(MAX_INCOMING_PACKET, 1 << 20);
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        opts.set_credentials(u.clone(), p.clone());
    }
    if tls {
        opts.set_transport(Transport::tls_with_config(tls_config(cfg)?));
    }
    let (client, eventloop) = AsyncClient::new(opts, 256);
    let generation = Arc::new(AtomicU64::new(0));
    let acker =
        MqttAcker { client: client.clone(), generation: Arc::clone(&generation), metrics: Arc::clone(&metrics) };
    let task = EventLoopTask {
        client,
        eventloop,
        generation,
        metrics,
        topic_filter: cfg.topic_filter.clone(),
        backoff: (cfg.reconnect_min.as_std(), cfg.reconnect_max.as_std()),
    };
    Ok((acker, task))
}

fn parse_url(url: &str) -> Result<(bool, String, u16), MqttError> {
    let bad = || MqttError::Url(url.to_owned());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let tls = match scheme {
        "mqtt" | "tcp" => false,
        "mqtts" | "ssl" => true,
        _ => return Err(bad()),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
        None => (authority, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((tls, host.trim_matches(['[', ']']).to_owned(), port))
}

fn tls_config(cfg: &MqttConfig) -> Result<TlsConfiguration, MqttError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match &cfg.ca_file {
        Some(path) => {
            let ca =
                std::fs::read(path).map_err(|source| MqttError::CaFile { path: path.display().to_string(), source })?;
            Ok(TlsConfiguration::Simple { ca, alpn: None, client_auth: None })
        }
        None => std::panic::catch_unwind(TlsConfiguration::default).map_err(|_| MqttError::TrustRoots),
    }
}

/// Drives the connection: forwards publishes, resubscribes when the broker
/// lost our session, and reconnects with exponential backoff.
pub struct EventLoopTask {
    client: AsyncClient,
    eventloop: EventLoop,
    generation: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
    topic_filter: String,
    backoff: (Duration, Duration),
}

/// Largest incoming packet accepted. Anything the broker delivers must pass
/// this, or rumqttc drops the connection and the broker redelivers the same
/// message forever; `decode.max_payload_bytes` is what turns a big message
/// into a dead letter. Keep the broker's own limit below this.
const MAX_INCOMING_PACKET: usize = 64 << 20;

/// How long the final acks and DISCONNECT may take at shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

impl EventLoopTask {
    /// Polls until `done`. On `stop` it stops forwarding (closing `out`, so the
    /// stages behind drain) but keeps the connection, so what they drain can
    /// still be acknowledged; on `done` it disconnects cleanly.
    pub async fn run(mut self, out: UnboundedSender<Delivery>, mut stop: Shutdown, mut done: Shutdown) {
        let mut out = Some(out);
        let mut delay = self.backoff.0;
        loop {
            let event = tokio::select! {
                e = self.eventloop.poll() => e,
                _ = stop.wait(), if out.is_some() => {
                    out = None;
                    continue;
                }
                _ = done.wait() => break,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    delay = self.backoff.0;
                    self.connected(ack.session_present);
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    if ack.return_codes.iter().any(|c| matches!(c, SubscribeReasonCode::Failure)) {
                        self.metrics.mqtt_errors.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(filter = %self.topic_filter, "the broker refused the subscription: no telemetry will arrive");
                    } else {
                        self.metrics.mqtt_subscribed.store(1, Ordering::Relaxed);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    // After `stop` a message is not taken: unacked, the broker redelivers it next session.
                    if let Some(tx) = &out {
                        let generation = self.generation.load(Ordering::Acquire);
                        if tx.send(Delivery { publish, generation }).is_err() {
                            out = None;
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    // Acks queued for the dead connection must not go out on the next one.
                    self.generation.fetch_add(1, Ordering::AcqRel);
                    self.metrics.mqtt_connected.store(0, Ordering::Relaxed);
                    self.metrics.mqtt_subscribed.store(0, Ordering::Relaxed);
                    self.metrics.mqtt_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "MQTT connection error");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = done.wait() => break,
                    }
                    delay = (delay * 2).min(self.backoff.1);
                }
            }
        }
        self.close().await;
    }

    fn connected(&self, session_present: bool) {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.metrics.mqtt_connected.store(1, Ordering::Relaxed);
        tracing::info!(generation, session_present, "connected to MQTT broker");
        // Subscribing again is harmless when the session kept it, and needed
        // when the filter changed or the broker lost the session.
        if let Err(e) = self.client.try_subscribe(self.topic_filter.clone(), QoS::AtLeastOnce) {
            self.metrics.mqtt_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "cannot queue the subscription");
        }
    }

    /// Flushes queued acks and sends DISCONNECT, within `CLOSE_TIMEOUT`.
    async fn close(mut self) {
        self.metrics.mqtt_connected.store(0, Ordering::Relaxed);
        self.metrics.mqtt_subscribed.store(0, Ordering::Relaxed);
        if self.client.try_disconnect().is_err() {
            return;
        }
        let flush = async {
            while let Ok(event) = self.eventloop.poll().await {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, flush).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_scheme_host_and_port() {
        assert_eq!(parse_url("mqtt://127.0.0.1:1883").unwrap(), (false, "127.0.0.1".into(), 1883));
        assert_eq!(parse_url("mqtts://broker.example").unwrap(), (true, "broker.example".into(), 8883));
        assert_eq!(parse_url("tcp://[::1]:18831").unwrap(), (false, "::1".into(), 18831));
        for bad in ["127.0.0.1:1883", "http://h:1", "mqtt://:1883", "mqtt://h:port"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
