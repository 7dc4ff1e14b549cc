//! The `[notify]` section: how often the outbox is read, how deliveries are
//! retried, quiet hours, and the channels (the engineers' MQTT topic, SMTP,
//! webhook subscriptions).

use crate::model::{Language, Span};
use crate::tickets::Notice;
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Off: notices wait in the outbox (nothing is lost) until it is on again.
    pub enabled: bool,
    /// How often the outbox and the due deliveries are read.
    pub poll: Span,
    /// Deliveries tried per pass.
    pub batch: usize,
    /// Attempts before a delivery is dead (kept, shown in the API, retried by hand).
    pub max_attempts: u32,
    /// Backoff between attempts doubles from `retry_min` up to `retry_max`.
    pub retry_min: Span,
    pub retry_max: Span,
    /// Each attempt's time limit (connect, send, answer).
    pub timeout: Span,
    /// Sent deliveries are kept this long (listed by the API), then forgotten.
    pub keep_sent: Span,
    /// People's quiet hours in their own local time; `start == end`: none.
    /// Emergencies and escalations are sent at once.
    pub quiet_start: NaiveTime,
    pub quiet_end: NaiveTime,
    /// Engineers' field app: QoS 1 on `{engineer_topic}/{id}` over `[mqtt]`'s broker.
    pub engineer_mqtt: bool,
    pub engineer_topic: String,
    /// Where links in messages point (the console, the field and progress pages).
    pub public_url: String,
    pub smtp: SmtpConfig,
    pub webhooks: Vec<WebhookConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
        NotifyConfig {
            enabled: true,
            poll: Span::from_secs(1),
            batch: 50,
            max_attempts: 8,
            retry_min: Span::from_secs(5),
            retry_max: Span::from_secs(1800),
            timeout: Span::from_secs(10),
            keep_sent: Span::from_secs(90 * 86_400),
            quiet_start: hm(21),
            quiet_end: hm(7),
            engineer_mqtt: true,
            engineer_topic: "upkeep/notify/engineer".into(),
            public_url: "http://127.0.0.1:8080".into(),
            smtp: SmtpConfig::default(),
            webhooks: Vec::new(),
        }
    }
}

/// E-mail over SMTP. STARTTLS is required unless turned off (for a relay
/// on the same host); credentials are only sent over TLS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Empty: no e-mail.
    pub host: String,
    pub port: u16,
    pub from: String,
    pub starttls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM file of the CA that signed the server's certificate; unset: the
    /// system's trust roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            from: "upkeep@localhost".into(),
            starttls: true,
            username: None,
            password: None,
            ca_file: None,
        }
    }
}

/// One webhook subscription: JSON POSTs signed with HMAC-SHA256 of
/// `{timestamp}.{body}` under `secret`, for the notices in `events` (all
/// when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub secret: String,
    #[serde(default)]
    pub events: Vec<Notice>,
    /// The language of the message text in the payload.
    #[serde(default)]
    pub language: Language,
}

impl WebhookConfig {
    pub fn wants(&self, notice: Notice) -> bool {
        self.events.is_empty() || self.events.contains(&notice)
    }
}

impl NotifyConfig {
    /// Checks what serde cannot: names, URLs and secrets present.
    pub fn validate(&self) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        for w in &self.webhooks {
            if w.name.is_empty() || !names.insert(&w.name) {
                return Err(format!("notify.webhooks: name '{}' is empty or used twice", w.name));
            }
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(format!("notify.webhooks '{}': url must start with http:// or https://", w.name));
            }
            if w.secret.len() < 16 {
                return Err(format!("notify.webhooks '{}': secret must be at least 16 characters", w.name));
            }
        }
        if self.batch == 0 || self.max_attempts == 0 {
            return Err("notify.batch and notify.max_attempts must be at least 1".into());
        }
        Ok(())
    }
}
