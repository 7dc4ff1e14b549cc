//! The warranty position of a ticket's unit, from the asset file: in
//! warranty (no charge), out of warranty (a quote first), or excluded (a
//! recorded fact voids it: serial mismatch, unauthorised repair, misuse,
//! force majeure, damage). A core component failing in the first year
//! after installation, in warranty, is exchanged rather than repaired.

use super::remedy::Remedy;
use crate::fleet::Asset;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Warranty: "warranty" {
        InWarranty = "in_warranty",
        OutOfWarranty = "out_of_warranty",
        Excluded = "excluded",
        /// Not assessed: the unit is not in the registry, or the ticket predates assessment.
        Unknown = "unknown",
    }
}

/// The position and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub warranty: Warranty,
    pub note: String,
}

/// The warranty of `asset` for a fault detected `on` that day.
pub fn assess(asset: &Asset, on: NaiveDate) -> Assessment {
    let voiding = asset.exclusions.iter().filter(|x| x.date <= on).min_by_key(|x| x.date);
    if let Some(x) = voiding {
        let note = format!("warranty void: {:?} recorded on {} ({}); quote before work", x.kind, x.date, x.note);
        return Assessment { warranty: Warranty::Excluded, note };
    }
    if on > asset.warranty_until {
        let note = format!("warranty ended on {}; quote before work", asset.warranty_until);
        return Assessment { warranty: Warranty::OutOfWarranty, note };
    }
    Assessment {
        warranty: Warranty::InWarranty,
        note: format!("in warranty until {}: no charge", asset.warranty_until),
    }
}

/// What the warranty policy says about one fault.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The fault is of a core component (the rule says so).
    pub core: bool,
    /// A unit failing this soon after installation is refunded (0: never).
    pub refund_within: crate::model::Span,
}

/// The warranty's own remedy, when it has one: a unit failing within the
/// refund period after installation (dead on arrival) is refunded; a core
/// component failing within a year of installation is exchanged.
pub fn remedy(a: &Assessment, asset: &Asset, on: NaiveDate, policy: &Policy) -> Option<(Remedy, String)> {
    if a.warranty != Warranty::InWarranty {
        return None;
    }
    let days = (on - asset.installed).num_days();
    if days >= 0 && days * 86_400_000 < policy.refund_within.as_millis() {
        let note = format!(
            "failed {days} days after installation ({}), within the {} refund period: refund",
            asset.installed, policy.refund_within
        );
        return Some((Remedy::Refund, note));
    }
    let first_year_end = asset.installed.checked_add_months(Months::new(12))?;
    (policy.core && on <= first_year_end).then(|| {
        let note = format!(
            "core component failed within the first year (installed {}): exchange, not repair",
            asset.installed
        );
        (Remedy::Exchange, note)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{ExclusionKind, WarrantyExclusion};
    use crate::model::{AssetId, GeoPoint, ModelId, SiteId};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn asset(exclusions: Vec<WarrantyExclusion>) -> Asset {
        Asset {
            id: AssetId::new("CMP-1"),
            model: ModelId::new("screw_compressor"),
            serial: "C1".into(),
            customer: "Customer 1".into(),
            site: SiteId::new("LYO-1"),
            location: GeoPoint { lat: 45.7, lon: 4.8 },
            installed: date(2025, 3, 1),
            warranty_until: date(2027, 3, 1),
            history: Vec::new(),
            exclusions,
        }
    }

    fn excluded(kind: ExclusionKind, on: NaiveDate) -> WarrantyExclusion {
        WarrantyExclusion { kind, date: on, note: "recorded".into() }
    }

    #[test]
    fn warranty_cases() {
        use ExclusionKind::*;
        use Warranty::*;
        // (exclusions, fault day, core, expected warranty, expected remedy)
        let cases = [
            (vec![], date(2026, 1, 10), false, InWarranty, None),
            (vec![], date(2027, 3, 1), false, InWarranty, None), // the last day is covered
            (vec![], date(2027, 3, 2), false, OutOfWarranty, None),
            (vec![], date(2025, 12, 1), true, InWarranty, Some(Remedy::Exchange)), // core, first year
            (vec![], date(2026, 3, 1), true, InWarranty, Some(Remedy::Exchange)),  // exactly one year
            (vec![], date(2026, 3, 2), true, InWarranty, None),                    // core, second year: repaired
            (vec![], date(2027, 6, 1), true, OutOfWarranty, None),
            (vec![excluded(UnauthorisedRepair, date(2025, 9, 1))], date(2025, 10, 1), true, Excluded, None),
            (vec![excluded(SerialMismatch, date(2025, 9, 1))], date(2025, 10, 1), false, Excluded, None),
            (vec![excluded(Misuse, date(2025, 9, 1))], date(2025, 10, 1), false, Excluded, None),
            (vec![excluded(ForceMajeure, date(2025, 9, 1))], date(2025, 10, 1), false, Excluded, None),
            (vec![excluded(Damage, date(2025, 9, 1))], date(2025, 10, 1), false, Excluded, None),
            // A fact recorded after the fault does not void it retroactively.
            (vec![excluded(Misuse, date(2025, 11, 1))], date(2025, 10, 1), false, InWarranty, None),
            // Dead on arrival (installed 2025-03-01, 30-day refund period): refunded, core or not.
            (vec![], date(2025, 3, 15), false, InWarranty, Some(Remedy::Refund)),
            (vec![], date(2025, 3, 30), true, InWarranty, Some(Remedy::Refund)), // day 29
            (vec![], date(2025, 3, 31), true, InWarranty, Some(Remedy::Exchange)), // day 30: past it
            (vec![excluded(Misuse, date(2025, 3, 2))], date(2025, 3, 15), false, Excluded, None),
        ];
        for (i, (exclusions, on, core, warranty, expected)) in cases.into_iter().enumerate() {
            let a = asset(exclusions);
            let assessed = assess(&a, on);
            assert_eq!(assessed.warranty, warranty, "case {i}: {}", assessed.note);
            let policy = Policy { core, refund_within: crate::model::Span::from_hours(30 * 24) };
            assert_eq!(remedy(&assessed, &a, on, &policy).map(|r| r.0), expected, "case {i}");
        }
    }

    #[test]
    fn the_note_names_the_voiding_fact() {
        let a = asset(vec![excluded(ExclusionKind::UnauthorisedRepair, date(2025, 9, 1))]);
        let note = assess(&a, date(2026, 1, 1)).note;
        assert!(note.contains("UnauthorisedRepair") && note.contains("2025-09-01"), "{note}");
    }

    #[test]
    fn names_round_trip() {
        for w in Warranty::ALL {
            assert_eq!(w.as_str().parse::<Warranty>().unwrap(), w);
        }
    }
}
