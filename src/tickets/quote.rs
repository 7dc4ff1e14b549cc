//! Quotes for work the warranty does not cover (out of warranty, or
//! excluded): parts at list price, labour at the rate of the skill level the
//! repair needs, and travel. The customer accepts before the engineer sets
//! off (the store refuses `en_route` until then).

use super::store::{insert_event, lock, record_event, update_if, Event};
use super::EventKind;
use super::StoreError;
use super::TicketStore;
use crate::config::QuoteConfig;
use crate::model::{EpochMs, TicketId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub item: String,
    pub qty: f64,
    pub unit_price: f64,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: String,
    pub lines: Vec<QuoteLine>,
    pub total: f64,
}

/// What the quoted job needs.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// Part number, quantity and list price of each part.
    pub parts: &'a [(String, u32, f64)],
    /// The highest certified level the repair's skills ask for (1..=3).
    pub level: u8,
    /// The assigned engineer's travel to the site, one way.
    pub travel_minutes: f64,
}

fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn line(item: String, qty: f64, unit_price: f64) -> QuoteLine {
    QuoteLine { item, qty, unit_price, amount: round_cents(qty * unit_price) }
}

pub fn build(job: &Job<'_>, c: &QuoteConfig) -> Quote {
    let mut lines: Vec<QuoteLine> =
        job.parts.iter().map(|(part, qty, price)| line(format!("part {part}"), f64::from(*qty), *price)).collect();
    let level = usize::from(job.level.clamp(1, 3));
    let rate = c.labour_per_hour[level - 1];
    lines.push(line(format!("labour, skill level {level}"), c.repair_hours, rate));
    // There and back.
    let travel_hours = round_cents(2.0 * job.travel_minutes / 60.0);
    lines.push(line("travel (return)".into(), travel_hours, c.travel_per_hour));
    let total = round_cents(lines.iter().map(|l| l.amount).sum());
    Quote { currency: c.currency.clone(), lines, total }
}

impl TicketStore {
    pub async fn set_quote(&self, id: &TicketId, quote: &Quote, now: EpochMs) -> Result<(), StoreError> {
        let text = serde_json::to_string(quote).map_err(|e| crate::db::DbError::Corrupt(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE tickets SET quote = $1, quote_accepted_at = NULL, updated_at = $2 WHERE id = $3")
            .bind(&text)
            .bind(now)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let detail =
            format!("{:.2} {} (parts, labour, travel); to be accepted before work", quote.total, quote.currency);
        record_event(&mut tx, id, now, &Event::note(EventKind::Quoted, "engine", &detail)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The customer's acceptance of the ticket's quote (`NotFound` for no such ticket).
    pub async fn accept_quote(&self, id: &TicketId, actor: &str, now: EpochMs) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq = lock(&mut tx, id.as_str()).await?.seq;
        let sql = "UPDATE tickets SET quote_accepted_at = $1, updated_at = $1 WHERE id = $2 AND quote IS NOT NULL \
                   AND quote_accepted_at IS NULL";
        if !update_if(&mut tx, sql, now, id).await? {
            return Err(StoreError::NoQuoteToAccept(id.clone()));
        }
        insert_event(&mut tx, id, seq, now, &Event::note(EventKind::QuoteAccepted, actor, "")).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_is_parts_at_list_price_labour_at_the_level_rate_and_return_travel() {
        let c = QuoteConfig::default();
        let parts = [("BRG-6310".to_string(), 2, 84.5), ("SEAL-20".to_string(), 1, 19.99)];
        let q = build(&Job { parts: &parts, level: 2, travel_minutes: 45.0 }, &c);
        let amounts: Vec<f64> = q.lines.iter().map(|l| l.amount).collect();
        // 2 x 84.50; 1 x 19.99; 3 h x 80 (level 2); 1.5 h x 50 (45 min each way).
        assert_eq!(amounts, [169.0, 19.99, 240.0, 75.0]);
        assert_eq!(q.total, 503.99);
        assert_eq!(q.currency, "EUR");
        let senior = build(&Job { parts: &[], level: 3, travel_minutes: 0.0 }, &c);
        assert_eq!(senior.total, 3.0 * 100.0, "labour only, at the level-3 rate");
    }
}
