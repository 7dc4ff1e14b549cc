//! Parts stock per depot, and reservations that can never oversell: a unit
//! is taken by one conditional UPDATE, so two tickets racing for the last
//! unit cannot both get it (on SQLite and PostgreSQL alike).

use super::{purchase_note, reservation_note, Delivery};
use crate::db::{col, DbError};
use crate::fleet::Depot;
use crate::model::{DepotId, EpochMs, PartNumber, TicketId};
use crate::rules::PartRef;

crate::db::store!(
    /// Depot stock: seeded from the fleet file and read (reservations are
    /// written inside a ticket's opening, by `reserve`).
    StockStore,
    stock
);

impl StockStore {
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
}

crate::db::record! {
    /// One part of a ticket: reserved at a depot or requested, then used or released.
    #[derive(Debug, Clone, PartialEq, serde::Serialize)]
    pub struct PartLine {
        pub part: String,
        pub qty: i64,
        pub depot_id: Option<String>,
        pub status: PartStatus,
        pub note: String,
        /// When the parts are expected on site.
        pub eta: Option<EpochMs>,
        /// When they arrived on site, as recorded.
        pub arrived_at: Option<EpochMs>,
    }
}

crate::db::text_column!(PartStatus);

/// Units on hand of one part at one depot.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLevel {
    pub depot: DepotId,
    pub part: PartNumber,
    pub on_hand: i64,
}

crate::model::named_enum! {
    /// Where a ticket's part line stands.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum PartStatus: "part status" {
        /// Taken from a depot's stock for the ticket.
        Reserved = "reserved",
        /// No depot had it: ordered, arriving by its ETA.
        Requested = "requested",
        /// Back in stock (the ticket was cancelled or the part not used).
        Released = "released",
        /// Used in the repair (the service report says so).
        Consumed = "consumed",
    }
}

/// A part line about to be recorded.
struct Line<'a> {
    depot: Option<&'a DepotId>,
    status: PartStatus,
    note: String,
    eta: EpochMs,
}

/// Reserves `need` for `ticket` at the first depot of `deliveries` (soonest
/// first) holding enough, noting when it arrives against `on_site_due`; or
/// records a purchase request expected at `purchase` (ETA, lead days) when
/// none does. Runs inside the opening's transaction: a depot short of stock
/// is left untouched by its conditional UPDATE, and an opening that does not
/// commit takes nothing.
pub(crate) async fn reserve(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &TicketId,
    need: &PartRef,
    deliveries: &[Delivery],
    on_site_due: EpochMs,
    purchase: (EpochMs, u32),
) -> Result<PartLine, DbError> {
    for (i, d) in deliveries.iter().enumerate() {
        let taken = sqlx::query(
            "UPDATE depot_stock SET on_hand = on_hand - $1 WHERE depot_id = $2 AND part = $3 AND on_hand >= $1",
        )
        .bind(i64::from(need.qty))
        .bind(d.depot.as_str())
        .bind(need.part.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if taken == 1 {
            let note = reservation_note(deliveries, i, need.qty, on_site_due);
            return insert_line(
                tx,
                ticket,
                need,
                Line { depot: Some(&d.depot), status: PartStatus::Reserved, note, eta: d.eta },
            )
            .await;
        }
    }
    let (eta, lead_days) = purchase;
    let note = purchase_note(&need.part, need.qty, eta, lead_days);
    insert_line(tx, ticket, need, Line { depot: None, status: PartStatus::Requested, note, eta }).await
}

/// Records the summary of the parts decision on the ticket itself.
pub(crate) async fn set_parts_note(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &TicketId,
    note: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE tickets SET parts_note = $1 WHERE id = $2")
        .bind(note)
        .bind(ticket.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records the line (one per ticket and part: the primary key refuses a second).
async fn insert_line(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &TicketId,
    need: &PartRef,
    line: Line<'_>,
) -> Result<PartLine, DbError> {
    sqlx::query(
        "INSERT INTO ticket_parts (ticket_id, part, qty, depot_id, status, note, eta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ticket.as_str())
    .bind(need.part.as_str())
    .bind(i64::from(need.qty))
    .bind(line.depot.map(|d| d.as_str()))
    .bind(line.status.as_str())
    .bind(&line.note)
    .bind(line.eta)
    .execute(&mut **tx)
    .await?;
    Ok(PartLine {
        part: need.part.to_string(),
        qty: i64::from(need.qty),
        depot_id: line.depot.map(|d| d.to_string()),
        status: line.status,
        note: line.note,
        eta: Some(line.eta),
        arrived_at: None,
    })
}

/// Returns a ticket's reserved parts to their depots (cancelled, or not used).
pub(crate) async fn release_reserved(tx: &mut sqlx::Transaction<'_, sqlx::Any>, ticket: &str) -> Result<(), DbError> {
    let reserved = PartStatus::Reserved.sql();
    sqlx::query(&format!(
        "UPDATE depot_stock SET on_hand = on_hand + (SELECT p.qty FROM ticket_parts p WHERE p.ticket_id = $1 \
         AND p.part = depot_stock.part AND p.depot_id = depot_stock.depot_id AND p.status = {reserved}) \
         WHERE EXISTS (SELECT 1 FROM ticket_parts p WHERE p.ticket_id = $1 AND p.part = depot_stock.part \
         AND p.depot_id = depot_stock.depot_id AND p.status = {reserved})"
    ))
    .bind(ticket)
    .execute(&mut **tx)
    .await?;
    set_reserved(tx, ticket, None, PartStatus::Released).await
}

/// Marks the ticket's reserved `parts` used in the repair.
pub(crate) async fn consume_reserved(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &str,
    parts: &[String],
) -> Result<(), DbError> {
    for part in parts {
        set_reserved(tx, ticket, Some(part), PartStatus::Consumed).await?;
    }
    Ok(())
}

/// Moves the ticket's reserved lines (of `part`, or all) to `to`.
async fn set_reserved(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ticket: &str,
    part: Option<&str>,
    to: PartStatus,
) -> Result<(), DbError> {
    let of_part = if part.is_some() { " AND part = $3" } else { "" };
    let sql = format!(
        "UPDATE ticket_parts SET status = $1 WHERE ticket_id = $2 AND status = {}{of_part}",
        PartStatus::Reserved.sql()
    );
    let query = sqlx::query(&sql).bind(to.as_str()).bind(ticket);
    match part {
        Some(p) => query.bind(p).execute(&mut **tx).await?,
        None => query.execute(&mut **tx).await?,
    };
    Ok(())
}

/// The ticket's parts lines, by part.
pub(crate) async fn part_lines(pool: &sqlx::AnyPool, ticket: &str) -> Result<Vec<PartLine>, DbError> {
    let rows =
        sqlx::query(&format!("SELECT {} FROM ticket_parts WHERE ticket_id = $1 ORDER BY part", PartLine::columns()))
            .bind(ticket)
            .fetch_all(pool)
            .await?;
    rows.iter().map(crate::db::from_row).collect()
}
