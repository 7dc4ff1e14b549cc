//! Webhook deliveries: the notification's JSON document POSTed to the
//! subscription's URL, signed so the receiver can tell it came from this
//! engine and was not replayed: `X-Upkeep-Signature: sha256=HEX`, the
//! HMAC-SHA256 under the subscription's secret of `{timestamp}.{body}`,
//! with `X-Upkeep-Timestamp` (Unix seconds). `Idempotency-Key` is the
//! same on every attempt, so a receiver can drop a second delivery.

use super::SendError;
use crate::outputs::notify::config::WebhookConfig;
use crate::outputs::notify::outbox::Notification;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

pub struct Webhooks {
    http: reqwest::Client,
    hooks: Vec<WebhookConfig>,
}

impl Webhooks {
    pub fn new(hooks: Vec<WebhookConfig>, timeout: Duration) -> Result<Webhooks, SendError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError::Setup(format!("HTTP client: {e}")))?;
        Ok(Webhooks { http, hooks })
    }

    pub async fn send(&self, n: &Notification) -> Result<(), SendError> {
        let hook = self
            .hooks
            .iter()
            .find(|h| h.name == n.recipient)
            .ok_or_else(|| SendError::Setup(format!("webhook '{}' is no longer configured", n.recipient)))?;
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let answer = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &n.id)
            .header("x-upkeep-event", n.notice.as_str())
            .header("x-upkeep-timestamp", &timestamp)
            .header("x-upkeep-signature", signature(&hook.secret, &timestamp, &n.payload))
            .body(n.payload.clone())
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("POST {}: {e}", hook.url)))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        Err(SendError::Transient(format!("POST {}: answered {status}", hook.url)))
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under `secret`.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_the_hmac_sha256_of_timestamp_dot_body() {
        // As Python computes it: hmac.new(b"Jefe", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let s = super::signature("Jefe", "1700000000", r#"{"a":1}"#);
        assert_eq!(s, "sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a");
    }
}
