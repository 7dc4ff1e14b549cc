//! The MQTT side: a persistent QoS 1 session with manual acks. `connect`
//! builds the client and the event loop task (`event_loop.rs`); the acker
//! hands acks to that task, which writes them itself so they never queue
//! behind incoming messages.

use super::budget::{Budget, Held};
use super::event_loop::EventLoopTask;
use super::session::SessionState;
use super::MqttConfig;
use crate::retry::Backoff;
use crate::telemetry::Metrics;
use rumqttc::{AsyncClient, MqttOptions, Publish, TlsConfiguration, Transport};
use std::sync::Arc;
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("cannot read CA file {path}: {source}")]
    CaFile { path: String, source: std::io::Error },
    #[error("no system trust roots could be loaded for TLS; set mqtt.ca_file")]
    TrustRoots,
}

/// One received message, tagged with the broker session it came on (a
/// packet id is only meaningful there), holding its share of the budget.
#[derive(Debug)]
pub struct Delivery {
    pub publish: Publish,
    pub session: u64,
    pub held: Held,
}

/// An ack for the event loop to write; the budget share returns once it is
/// written (or dropped with a lost session).
#[derive(Debug)]
pub(super) struct AckRequest {
    pub pkid: u16,
    pub session: u64,
    /// Kept for its drop, which returns the share.
    pub _held: Held,
}

/// Acknowledges deliveries on the live session; deliveries of a session the
/// broker lost are skipped.
#[derive(Clone)]
pub struct MqttAcker {
    acks: mpsc::Sender<AckRequest>,
    session: Arc<SessionState>,
}

impl MqttAcker {
    /// Hands the ack to the event loop (which has room for every held message).
    pub async fn ack(&self, d: Delivery) {
        if !self.session.may_ack(d.publish.pkid, d.session) {
            return;
        }
        let request = AckRequest { pkid: d.publish.pkid, session: d.session, _held: d.held };
        if self.acks.send(request).await.is_err() {
            tracing::warn!("the MQTT connection has closed; the broker will redeliver");
        }
    }
}

/// Builds the client; `EventLoopTask::run` must then be spawned to drive it.
pub fn connect(
    cfg: &MqttConfig,
    metrics: Arc<Metrics>,
    budget: Arc<Budget>,
) -> Result<(MqttAcker, EventLoopTask), MqttError> {
    let mut opts = options(cfg, &cfg.client_id)?;
    opts.set_clean_session(false).set_manual_acks(true).set_max_packet_size(MAX_INCOMING_PACKET, 1 << 20);
    // Only subscriptions and the DISCONNECT go through the client's channel.
    let (client, eventloop) = AsyncClient::new(opts, 16);
    let session = Arc::new(SessionState::default());
    let (acks_tx, acks) = mpsc::channel(budget.limits().messages + 64);
    let acker = MqttAcker { acks: acks_tx, session: Arc::clone(&session) };
    let task = EventLoopTask {
        client,
        eventloop,
        acks,
        session,
        budget,
        metrics,
        topic_filter: cfg.topic_filter.clone(),
        backoff: Backoff::new(cfg.reconnect_min.as_std(), cfg.reconnect_max.as_std()),
        keep_alive: cfg.keep_alive.as_std(),
        broker: cfg.url.to_string(),
    };
    Ok((acker, task))
}

/// A connection to `[mqtt]`'s broker as `client_id`: address, keep-alive,
/// credentials and TLS (what every client of the engine shares).
pub fn options(cfg: &MqttConfig, client_id: &str) -> Result<MqttOptions, MqttError> {
    let mut opts = MqttOptions::new(client_id, cfg.url.host.clone(), cfg.url.port);
    opts.set_keep_alive(cfg.keep_alive.as_std());
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        opts.set_credentials(u.clone(), p.clone());
    }
    if cfg.url.tls {
        opts.set_transport(Transport::tls_with_config(tls_config(cfg)?));
    }
    Ok(opts)
}

/// Largest incoming packet accepted. Anything the broker delivers must pass
/// this, or rumqttc drops the connection and the broker redelivers the same
/// message forever; `decode.max_payload_bytes` is what turns a big message
/// into a dead letter. Keep the broker's own limit below this.
const MAX_INCOMING_PACKET: usize = 64 << 20;

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
