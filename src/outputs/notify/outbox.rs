//! The notifications' tables: the outbox of notices (written with their
//! ticket events), the deliveries expanded from it, and their states.
//! A delivery is claimed before it is sent (its `next_at` moved past the
//! attempt), so several engines on one database never send it at once.

use crate::db::{col, DbError};
use crate::model::{EpochMs, TicketId};
use crate::tickets::Notice;
use serde::{Deserialize, Serialize};

crate::db::store!(
    /// The notifications outbox and the deliveries made from it.
    NotificationStore,
    notifications
);

crate::model::named_enum! {
    /// How a message travels.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Channel: "notification channel" {
        Webhook = "webhook",
        Email = "email",
        Mqtt = "mqtt",
    }
}

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Status: "notification status" {
        /// Waiting for its next attempt (`next_at`).
        Pending = "pending",
        Sent = "sent",
        /// Gave up after `max_attempts`; kept for a person to look at and retry.
        Dead = "dead",
    }
}

crate::db::text_column!(Notice, Channel, Status);

/// A notice waiting to be expanded into deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub ticket: TicketId,
    pub seq: i64,
    pub notice: Notice,
    pub at: EpochMs,
}

crate::db::record! {
    /// One message to one recipient over one channel. `id` is its
    /// idempotency key: every attempt carries the same.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Notification {
        pub id: String,
        pub ticket_id: TicketId,
        pub seq: i64,
        pub notice: Notice,
        pub channel: Channel,
        /// Who: an engineer's id, `supervisor:SITE`, `customer:NAME`, a webhook's name.
        pub recipient: String,
        /// Where: a topic, an e-mail address, a URL.
        pub address: String,
        pub language: String,
        pub subject: String,
        pub body: String,
        /// The JSON document a webhook or the field app receives.
        pub payload: String,
        pub status: Status,
        pub attempts: i64,
        pub next_at: EpochMs,
        pub created_at: EpochMs,
        pub sent_at: Option<EpochMs>,
        pub last_error: String,
    }
}

/// Which deliveries a listing shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub ticket: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl NotificationStore {
    /// The oldest notices not yet expanded.
    pub async fn notices(&self, limit: usize) -> Result<Vec<Pending>, DbError> {
        let rows =
            sqlx::query("SELECT ticket_id, seq, notice, at FROM notice_outbox ORDER BY at, ticket_id, seq LIMIT $1")
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Pending {
                    ticket: TicketId::new(col::<String>(r, "ticket_id")?),
                    seq: col(r, "seq")?,
                    notice: crate::db::parse(&col::<String>(r, "notice")?)?,
                    at: col(r, "at")?,
                })
            })
            .collect()
    }

    /// Replaces the notice by its deliveries, in one transaction: a
    /// crash leaves either the notice or all of them (a delivery already
    /// there from an earlier pass is kept as it is).
    pub async fn expand(&self, notice: &Pending, deliveries: &[Notification]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for n in deliveries {
            sqlx::query(
                "INSERT INTO notifications (id, ticket_id, seq, notice, channel, recipient, address, language, \
                 subject, body, payload, status, attempts, next_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14) ON CONFLICT DO NOTHING",
            )
            .bind(&n.id)
            .bind(n.ticket_id.as_str())
            .bind(n.seq)
            .bind(n.notice.as_str())
            .bind(n.channel.as_str())
            .bind(&n.recipient)
            .bind(&n.address)
            .bind(&n.language)
            .bind(&n.subject)
            .bind(&n.body)
            .bind(&n.payload)
            .bind(Status::Pending.as_str())
            .bind(n.next_at)
            .bind(n.created_at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM notice_outbox WHERE ticket_id = $1 AND seq = $2")
            .bind(notice.ticket.as_str())
            .bind(notice.seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pending deliveries due by `now`, the longest waiting first.
    pub async fn due(&self, now: EpochMs, limit: usize) -> Result<Vec<Notification>, DbError> {
        let sql = format!(
            "SELECT {} FROM notifications WHERE status = {} AND next_at <= $1 ORDER BY next_at LIMIT $2",
            Notification::columns(),
            Status::Pending.sql()
        );
        let rows = sqlx::query(&sql).bind(now).bind(limit as i64).fetch_all(&self.pool).await?;
        rows.iter().map(crate::db::from_row).collect()
    }

    /// Takes `n` for one attempt until `until`; `false` when another
    /// engine took it first (its `next_at` moved) or it is no longer pending.
    pub async fn claim(&self, n: &Notification, until: EpochMs) -> Result<bool, DbError> {
        let sql = format!(
            "UPDATE notifications SET next_at = $1 WHERE id = $2 AND next_at = $3 AND status = {}",
            Status::Pending.sql()
        );
        let done = sqlx::query(&sql).bind(until).bind(&n.id).bind(n.next_at).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn sent(&self, id: &str, attempts: i64, at: EpochMs) -> Result<(), DbError> {
        sqlx::query("UPDATE notifications SET status = $1, attempts = $2, sent_at = $3, last_error = '' WHERE id = $4")
            .bind(Status::Sent.as_str())
            .bind(attempts)
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed attempt: pending again at `next_at`, or dead.
    pub async fn failed(&self, id: &str, attempts: i64, next: Option<EpochMs>, error: &str) -> Result<(), DbError> {
        let status = if next.is_some() { Status::Pending } else { Status::Dead };
        sqlx::query("UPDATE notifications SET status = $1, attempts = $2, next_at = $3, last_error = $4 WHERE id = $5")
            .bind(status.as_str())
            .bind(attempts)
            .bind(next.unwrap_or(0))
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets deliveries sent before `before` (the history kept is bounded).
    pub async fn forget_sent(&self, before: EpochMs) -> Result<u64, DbError> {
        let sql = format!("DELETE FROM notifications WHERE status = {} AND sent_at < $1", Status::Sent.sql());
        Ok(sqlx::query(&sql).bind(before).execute(&self.pool).await?.rows_affected())
    }

    /// A dead delivery pending again from `now`, its attempts counted
    /// afresh; `false` when it is not dead (or unknown).
    pub async fn retry(&self, id: &str, now: EpochMs) -> Result<bool, DbError> {
        let sql = format!(
            "UPDATE notifications SET status = $1, attempts = 0, next_at = $2 WHERE id = $3 AND status = {}",
            Status::Dead.sql()
        );
        let done = sqlx::query(&sql).bind(Status::Pending.as_str()).bind(now).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn status(&self, id: &str) -> Result<Option<Status>, DbError> {
        let row =
            sqlx::query("SELECT status FROM notifications WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| crate::db::parse(&col::<String>(&r, "status")?)).transpose()
    }

    pub async fn list(&self, f: &Filter) -> Result<Vec<Notification>, DbError> {
        let mut sql = format!("SELECT {} FROM notifications WHERE 1 = 1", Notification::columns());
        let binds = crate::db::where_equal(
            &mut sql,
            &[("status", f.status.map(|s| s.as_str())), ("ticket_id", f.ticket.as_deref())],
        );
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id LIMIT {} OFFSET {}",
            f.limit.clamp(1, 1000),
            f.offset.max(0)
        ));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(crate::db::from_row).collect()
    }

    /// Deliveries waiting and dead, and notices not yet expanded (for
    /// `/metrics`); read through the status index, never the sent history.
    pub async fn backlog(&self) -> Result<Backlog, DbError> {
        let sql = format!(
            "SELECT status, COUNT(*) AS n FROM notifications WHERE status IN ({}, {}) GROUP BY status",
            Status::Pending.sql(),
            Status::Dead.sql()
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut b = Backlog::default();
        for r in &rows {
            let n: i64 = col(r, "n")?;
            match crate::db::parse::<Status>(&col::<String>(r, "status")?)? {
                Status::Pending => b.pending = n,
                Status::Dead => b.dead = n,
                Status::Sent => {}
            }
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM notice_outbox").fetch_one(&self.pool).await?;
        b.outbox = col(&row, "n")?;
        Ok(b)
    }
}

/// Notices not yet expanded, and deliveries waiting or dead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub outbox: i64,
    pub pending: i64,
    pub dead: i64,
}
