//! Photos and documents on a ticket, comments, and parts' arrival on site:
//! what the engineer saw and received on site, what the office noted. A comment is an entry of the ticket's
//! history; an attachment is stored with its media type checked against
//! its first bytes and its size capped, and its arrival is in the history.

use super::store::{record_event, Event};
use super::{Actor, EventKind, StoreError};
use crate::db::DbError;
use crate::model::{EpochMs, TicketId};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;

/// The largest attachment accepted (a phone photo fits).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

crate::model::named_enum! {
    /// What may be attached: photos and PDF documents, nothing executable.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum Media: "attachment media type" {
        #[serde(rename = "image/jpeg")]
        Jpeg = "image/jpeg",
        #[serde(rename = "image/png")]
        Png = "image/png",
        #[serde(rename = "image/webp")]
        Webp = "image/webp",
        #[serde(rename = "application/pdf")]
        Pdf = "application/pdf",
    }
}

crate::db::text_column!(Media);

impl Media {
    /// Whether `bytes` begin as this type's files do.
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Media::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            Media::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            Media::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
            Media::Pdf => bytes.starts_with(b"%PDF-"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAttachment {
    #[error("attachments are JPEG, PNG, WebP or PDF, not '{0}'")]
    Media(String),
    #[error("the content is not a {0} file")]
    Content(Media),
    #[error("an attachment is 1 byte to 5 MiB")]
    Size,
}

/// Checks a declared media type against the content and the size limit.
pub fn check(declared: &str, bytes: &[u8]) -> Result<Media, BadAttachment> {
    let media: Media = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| BadAttachment::Media(declared.to_owned()))?;
    if bytes.is_empty() || bytes.len() > MAX_BYTES {
        return Err(BadAttachment::Size);
    }
    if !media.matches(bytes) {
        return Err(BadAttachment::Content(media));
    }
    Ok(media)
}

crate::db::record! {
    /// An attachment without its content.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct AttachmentInfo {
        pub id: String,
        pub ticket_id: TicketId,
        pub at: EpochMs,
        pub author: String,
        pub media: Media,
        pub bytes: i64,
        pub caption: String,
    }
}

crate::db::store!(
    /// Attachments of tickets.
    AttachmentStore,
    attachments
);

impl AttachmentStore {
    /// Stores a checked attachment and notes it in the ticket's history.
    pub async fn add(
        &self,
        ticket: &TicketId,
        (media, content): (Media, &[u8]),
        caption: &str,
        actor: Actor<'_>,
        now: EpochMs,
    ) -> Result<String, StoreError> {
        let id = format!("AT-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO attachments (id, ticket_id, at, author, media, bytes, caption, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(ticket.as_str())
        .bind(now)
        .bind(actor.as_str())
        .bind(media.as_str())
        .bind(content.len() as i64)
        .bind(caption)
        .bind(B64.encode(content))
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "{id} ({media}, {} kB){}",
            content.len().div_ceil(1024),
            if caption.is_empty() { String::new() } else { format!(": {caption}") }
        );
        record_event(&mut tx, ticket, now, &Event::note(EventKind::AttachmentAdded, actor, &detail)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A ticket's attachments, oldest first, without their content.
    pub async fn list(&self, ticket: &str) -> Result<Vec<AttachmentInfo>, DbError> {
        let sql = format!("SELECT {} FROM attachments WHERE ticket_id = $1 ORDER BY at, id", AttachmentInfo::columns());
        let rows = sqlx::query(&sql).bind(ticket).fetch_all(&self.pool).await?;
        rows.iter().map(crate::db::from_row).collect()
    }

    /// One attachment of `ticket` with its content.
    pub async fn content(&self, ticket: &str, id: &str) -> Result<Option<(Media, Vec<u8>)>, DbError> {
        let row = sqlx::query("SELECT media, content FROM attachments WHERE ticket_id = $1 AND id = $2")
            .bind(ticket)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let media: Media = crate::db::parse(&crate::db::col::<String>(&row, "media")?)?;
        let text: String = crate::db::col(&row, "content")?;
        let bytes = B64.decode(text).map_err(|e| DbError::Corrupt(format!("attachment {id}: {e}")))?;
        Ok(Some((media, bytes)))
    }
}

impl super::TicketStore {
    /// Records that `part` arrived on site at `at`; `false` when it had
    /// arrived already. A part the ticket does not list is not found.
    pub async fn part_arrived(
        &self,
        ticket: &TicketId,
        part: &str,
        at: EpochMs,
        actor: Actor<'_>,
        now: EpochMs,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let set = sqlx::query(
            "UPDATE ticket_parts SET arrived_at = $1 WHERE ticket_id = $2 AND part = $3 AND arrived_at IS NULL",
        )
        .bind(at)
        .bind(ticket.as_str())
        .bind(part)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if set == 0 {
            let known = sqlx::query("SELECT 1 AS x FROM ticket_parts WHERE ticket_id = $1 AND part = $2")
                .bind(ticket.as_str())
                .bind(part)
                .fetch_optional(&mut *tx)
                .await?;
            return match known {
                Some(_) => Ok(false),
                None => Err(StoreError::NotFound(TicketId::new(format!("{ticket}/parts/{part}")))),
            };
        }
        let when = chrono::DateTime::from_timestamp_millis(at).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string());
        let detail = format!("{part} on site since {}", when.unwrap_or_default());
        record_event(&mut tx, ticket, now, &Event::note(EventKind::PartArrived, actor, &detail)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A comment in the ticket's history.
    pub async fn comment(
        &self,
        ticket: &TicketId,
        text: &str,
        actor: Actor<'_>,
        now: EpochMs,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        record_event(&mut tx, ticket, now, &Event::note(EventKind::Commented, actor, text)).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_type_must_match_the_first_bytes_and_the_size_the_limit() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        assert_eq!(check("image/jpeg", &jpeg), Ok(Media::Jpeg));
        assert_eq!(check("image/png", &jpeg), Err(BadAttachment::Content(Media::Png)));
        assert_eq!(check("text/html", b"<script>"), Err(BadAttachment::Media("text/html".into())));
        assert_eq!(check("application/pdf", b""), Err(BadAttachment::Size));
        assert_eq!(check("image/webp", b"RIFF\0\0\0\0WEBPVP8 "), Ok(Media::Webp));
        let big = vec![0xFFu8; MAX_BYTES + 1];
        assert_eq!(check("image/jpeg", &big), Err(BadAttachment::Size));
    }
}
