//! Whole ticket histories in three queries, for the KPIs and the InfluxDB
//! feed (which read many tickets at once, not one by one).

use super::store::{event_from_row, ticket_from_row, OPEN_STATES, TICKET_COLUMNS};
use super::{EventRecord, PartLine, StoreError, Ticket};
use crate::db::{col, Db};
use crate::dispatch::part_line_from_row;
use crate::model::EpochMs;
use std::collections::HashMap;

/// A ticket with its events (in order) and part lines.
#[derive(Debug, Clone)]
pub struct StoredHistory {
    pub ticket: Ticket,
    pub events: Vec<EventRecord>,
    pub parts: Vec<PartLine>,
}

impl Db {
    /// Every ticket detected or changed at or after `since`, and every open
    /// ticket however old, with their histories; oldest detection first.
    pub async fn ticket_histories(&self, since: EpochMs) -> Result<Vec<StoredHistory>, StoreError> {
        let chosen = format!("detected_at >= $1 OR updated_at >= $1 OR state IN {OPEN_STATES}");
        let tickets =
            sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE {chosen} ORDER BY detected_at, id"))
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(tickets.len());
        let mut index = HashMap::with_capacity(tickets.len());
        for row in &tickets {
            let ticket = ticket_from_row(row)?;
            index.insert(ticket.id.to_string(), out.len());
            out.push(StoredHistory { ticket, events: Vec::new(), parts: Vec::new() });
        }
        let events = sqlx::query(&format!(
            "SELECT ticket_id, seq, at, kind, from_state, to_state, actor, detail FROM ticket_events \
             WHERE ticket_id IN (SELECT id FROM tickets WHERE {chosen}) ORDER BY ticket_id, seq"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        for row in &events {
            if let Some(&i) = index.get(&col::<String>(row, "ticket_id")?) {
                out[i].events.push(event_from_row(row)?);
            }
        }
        let parts = sqlx::query(&format!(
            "SELECT ticket_id, part, qty, depot_id, status, note FROM ticket_parts \
             WHERE ticket_id IN (SELECT id FROM tickets WHERE {chosen}) ORDER BY ticket_id, part"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        for row in &parts {
            if let Some(&i) = index.get(&col::<String>(row, "ticket_id")?) {
                out[i].parts.push(part_line_from_row(row)?);
            }
        }
        Ok(out)
    }
}
