//! Reading tickets: one ticket with its history, lists, the loads of
//! engineers. What the API's read routes and the KPI pass get: they can
//! reach no write.

use super::{EventRecord, EvidenceRecord, StoreError, Ticket, TicketDetail};
use crate::db::{col, DbError};
use crate::dispatch::PartLine;
use crate::model::{AssetId, EngineerId, EpochMs, FaultCode, Severity, TicketId, TicketKind};
use crate::tickets::TicketState;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub state: Option<TicketState>,
    pub severity: Option<Severity>,
    pub kind: Option<TicketKind>,
    pub asset: Option<AssetId>,
    pub engineer: Option<EngineerId>,
    /// Only tickets on these units (a customer's); none at all when empty.
    pub assets: Option<Vec<AssetId>>,
    /// Only tickets still open (not resolved, closed or cancelled).
    pub active: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A closed ticket whose follow-up call is due by `due_at`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowUpDue {
    pub ticket: Ticket,
    pub closed_at: EpochMs,
    pub due_at: EpochMs,
}

crate::db::store!(
    /// Tickets to read: details, lists, histories, loads.
    TicketReader,
    ticket_reader
);

impl TicketReader {
    /// The ticket a customer's progress code names.
    pub async fn ticket_by_progress_code(&self, code: &str) -> Result<Option<TicketDetail>, StoreError> {
        let row = sqlx::query("SELECT id FROM tickets WHERE progress_code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => self.ticket(&col::<String>(&r, "id")?).await,
            None => Ok(None),
        }
    }

    pub async fn ticket(&self, id: &str) -> Result<Option<TicketDetail>, StoreError> {
        let Some(ticket) = self.find_ticket(id).await? else { return Ok(None) };
        let evidence = sqlx::query("SELECT seq, at, body FROM ticket_evidence WHERE ticket_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let body: String = col(r, "body")?;
                Ok(EvidenceRecord {
                    seq: col(r, "seq")?,
                    at: col(r, "at")?,
                    body: serde_json::from_str(&body).map_err(|e| DbError::Corrupt(e.to_string()))?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        let events = sqlx::query(&format!(
            "SELECT {} FROM ticket_events WHERE ticket_id = $1 ORDER BY seq",
            EventRecord::columns()
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(crate::db::from_row)
        .collect::<Result<_, DbError>>()?;
        let parts = self.ticket_parts(id).await?;
        Ok(Some(TicketDetail { ticket, evidence, events, parts }))
    }

    /// Newest detections first; open work (`active`) by its on-site
    /// deadline, soonest first, so a capped list drops the least pressing.
    pub async fn list_tickets(&self, f: &TicketFilter) -> Result<Vec<Ticket>, StoreError> {
        let mut sql = format!("SELECT {} FROM tickets WHERE 1 = 1", Ticket::columns());
        let mut binds: Vec<String> = Vec::new();
        let mut filter = |column: &str, value: Option<String>| {
            if let Some(v) = value {
                binds.push(v);
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        };
        filter("state", f.state.map(|s| s.as_str().to_owned()));
        filter("severity", f.severity.map(|s| s.as_str().to_owned()));
        filter("kind", f.kind.map(|k| k.as_str().to_owned()));
        filter("asset_id", f.asset.as_ref().map(|a| a.to_string()));
        filter("engineer_id", f.engineer.as_ref().map(|e| e.to_string()));
        if let Some(assets) = &f.assets {
            let first = binds.len() + 1;
            binds.extend(assets.iter().map(|a| a.to_string()));
            let params: Vec<String> = (first..=binds.len()).map(|i| format!("${i}")).collect();
            // `IN ()` is not SQL: no units means no tickets.
            let list = if params.is_empty() { "NULL".to_owned() } else { params.join(", ") };
            sql.push_str(&format!(" AND asset_id IN ({list})"));
        }
        if f.active {
            sql.push_str(&format!(" AND state IN {}", TicketState::sql_list(&TicketState::OPEN)));
        }
        let order = if f.active { "on_site_due ASC" } else { "detected_at DESC" };
        sql.push_str(&format!(" ORDER BY {order}, id LIMIT {} OFFSET {}", f.limit.clamp(1, 1000), f.offset.max(0)));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| crate::db::from_row(r).map_err(StoreError::from)).collect()
    }

    /// Open tickets per engineer: their current load.
    pub async fn engineer_loads(&self) -> Result<HashMap<EngineerId, u32>, StoreError> {
        let open = TicketState::sql_list(&TicketState::OPEN);
        let rows = sqlx::query(&format!(
            "SELECT engineer_id, COUNT(*) AS n FROM tickets WHERE engineer_id IS NOT NULL AND state IN {open} \
             GROUP BY engineer_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((EngineerId::new(col::<String>(r, "engineer_id")?), col::<i64>(r, "n")? as u32)))
            .collect()
    }

    /// When earlier repairs of `fault` on `asset` were resolved (repair tickets only).
    pub async fn prior_repairs(&self, asset: &AssetId, fault: &FaultCode) -> Result<Vec<EpochMs>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT e.at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
             WHERE t.asset_id = $1 AND t.fault_code = $2 AND t.kind = {} AND e.to_state = {} ORDER BY e.at",
            TicketKind::Repair.sql(),
            TicketState::Resolved.sql()
        ))
        .bind(asset.as_str())
        .bind(fault.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(col::<i64>(r, "at")?)).collect()
    }

    /// Cheap liveness probe for `/health`: the database answers.
    /// Open tickets per severity as they stand now (raised ones counted at
    /// their new tier): general, major, emergency.
    pub async fn open_by_severity(&self) -> Result<[u64; 3], StoreError> {
        let open = TicketState::sql_list(&TicketState::OPEN);
        let rows = sqlx::query(&format!(
            "SELECT severity, COUNT(*) AS n FROM tickets WHERE state IN {open} GROUP BY severity"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = [0; 3];
        for r in &rows {
            let severity: Severity =
                col::<String>(r, "severity")?.parse().map_err(|e| DbError::Corrupt(format!("{e}")))?;
            let tier = Severity::ALL.iter().position(|s| *s == severity).unwrap_or(0);
            out[tier] += col::<i64>(r, "n")?.unsigned_abs();
        }
        Ok(out)
    }

    /// A mark that moves whenever any ticket does (an event, evidence, an
    /// update): watchers compare it instead of re-reading the board.
    pub async fn change_mark(&self) -> Result<[i64; 3], DbError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM ticket_events) AS events, (SELECT COUNT(*) FROM ticket_evidence) AS evidence, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM tickets) AS updated",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok([col::<i64>(&row, "events")?, col::<i64>(&row, "evidence")?, col::<i64>(&row, "updated")?])
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// The ticket's parts lines: reserved, requested, used or released.
    pub async fn ticket_parts(&self, ticket: &str) -> Result<Vec<PartLine>, DbError> {
        crate::dispatch::part_lines(&self.pool, ticket).await
    }

    /// Closed tickets still waiting for their follow-up call, the longest
    /// closed first (the most overdue at the top).
    pub async fn follow_ups_due(&self, limit: i64, offset: i64) -> Result<Vec<FollowUpDue>, StoreError> {
        let closed = TicketState::Closed.sql();
        let sql = format!(
            "SELECT {}, (SELECT MAX(e.at) FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.to_state = {closed}) \
             AS closed_at FROM tickets WHERE state = {closed} AND follow_up IS NULL \
             ORDER BY closed_at, id LIMIT {} OFFSET {}",
            Ticket::columns(),
            limit.clamp(1, 1000),
            offset.max(0)
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let closed_at: EpochMs = col::<Option<i64>>(r, "closed_at")?.unwrap_or_default();
                let due_at = closed_at + crate::tickets::report::FOLLOW_UP_WITHIN_MS;
                Ok(FollowUpDue { ticket: crate::db::from_row(r)?, closed_at, due_at })
            })
            .collect()
    }

    /// A ticket as it stands and one event of its history: what a
    /// notification of that event tells.
    pub async fn ticket_event(&self, id: &str, seq: i64) -> Result<Option<(Ticket, EventRecord)>, StoreError> {
        let Some(ticket) = self.find_ticket(id).await? else { return Ok(None) };
        let sql = format!("SELECT {} FROM ticket_events WHERE ticket_id = $1 AND seq = $2", EventRecord::columns());
        let row = sqlx::query(&sql).bind(id).bind(seq).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| crate::db::from_row(&r)).transpose()?.map(|e| (ticket, e)))
    }

    async fn find_ticket(&self, id: &str) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(&format!("SELECT {} FROM tickets WHERE id = $1", Ticket::columns()))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| crate::db::from_row(&r)).transpose()?)
    }

    pub(in crate::tickets) async fn ticket_row(&self, id: &str) -> Result<Ticket, StoreError> {
        self.find_ticket(id).await?.ok_or_else(|| StoreError::NotFound(TicketId::new(id)))
    }
}
