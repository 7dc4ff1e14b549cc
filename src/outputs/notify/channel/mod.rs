//! The channels a message travels by, behind one `send`.

mod mqtt;
mod smtp;
pub mod webhook;

use super::config::NotifyConfig;
use super::outbox::{Channel, Notification};
use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt: unreachable, timed out, a temporary refusal.
    #[error("{0}")]
    Transient(String),
    /// The receiver refused this message for good (a bad address, a 5xx to it).
    #[error("refused: {0}")]
    Rejected(String),
    /// The channel is not set up (or no longer): retried, as the
    /// configuration may be fixed while it waits.
    #[error("not configured: {0}")]
    Setup(String),
}

/// Every configured channel.
pub struct Channels {
    webhooks: webhook::Webhooks,
    email: Option<smtp::Smtp>,
    field_app: Option<mqtt::FieldApp>,
    timeout: Duration,
}

impl Channels {
    pub fn new(config: &NotifyConfig, mqtt: Option<rumqttc::MqttOptions>) -> Result<Channels, SendError> {
        let timeout = config.timeout.as_std();
        let email = (!config.smtp.host.is_empty()).then(|| smtp::Smtp::new(config.smtp.clone())).transpose()?;
        Ok(Channels {
            webhooks: webhook::Webhooks::new(config.webhooks.clone(), timeout)?,
            email,
            field_app: mqtt.map(mqtt::FieldApp::new),
            timeout,
        })
    }

    /// One attempt, within the configured time limit.
    pub async fn send(&self, n: &Notification) -> Result<(), SendError> {
        let attempt = async {
            match n.channel {
                Channel::Webhook => self.webhooks.send(n).await,
                Channel::Email => match &self.email {
                    Some(smtp) => smtp.send(n).await,
                    None => Err(SendError::Setup("notify.smtp.host is empty".into())),
                },
                Channel::Mqtt => match &self.field_app {
                    Some(app) => app.send(n).await,
                    None => Err(SendError::Setup("notify.engineer_mqtt is off".into())),
                },
            }
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .unwrap_or_else(|_| Err(SendError::Transient(format!("no answer within {:?}", self.timeout))))
    }
}
