//! Whole ticket histories in four queries, for the KPIs and the InfluxDB
//! feed (which read many tickets at once, not one by one).

use super::TicketReader;
use super::{EventRecord, ReportRecord, StoreError, Ticket, TicketState};
use crate::db::col;
use crate::db::from_row;
use crate::dispatch::PartLine;

use crate::model::{EpochMs, TicketId};
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// A ticket with its events (in order) and part lines.
#[derive(Debug, Clone)]
pub struct StoredHistory {
    pub ticket: Ticket,
    pub events: Vec<EventRecord>,
    pub parts: Vec<PartLine>,
    /// Customers' reports of the fault, oldest first.
    pub reports: Vec<ReportRecord>,
}

impl TicketReader {
    /// Every ticket detected or changed at or after `since`, and every open
    /// ticket however old, with their histories; oldest detection first.
    pub async fn ticket_histories(&self, since: EpochMs) -> Result<Vec<StoredHistory>, StoreError> {
        let open = TicketState::sql_list(&TicketState::OPEN);
        let chosen = format!("detected_at >= $1 OR updated_at >= $1 OR state IN {open}");
        // Children of the same tickets, grouped by ticket.
        let children = |columns: &str, table: &str, order: &str| {
            format!(
                "SELECT ticket_id, {columns} FROM {table} \
                 WHERE ticket_id IN (SELECT id FROM tickets WHERE {chosen}) ORDER BY ticket_id, {order}"
            )
        };
        let mut out = Vec::new();
        let mut index: HashMap<TicketId, usize> = HashMap::new();
        let tickets = format!("SELECT {} FROM tickets WHERE {chosen} ORDER BY detected_at, id", Ticket::columns());
        for row in self.rows(&tickets, since).await? {
            let ticket: Ticket = from_row(&row)?;
            index.insert(ticket.id.clone(), out.len());
            out.push(StoredHistory { ticket, events: Vec::new(), parts: Vec::new(), reports: Vec::new() });
        }
        let owner = |row: &AnyRow| -> Result<Option<usize>, StoreError> {
            Ok(index.get(col::<String>(row, "ticket_id")?.as_str()).copied())
        };
        for row in self.rows(&children(EventRecord::columns(), "ticket_events", "seq"), since).await? {
            if let Some(i) = owner(&row)? {
                out[i].events.push(from_row(&row)?);
            }
        }
        for row in self.rows(&children(PartLine::columns(), "ticket_parts", "part"), since).await? {
            if let Some(i) = owner(&row)? {
                out[i].parts.push(from_row(&row)?);
            }
        }
        for row in self.rows(&children(ReportRecord::columns(), "customer_reports", "reported_at"), since).await? {
            if let Some(i) = owner(&row)? {
                out[i].reports.push(from_row(&row)?);
            }
        }
        Ok(out)
    }

    async fn rows(&self, sql: &str, since: EpochMs) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(sql).bind(since).fetch_all(&self.pool).await?)
    }
}
