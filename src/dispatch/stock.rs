//! Parts stock per depot, and reservations that can never oversell: a unit
//! is taken by one conditional UPDATE, so two tickets racing for the last
//! unit cannot both get it (on SQLite and PostgreSQL alike).

use crate::db::{col, Db, DbError};
use crate::fleet::Depot;
use crate::kpi::StockLevel;
use crate::model::{DepotId, PartNumber, TicketId};
use crate::rules::PartRef;
use crate::tickets::PartLine;
use sqlx::any::AnyRow;

impl Db {
    /// Loads the fleet file's stock for depots and parts not yet known;
    /// stock already in the database (reserved since) is kept.
    pub async fn seed_stock(&self, depots: &[Depot]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for d in depots {
            for (part, qty) in &d.stock {
                sqlx::query(
                    "INSERT INTO depot_stock (depot_id, part, on_hand) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(d.id.as_str())
                .bind(part.as_str())
                .bind(i64::from(*qty))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn on_hand(&self, depot: &DepotId, part: &PartNumber) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT on_hand FROM depot_stock WHERE depot_id = $1 AND part = $2")
            .bind(depot.as_str())
            .bind(part.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map_or(Ok(0), |r| col(&r, "on_hand"))
    }

    /// Reserves `need` at the first depot (in the given order) holding
    /// enough, or records a parts request when none does. Idempotent per
    /// ticket and part: a second call returns the line already recorded.
    pub async fn reserve_part(
        &self,
        ticket: &TicketId,
        need: &PartRef,
        depots: &[(DepotId, f64)],
    ) -> Result<PartLine, DbError> {
        if let Some(line) = self.ticket_parts(ticket.as_str()).await?.into_iter().find(|l| l.part == need.part.as_str())
        {
            return Ok(line);
        }
        for (depot, km) in depots {
            let mut tx = self.pool.begin().await?;
            let taken = sqlx::query(
                "UPDATE depot_stock SET on_hand = on_hand - $1 WHERE depot_id = $2 AND part = $3 AND on_hand >= $1",
            )
            .bind(i64::from(need.qty))
            .bind(depot.as_str())
            .bind(need.part.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 1 {
                let note =
                    format!("reserved at {depot}, {km:.1} km away: the nearest depot with {} in stock", need.qty);
                return match insert_line(&mut tx, ticket, need, Some(depot), "reserved", note).await? {
                    Some(line) => {
                        tx.commit().await?;
                        Ok(line)
                    }
                    None => self.existing_line(ticket, need).await,
                };
            }
            tx.rollback().await?;
        }
        let mut tx = self.pool.begin().await?;
        let note = format!("no depot holds {} of {}: parts request raised", need.qty, need.part);
        match insert_line(&mut tx, ticket, need, None, "requested", note).await? {
            Some(line) => {
                tx.commit().await?;
                Ok(line)
            }
            None => self.existing_line(ticket, need).await,
        }
    }

    /// The line a concurrent call recorded first (its transaction was rolled back here).
    async fn existing_line(&self, ticket: &TicketId, need: &PartRef) -> Result<PartLine, DbError> {
        self.ticket_parts(ticket.as_str())
            .await?
            .into_iter()
            .find(|l| l.part == need.part.as_str())
            .ok_or_else(|| DbError::Corrupt(format!("part line {} of {ticket} vanished", need.part)))
    }

    pub async fn ticket_parts(&self, ticket: &str) -> Result<Vec<PartLine>, DbError> {
        let rows = sqlx::query(&format!("SELECT {PART_COLUMNS} FROM ticket_parts WHERE ticket_id = $1 ORDER BY part"))
            .bind(ticket)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(part_line_from_row).collect()
    }

    /// Units on hand of every part at every depot.
    pub async fn stock_levels(&self) -> Result<Vec<StockLevel>, DbError> {
        let rows = sqlx::query("SELECT depot_id, part, on_hand FROM depot_stock ORDER BY depot_id, part")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StockLevel {
                    depot: DepotId::new(col::<String>(r, "depot_id")?),
                    part: PartNumber::new(col::<String>(r, "part")?),
                    on_hand: col(r, "on_hand")?,
                })
            })
            .collect()
    }

    /// Records the summary of the parts decision on the ticket itself.
    pub async fn set_parts_note(&self, ticket: &TicketId, note: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE tickets SET parts_note = $1 WHERE id = $2")
            .bind(note)
            .bind(ticket.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Records the line; `None` when the ticket already has one for this part.
async fn insert_line(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &TicketId,
    need: &PartRef,
    depot: Option<&DepotId>,
    status: &str,
    note: String,
) -> Result<Option<PartLine>, DbError> {
    let inserted = sqlx::query(
        "INSERT INTO ticket_parts (ticket_id, part, qty, depot_id, status, note) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT DO NOTHING",
    )
    .bind(ticket.as_str())
    .bind(need.part.as_str())
    .bind(i64::from(need.qty))
    .bind(depot.map(|d| d.as_str()))
    .bind(status)
    .bind(&note)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok((inserted == 1).then(|| PartLine {
        part: need.part.to_string(),
        qty: i64::from(need.qty),
        depot_id: depot.map(|d| d.to_string()),
        status: status.to_owned(),
        note,
    }))
}

/// Returns a ticket's reserved parts to their depots (it was cancelled).
pub(crate) async fn release_reserved(tx: &mut sqlx::Transaction<'_, sqlx::Any>, ticket: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE depot_stock SET on_hand = on_hand + (SELECT p.qty FROM ticket_parts p WHERE p.ticket_id = $1 \
         AND p.part = depot_stock.part AND p.depot_id = depot_stock.depot_id AND p.status = 'reserved') \
         WHERE EXISTS (SELECT 1 FROM ticket_parts p WHERE p.ticket_id = $1 AND p.part = depot_stock.part \
         AND p.depot_id = depot_stock.depot_id AND p.status = 'reserved')",
    )
    .bind(ticket)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE ticket_parts SET status = 'released' WHERE ticket_id = $1 AND status = 'reserved'")
        .bind(ticket)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The columns `part_line_from_row` reads.
pub(crate) const PART_COLUMNS: &str = "part, qty, depot_id, status, note";

/// A `ticket_parts` row (`PART_COLUMNS`).
pub(crate) fn part_line_from_row(r: &AnyRow) -> Result<PartLine, DbError> {
    Ok(PartLine {
        part: col(r, "part")?,
        qty: col(r, "qty")?,
        depot_id: col(r, "depot_id")?,
        status: col(r, "status")?,
        note: col(r, "note")?,
    })
}
