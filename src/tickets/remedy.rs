//! Repeat repairs: the same fault repaired `repeat_limit` times on one unit
//! (3 in the after-sales brief) makes the next ticket recommend an exchange
//! or a refund instead of another repair.

use crate::model::{AssetId, EpochMs, FaultCode, TicketKind};
use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Remedy: "remedy" {
        Repair = "repair",
        /// Exchange the unit (warranty: a core component failed in its first year).
        Exchange = "exchange",
        /// Exchange the unit or refund it, per the customer's policy (repeat repairs).
        ExchangeOrRefund = "exchange_or_refund",
        /// Refund the unit (warranty: it failed within the refund period after installation).
        Refund = "refund",
    }
}

/// The remedy for a new ticket given the earlier repairs of the same fault
/// on the same unit (their dates), and why.
pub fn decide(kind: TicketKind, asset: &AssetId, fault: &FaultCode, prior: &[EpochMs], limit: u32) -> (Remedy, String) {
    if kind != TicketKind::Repair || limit == 0 || prior.len() < limit as usize {
        return (Remedy::Repair, String::new());
    }
    let mut dates: Vec<String> = prior
        .iter()
        .map(|&t| {
            chrono::DateTime::from_timestamp_millis(t).map_or_else(|| t.to_string(), |d| d.date_naive().to_string())
        })
        .collect();
    dates.sort();
    let note = format!(
        "{fault} already repaired {} times on {asset} ({}): recommend exchange or refund instead of another repair",
        prior.len(),
        dates.join(", ")
    );
    (Remedy::ExchangeOrRefund, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn the_limit_th_repeat_turns_the_next_ticket_into_an_exchange() {
        let (asset, fault) = (AssetId::new("PMP-1"), FaultCode::new("BEARING_WEAR"));
        let decide =
            |n: i64, kind, limit| decide(kind, &asset, &fault, &(1..=n).map(|i| i * DAY).collect::<Vec<_>>(), limit);
        assert_eq!(decide(0, TicketKind::Repair, 3).0, Remedy::Repair);
        assert_eq!(decide(2, TicketKind::Repair, 3).0, Remedy::Repair);
        let (remedy, note) = decide(3, TicketKind::Repair, 3);
        assert_eq!(remedy, Remedy::ExchangeOrRefund);
        assert!(note.contains("3 times") && note.contains("1970-01-02") && note.contains("PMP-1"), "{note}");
        assert_eq!(decide(5, TicketKind::Repair, 3).0, Remedy::ExchangeOrRefund);
        assert_eq!(decide(2, TicketKind::Repair, 2).0, Remedy::ExchangeOrRefund, "the limit is configurable");
        assert_eq!(decide(9, TicketKind::SensorCheck, 3).0, Remedy::Repair, "sensor checks are not repairs");
        assert_eq!(decide(9, TicketKind::Repair, 0).0, Remedy::Repair, "0 turns the rule off");
    }

    #[test]
    fn names_round_trip() {
        for r in [Remedy::Repair, Remedy::Exchange, Remedy::ExchangeOrRefund] {
            assert_eq!(r.as_str().parse::<Remedy>().unwrap(), r);
        }
    }
}
