//! The audit log: every write through the API, allowed or refused, with
//! who made it (as what), the route, the object and the answer's status.

use super::Role;
use crate::model::EpochMs;
use serde::Serialize;

crate::db::store!(
    /// The audit log: append an entry, read the newest first.
    AuditStore,
    audit
);

crate::db::record! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct AuditEntry {
        pub at: EpochMs,
        /// The principal's name; `None` when the request carried no valid identity.
        pub principal: Option<String>,
        pub role: Option<Role>,
        pub method: String,
        /// The route's pattern, `/api/v1/tickets/{id}/transition`.
        pub route: String,
        /// The path as called, naming the object.
        pub object: String,
        /// The HTTP status of the answer: the outcome.
        pub status: i64,
    }
}

impl AuditStore {
    pub async fn record(&self, e: &AuditEntry) -> Result<(), super::AccessError> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, principal, role, method, route, object, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(e.at)
        .bind(&e.principal)
        .bind(e.role.map(|r| r.as_str()))
        .bind(&e.method)
        .bind(&e.route)
        .bind(&e.object)
        .bind(e.status)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes the entries written before `before`.
    pub async fn purge_before(&self, before: EpochMs) -> Result<u64, super::AccessError> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// The newest entries first.
    pub async fn list(&self, limit: i64, offset: i64) -> Result<Vec<AuditEntry>, super::AccessError> {
        let sql = format!(
            "SELECT {} FROM audit_log ORDER BY at DESC, id LIMIT {} OFFSET {}",
            AuditEntry::columns(),
            limit.clamp(1, 1000),
            offset.max(0)
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(crate::db::from_row).collect::<Result<_, _>>()?)
    }
}
