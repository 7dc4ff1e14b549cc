//! Messages that could not be used, kept with their raw bytes and the reason.

use crate::model::EpochMs;
use serde::Serialize;

crate::model::named_enum! {
    /// Bounded set of reasons (a Prometheus label and a filter in the API).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum DeadLetterReason: "dead-letter reason" {
        InvalidJson = "invalid_json",
        InvalidSchema = "invalid_schema",
        UnknownAsset = "unknown_asset",
        NonFinite = "non_finite",
        AbsurdTimestamp = "absurd_timestamp",
        Oversize = "oversize",
        TopicMismatch = "topic_mismatch",
    }
}

/// One kept-aside message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub id: String,
    pub received_at: EpochMs,
    pub topic: String,
    pub reason: DeadLetterReason,
    pub detail: String,
    #[serde(skip)]
    pub payload: Vec<u8>,
}

use crate::db::{col, DbError};

crate::db::store!(
    /// Malformed telemetry kept aside with its reason.
    DeadLetterStore,
    dead_letters
);

impl DeadLetterStore {
    /// Idempotent: a redelivered message (same topic and bytes) is kept once.
    pub async fn insert_dead_letter(&self, d: &DeadLetter) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO dead_letters (id, received_at, topic, reason, detail, payload_hex) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&d.id)
        .bind(d.received_at)
        .bind(&d.topic)
        .bind(d.reason.as_str())
        .bind(&d.detail)
        .bind(d.payload_hex())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Newest first, optionally of one reason.
    pub async fn dead_letters(
        &self,
        reason: Option<DeadLetterReason>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DeadLetter>, DbError> {
        let sql = format!(
            "SELECT id, received_at, topic, reason, detail, payload_hex FROM dead_letters {} \
             ORDER BY received_at DESC, id LIMIT {} OFFSET {}",
            if reason.is_some() { "WHERE reason = $1" } else { "" },
            limit.clamp(1, 1000),
            offset.max(0)
        );
        let mut q = sqlx::query(&sql);
        if let Some(r) = reason {
            q = q.bind(r.as_str());
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let reason: String = col(r, "reason")?;
                Ok(DeadLetter {
                    id: col(r, "id")?,
                    received_at: col(r, "received_at")?,
                    topic: col(r, "topic")?,
                    reason: crate::db::parse(&reason)?,
                    detail: col(r, "detail")?,
                    payload: from_hex(&col::<String>(r, "payload_hex")?)
                        .ok_or_else(|| DbError::Corrupt("payload_hex".into()))?,
                })
            })
            .collect()
    }
}

/// Payload bytes kept per dead letter; a larger payload is cut (its length is in `detail`).
const KEPT_PAYLOAD: usize = 1 << 20;

impl DeadLetter {
    /// Text fields drop NUL (PostgreSQL TEXT cannot hold it; it comes from
    /// the device); the payload is kept exactly, up to `KEPT_PAYLOAD` bytes.
    pub fn new(topic: &str, reason: DeadLetterReason, detail: &str, payload: &[u8], received_at: EpochMs) -> Self {
        let clean = |s: &str| s.replace('\0', "\u{fffd}");
        let mut detail = clean(detail);
        if payload.len() > KEPT_PAYLOAD {
            detail.push_str(&format!(" (payload of {} bytes cut to the first {KEPT_PAYLOAD})", payload.len()));
        }
        DeadLetter {
            id: content_id(topic, payload),
            received_at,
            topic: clean(topic),
            reason,
            detail,
            payload: payload[..payload.len().min(KEPT_PAYLOAD)].to_vec(),
        }
    }

    /// The exact payload bytes as hex.
    pub fn payload_hex(&self) -> String {
        to_hex(&self.payload)
    }
}

/// A stable 128-bit FNV-1a hash of topic and payload: the broker's
/// redelivery of a dead letter (after a crash or reconnect) maps to the row
/// already stored. Identical bytes on one topic are one dead letter.
fn content_id(topic: &str, payload: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    let bytes = topic.as_bytes().iter().chain([0xffu8].iter()).chain(payload);
    let hash = bytes.fold(OFFSET, |h, &b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    format!("{hash:032x}")
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_lose_nul_and_huge_payloads_are_cut() {
        let d = DeadLetter::new("t/\0", DeadLetterReason::Oversize, "bad \0 id", &vec![7u8; KEPT_PAYLOAD + 5], 1);
        assert!(!d.topic.contains('\0') && !d.detail.contains('\0'));
        assert_eq!(d.payload.len(), KEPT_PAYLOAD);
        assert!(d.detail.contains("cut"));
    }

    #[test]
    fn a_redelivered_message_has_the_same_id_and_another_message_does_not() {
        let a = DeadLetter::new("t/1", DeadLetterReason::InvalidJson, "x", b"{oops", 1);
        let again = DeadLetter::new("t/1", DeadLetterReason::InvalidJson, "x", b"{oops", 2);
        assert_eq!(a.id, again.id);
        assert_ne!(a.id, DeadLetter::new("t/2", DeadLetterReason::InvalidJson, "x", b"{oops", 1).id);
        assert_ne!(a.id, DeadLetter::new("t/1", DeadLetterReason::InvalidJson, "x", b"{oops!", 1).id);
        assert_eq!(a.id.len(), 32);
    }

    #[test]
    fn hex_round_trips_any_bytes() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        assert_eq!(from_hex("zz"), None);
    }
}
