//! Parts logistics: when each depot could get a part to a site (handling
//! at the depot plus the road), the reservation note that says whether it
//! makes the on-site deadline or comes by transfer from a farther depot,
//! and replenishment suggestions for stock below its safety level: lend
//! from a depot with surplus, else purchase.

use super::Dispatcher;
use super::StockLevel;
use crate::fleet::Fleet;
use crate::model::{DepotId, EpochMs, GeoPoint, PartNumber};
use serde::Serialize;
use std::collections::HashMap;

/// A depot that could send parts to a site, and when they would be there.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub depot: DepotId,
    pub km: f64,
    pub eta: EpochMs,
}

impl Dispatcher {
    /// Every depot with the arrival at `site` of a part leaving after
    /// `parts_handling`, soonest first (the nearest depot first).
    pub fn deliveries(&self, site: &GeoPoint, at: EpochMs) -> Vec<Delivery> {
        let handling = self.config.parts_handling.as_millis();
        let mut v: Vec<Delivery> = self
            .fleet
            .depots()
            .iter()
            .map(|d| {
                let km = d.location.distance_km(site);
                let travel = (self.minutes_for_km(km) * 60_000.0) as EpochMs;
                Delivery { depot: d.id.clone(), km, eta: at + handling + travel }
            })
            .collect();
        v.sort_by_key(|d| d.eta);
        v
    }
}

/// Why the part comes from `deliveries[i]`, when, and whether in time.
pub fn reservation_note(deliveries: &[Delivery], i: usize, qty: u32, on_site_due: EpochMs) -> String {
    let d = &deliveries[i];
    let source = if i == 0 {
        format!("reserved at {}, {:.1} km away, the nearest depot", d.depot, d.km)
    } else {
        format!("transfer from {} ({:.1} km away): the {i} nearer depot(s) hold fewer than {qty}", d.depot, d.km)
    };
    let timing = if d.eta <= on_site_due {
        format!("on site by {}, before the on-site deadline", clock(d.eta))
    } else {
        let late = (d.eta - on_site_due) as f64 / 3_600_000.0;
        format!("on site by {}, {late:.1} h after the on-site deadline: expedite", clock(d.eta))
    };
    format!("{source}; {timing}")
}

/// The note of a purchase request.
pub fn purchase_note(part: &PartNumber, qty: u32, eta: EpochMs, lead_time_days: u32) -> String {
    format!(
        "no depot holds {qty} of {part}: purchase request raised, supplier lead time {lead_time_days} d, expected {}",
        clock(eta)
    )
}

fn clock(t: EpochMs) -> String {
    chrono::DateTime::from_timestamp_millis(t)
        .map_or_else(|| t.to_string(), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// What to do about one depot's part below its safety stock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replenishment {
    pub depot: DepotId,
    pub part: PartNumber,
    pub on_hand: i64,
    pub safety_stock: i64,
    /// Units that bring it back to twice the safety stock (the order-up-to level).
    pub quantity: i64,
    pub action: Restock,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Restock {
    /// Lend idle stock: the nearest depot whose surplus above its own safety stock covers the quantity.
    Transfer {
        from: DepotId,
        km: f64,
        from_on_hand: i64,
    },
    Purchase {
        lead_time_days: u32,
        cost: f64,
    },
}

/// Suggestions for every (depot, part) below the part's safety stock, most
/// urgent (furthest below) first.
pub fn replenishment(fleet: &Fleet, levels: &[StockLevel]) -> Vec<Replenishment> {
    let catalogue: HashMap<&PartNumber, _> = fleet.file().parts.iter().map(|p| (&p.number, p)).collect();
    let location: HashMap<&DepotId, GeoPoint> = fleet.depots().iter().map(|d| (&d.id, d.location)).collect();
    let safety = |l: &StockLevel| catalogue.get(&l.part).map(|p| i64::from(p.safety_stock));
    let mut short: Vec<&StockLevel> = levels.iter().filter(|l| safety(l).is_some_and(|s| l.on_hand < s)).collect();
    short.sort_by_key(|l| (l.on_hand - safety(l).unwrap_or(0), &l.depot, &l.part));
    // Units already promised by a lender: its surplus is lent only once.
    let mut lent: HashMap<(&DepotId, &PartNumber), i64> = HashMap::new();
    let mut out = Vec::with_capacity(short.len());
    for l in short {
        let (Some(part), Some(here)) = (catalogue.get(&l.part), location.get(&l.depot)) else { continue };
        let safety_stock = i64::from(part.safety_stock);
        let quantity = 2 * safety_stock - l.on_hand;
        let spare = |o: &StockLevel| o.on_hand - safety_stock - lent.get(&(&o.depot, &o.part)).copied().unwrap_or(0);
        let lender = levels
            .iter()
            .filter(|o| o.part == l.part && o.depot != l.depot && spare(o) >= quantity)
            .filter_map(|o| Some((o, location.get(&o.depot)?.distance_km(here))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let action = match lender {
            Some((o, km)) => {
                *lent.entry((&o.depot, &o.part)).or_insert(0) += quantity;
                Restock::Transfer { from: o.depot.clone(), km, from_on_hand: o.on_hand }
            }
            None => Restock::Purchase { lead_time_days: part.lead_time_days, cost: part.list_price * quantity as f64 },
        };
        let (depot, number) = (l.depot.clone(), l.part.clone());
        out.push(Replenishment { depot, part: number, on_hand: l.on_hand, safety_stock, quantity, action });
    }
    out
}
