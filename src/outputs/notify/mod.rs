//! Notifications, an output of the seam: ticket events that someone must
//! hear about leave a notice in the outbox, in the event's own transaction
//! (`tickets::Notice`); this output's worker expands each notice into
//! deliveries (who, which channel, which language, when: `recipients`),
//! renders them from the templates, and sends each at least once over
//! webhooks, e-mail or the engineers' MQTT topic (`channel`), with retries,
//! backoff and a dead state (`worker`), all kept in the database
//! (`outbox`), so nothing is lost across restarts.

pub mod channel;
pub mod config;
mod metrics;
pub mod outbox;
mod recipients;
mod templates;
mod worker;

pub use metrics::NotifyMetrics;
pub use outbox::{Backlog, Channel, Filter, Notification, NotificationStore, Status};
pub use templates::{render, Facts, Message};

use super::{OutputContext, OutputError, OutputMetrics, Started};
use config::NotifyConfig;
use std::sync::Arc;

/// Starts the delivery worker; `None` when notifications are off.
pub fn start(
    config: &NotifyConfig,
    mqtt: &crate::ingest::MqttConfig,
    ctx: &OutputContext<'_>,
) -> Result<Option<Started>, OutputError> {
    if !config.enabled {
        return Ok(None);
    }
    let field_app = config
        .engineer_mqtt
        .then(|| crate::ingest::mqtt_options(mqtt, &format!("{}-notify", mqtt.client_id)))
        .transpose()
        .map_err(|e| OutputError::Notify(e.to_string()))?;
    let channels = channel::Channels::new(config, field_app).map_err(|e| OutputError::Notify(e.to_string()))?;
    let metrics = Arc::new(NotifyMetrics::default());
    ctx.metrics.register(metrics.clone());
    let worker = worker::Worker {
        config: config.clone(),
        store: ctx.db.notifications(),
        tickets: ctx.tickets.clone(),
        fleet: Arc::clone(ctx.fleet),
        rules: Arc::clone(ctx.rules),
        channels,
        metrics,
    };
    let (trigger, stop) = crate::shutdown::channel();
    let task = tokio::spawn(worker.run(stop));
    Ok(Some(Started {
        metrics: Arc::new(OutputMetrics::new("notify")),
        readings: None,
        scores: None,
        kpi: None,
        tasks: vec![(trigger, task)],
    }))
}
