//! A reproducible synthetic fleet for the demo and tests: assets at customer
//! sites around cities, engineers on a three-shift rota covering every skill
//! the rules ask for, and depots stocked by ABC class.

use super::{
    Asset, Contact, CustomerContact, Depot, DepotClass, Engineer, ExclusionKind, FleetFile, Part, Shift, SiteContacts,
    WarrantyExclusion,
};
use crate::model::{AssetId, DepotId, EngineerId, GeoPoint, Language, PartNumber, Severity, SiteId, SkillName, Span};
use crate::rules::RuleSet;
use crate::sla::{Contract, ContractTier, SlaTier};
use chrono::{Duration, NaiveDate, NaiveTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};

/// Cities the synthetic region is built around (name, lat, lon).
pub const CITIES: [(&str, f64, f64); 12] = [
    ("Berlin", 52.52, 13.40),
    ("Hamburg", 53.55, 9.99),
    ("Munich", 48.14, 11.58),
    ("Cologne", 50.94, 6.96),
    ("Frankfurt", 50.11, 8.68),
    ("Stuttgart", 48.78, 9.18),
    ("Dusseldorf", 51.23, 6.77),
    ("Leipzig", 51.34, 12.37),
    ("Dortmund", 51.51, 7.47),
    ("Bremen", 53.08, 8.80),
    ("Dresden", 51.05, 13.74),
    ("Nuremberg", 49.45, 11.08),
];

#[derive(Debug, Clone, Copy)]
pub struct FleetSpec {
    pub assets: usize,
    pub seed: u64,
}

pub fn generate(rules: &RuleSet, spec: FleetSpec) -> FleetFile {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let models = rules.sorted_models();
    let mut per_model = vec![0usize; models.len()];
    let assets: Vec<Asset> = (0..spec.assets)
        .map(|i| {
            let m = i % models.len().max(1);
            per_model[m] += 1;
            asset(&mut rng, &models[m].model, &models[m].asset_prefix, per_model[m])
        })
        .collect();
    let skills: BTreeSet<SkillName> =
        models.iter().flat_map(|m| m.rules.iter().flat_map(|r| r.skills.keys().cloned())).collect();
    let part_numbers: BTreeSet<PartNumber> =
        models.iter().flat_map(|m| m.rules.iter().flat_map(|r| r.parts.iter().map(|p| p.part.clone()))).collect();
    let parts: Vec<Part> = part_numbers.into_iter().enumerate().map(|(i, n)| part(i, n)).collect();
    let engineers = (0..(spec.assets / 8).max(12)).map(|i| engineer(&mut rng, i, &skills)).collect();
    let depots = depots(&mut rng, &parts);
    let (sites, customers) = contacts(&assets);
    FleetFile { assets, engineers, depots, parts, contracts: contracts(), sites, customers }
}

/// Someone of the synthetic fleet: an address under `example.com` (never
/// delivered anywhere real); one in three reads Chinese, at UTC+8.
fn contact(name: String, mailbox: &str, i: usize) -> Contact {
    let chinese = i % 3 == 1;
    Contact {
        name,
        email: Some(format!("{mailbox}@example.com")),
        language: if chinese { Language::ZhCn } else { Language::En },
        utc_offset_minutes: if chinese { 480 } else { 60 },
    }
}

/// A supervisor for every site and a contact for every customer of `assets`.
fn contacts(assets: &[Asset]) -> (Vec<SiteContacts>, Vec<CustomerContact>) {
    let sites: BTreeSet<&SiteId> = assets.iter().map(|a| &a.site).collect();
    let customers: BTreeSet<&str> = assets.iter().map(|a| a.customer.as_str()).collect();
    let supervisor = |(i, site): (usize, &SiteId)| SiteContacts {
        site: site.clone(),
        supervisor: contact(format!("Supervisor {site}"), &format!("supervisor-{}", site.as_str().to_lowercase()), i),
    };
    let customer = |(i, name): (usize, &str)| CustomerContact {
        customer: name.to_owned(),
        contact: contact(format!("{name} service desk"), &name.to_lowercase().replace(' ', "-"), i),
    };
    (sites.into_iter().enumerate().map(supervisor).collect(), customers.into_iter().enumerate().map(customer).collect())
}

/// Every fourth customer has a contract: a `platinum` emergency tier
/// faster than the standard one, and its general faults handled in office
/// hours.
fn contracts() -> Vec<Contract> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let tier = |name: &str, r, o, res, calendar: &str| ContractTier {
        name: name.into(),
        sla: SlaTier {
            response: Span::from_mins(r),
            on_site: Span::from_hours(o),
            resolution: Span::from_hours(res),
            calendar: calendar.into(),
        },
    };
    (1..=10)
        .map(|i| Contract {
            id: format!("CT-{i:04}"),
            customer: format!("Customer {}", 4 * i),
            from: day(2025, 1, 1),
            until: day(2027, 12, 31),
            tiers: BTreeMap::from([
                (Severity::Emergency, tier("platinum", 30, 4, 12, crate::sla::ROUND_THE_CLOCK)),
                (Severity::General, tier("office hours", 240, 16, 40, "business_hours")),
            ]),
        })
        .collect()
}

fn near(rng: &mut StdRng, city: usize, spread: f64) -> GeoPoint {
    let (_, lat, lon) = CITIES[city % CITIES.len()];
    GeoPoint { lat: lat + rng.random_range(-spread..spread), lon: lon + rng.random_range(-spread..spread) }
}

fn asset(rng: &mut StdRng, model: &crate::model::ModelId, prefix: &str, n: usize) -> Asset {
    let city = rng.random_range(0..CITIES.len());
    let installed = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default() + Duration::days(rng.random_range(0..1400));
    Asset {
        id: AssetId::new(format!("{prefix}-{n:04}")),
        model: model.clone(),
        serial: format!("{prefix}{:08}", rng.random_range(0..100_000_000u32)),
        customer: format!("Customer {}", rng.random_range(1..=40)),
        site: SiteId::new(format!("{}-{:02}", &CITIES[city].0[..3].to_uppercase(), rng.random_range(1..=9))),
        location: near(rng, city, 0.3),
        installed,
        warranty_until: installed + Duration::days(2 * 365),
        history: Vec::new(),
        exclusions: exclusions(n, installed),
    }
}

/// One asset in 29 has had an unauthorised repair (which voids its
/// warranty). Derived from the index, not the random stream, so the rest of
/// a fleet generated from a seed stays the same.
fn exclusions(n: usize, installed: NaiveDate) -> Vec<WarrantyExclusion> {
    if n % 29 != 7 {
        return Vec::new();
    }
    let date = installed + Duration::days(180);
    vec![WarrantyExclusion { kind: ExclusionKind::UnauthorisedRepair, date, note: "repaired by a third party".into() }]
}

/// Three 8-hour shifts, seven days a week (a rota); every fourth engineer is
/// a senior holding every skill at level 3, so each shift covers all skills.
/// One in 25 seniors' slots is the flying team (kept for emergencies).
fn engineer(rng: &mut StdRng, i: usize, skills: &BTreeSet<SkillName>) -> Engineer {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let (start, end) = [(t(6), t(14)), (t(14), t(22)), (t(22), t(6))][i % 3];
    let senior = i % 4 == 0;
    let mut held = BTreeMap::new();
    for s in skills {
        if senior || rng.random_bool(0.6) {
            held.insert(s.clone(), if senior { 3 } else { rng.random_range(1..=3) });
        }
    }
    Engineer {
        id: EngineerId::new(format!("ENG-{:03}", i + 1)),
        name: format!("Engineer {}", i + 1),
        base: near(rng, i / 3, 0.2),
        skills: held,
        shift: Shift::every_day(start, end),
        capacity: 4,
        days_off: Vec::new(),
        flying: i % 25 == 12,
        position: None,
        contact: Some(contact(format!("Engineer {}", i + 1), &format!("eng-{:03}", i + 1), i)),
    }
}

fn part(i: usize, number: PartNumber) -> Part {
    let class = [DepotClass::A, DepotClass::B, DepotClass::C][i % 3];
    Part {
        description: format!("spare part {number}"),
        number,
        class,
        list_price: [480.0, 120.0, 35.0][i % 3],
        safety_stock: [2, 3, 5][i % 3],
        lead_time_days: [7, 3, 2][i % 3],
    }
}

/// Regional centres (A) in five cities, city service points (B) in the
/// others, one central depot (C) holding every part.
fn depots(rng: &mut StdRng, parts: &[Part]) -> Vec<Depot> {
    let mut out = Vec::new();
    for (i, (city, _, _)) in CITIES.iter().enumerate() {
        let class = if i < 5 { DepotClass::A } else { DepotClass::B };
        let stock: BTreeMap<PartNumber, u32> =
            parts.iter().filter(|p| p.class == class).map(|p| (p.number.clone(), rng.random_range(4..=10))).collect();
        out.push(Depot {
            id: DepotId::new(format!("DEP-{}", &city[..3].to_uppercase())),
            name: format!("{city} {}", if class == DepotClass::A { "regional centre" } else { "service point" }),
            class,
            location: near(rng, i, 0.05),
            stock,
        });
    }
    out.push(Depot {
        id: DepotId::new("DEP-CENTRAL"),
        name: "Central warehouse (Kassel)".into(),
        class: DepotClass::C,
        location: GeoPoint { lat: 51.31, lon: 9.48 },
        stock: parts.iter().map(|p| (p.number.clone(), 40)).collect(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Fleet;

    fn rules() -> RuleSet {
        crate::rules::shipped()
    }

    #[test]
    fn the_same_seed_gives_the_same_fleet() {
        let a = serde_json::to_string(&generate(&rules(), FleetSpec { assets: 50, seed: 3 })).unwrap();
        let b = serde_json::to_string(&generate(&rules(), FleetSpec { assets: 50, seed: 3 })).unwrap();
        let c = serde_json::to_string(&generate(&rules(), FleetSpec { assets: 50, seed: 4 })).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn every_model_every_skill_and_every_part_is_covered() {
        let rules = rules();
        let f = Fleet::new(generate(&rules, FleetSpec { assets: 100, seed: 1 })).unwrap();
        let models: BTreeSet<_> = f.assets().iter().map(|a| a.model.clone()).collect();
        assert_eq!(models.len(), rules.models.len());
        for m in rules.models.values() {
            for r in &m.rules {
                for (skill, level) in &r.skills {
                    for shift in 0..3 {
                        let covered =
                            f.engineers().iter().skip(shift).step_by(3).any(|e| e.skills.get(skill) >= Some(level));
                        assert!(covered, "{skill} L{level} in shift {shift}");
                    }
                }
                for p in &r.parts {
                    assert!(f.depots().iter().any(|d| d.stock.get(&p.part).is_some_and(|q| *q >= p.qty)), "{}", p.part);
                }
            }
        }
    }
}
