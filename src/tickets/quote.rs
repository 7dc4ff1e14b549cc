//! Quotes for work the warranty does not cover (out of warranty, or
//! excluded): parts at list price, labour at the rate of the skill level the
//! repair needs, and travel. The customer accepts before the engineer sets
//! off (the store refuses `en_route` until then).

use super::QuoteConfig;
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
