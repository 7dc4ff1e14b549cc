//! A reproducible dispatch scenario: one day of tickets in a region
//! (Germany's twelve largest service cities), the engineers, the flying
//! team and the depots with stock. Everything follows from the seed.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use upkeep::config::SlaConfig;
use upkeep::dispatch::Need;
use upkeep::fleet::{Depot, DepotClass, Engineer, FleetFile, Part, Shift, CITIES};
use upkeep::model::{DepotId, EngineerId, EpochMs, GeoPoint, PartNumber, Severity, SkillName};

const SKILLS: [&str; 6] = ["mechanical", "electrical", "hydraulics", "refrigeration", "controls", "lifts"];
const PARTS: usize = 30;

/// One ticket of the day.
#[derive(Debug, Clone)]
pub struct ScenarioTicket {
    pub at: EpochMs,
    pub site: GeoPoint,
    pub severity: Severity,
    pub skills: BTreeMap<SkillName, u8>,
    pub parts: Vec<(PartNumber, u32)>,
    pub on_site_due: EpochMs,
    /// Part of the alarm storm.
    pub storm: bool,
}

impl ScenarioTicket {
    /// What the dispatcher is asked for this ticket.
    pub fn need(&self) -> Need<'_> {
        Need {
            site: self.site,
            skills: &self.skills,
            severity: self.severity,
            at: self.at,
            on_site_due: self.on_site_due,
            excluded: &[],
        }
    }
}

pub struct Scenario {
    pub fleet: FleetFile,
    /// In time order.
    pub tickets: Vec<ScenarioTicket>,
}

/// The day played: a Monday, so weekday shifts and weekend days off matter.
pub fn day_start() -> EpochMs {
    Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).single().map_or(0, |t| t.timestamp_millis())
}

/// `engineers` engineers (2% of them the flying team), about one ticket
/// per three engineers over the day, a fifth of them in a one-hour storm
/// around one city.
pub fn generate(seed: u64, engineers: usize, sla: &SlaConfig) -> Scenario {
    let mut rng = StdRng::seed_from_u64(seed);
    let parts: Vec<Part> = (0..PARTS).map(part).collect();
    let engineers: Vec<Engineer> = (0..engineers).map(|i| engineer(&mut rng, i)).collect();
    let depots = depots(&mut rng, &parts, (engineers.len() / 250).max(1) as u32);
    let count = (engineers.len() * 3 / 5).max(10);
    let storm_city = rng.random_range(0..CITIES.len());
    let storm_at = day_start() + rng.random_range(8..18) * 3_600_000;
    let mut tickets: Vec<ScenarioTicket> =
        (0..count).map(|i| ticket(&mut rng, i % 10 < 3, storm_city, storm_at, sla)).collect();
    tickets.sort_by_key(|t| t.at);
    Scenario {
        fleet: FleetFile {
            assets: Vec::new(),
            engineers,
            depots,
            parts,
            contracts: Vec::new(),
            sites: Vec::new(),
            customers: Vec::new(),
        },
        tickets,
    }
}

fn near(rng: &mut StdRng, city: usize, spread: f64) -> GeoPoint {
    let (_, lat, lon) = CITIES[city % CITIES.len()];
    GeoPoint { lat: lat + rng.random_range(-spread..spread), lon: lon + rng.random_range(-spread..spread) }
}

fn skill_set(rng: &mut StdRng, count: usize, max_level: u8) -> BTreeMap<SkillName, u8> {
    (0..count)
        .map(|_| (SkillName::new(SKILLS[rng.random_range(0..SKILLS.len())]), rng.random_range(1..=max_level)))
        .collect()
}

/// Day shifts on weekdays (60%), a late rota (25%), a night rota (15%);
/// one random day off this week for a tenth of them. Every 50th is the
/// flying team: every skill at level 3, on call round the clock.
fn engineer(rng: &mut StdRng, i: usize) -> Engineer {
    use Weekday::*;
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let flying = i % 50 == 49;
    let shift = if flying {
        Shift::every_day(t(0), t(0))
    } else {
        match rng.random_range(0..20) {
            0..12 => Shift { days: vec![Mon, Tue, Wed, Thu, Fri], start: t(8), end: t(16) },
            12..17 => Shift::every_day(t(14), t(22)),
            _ => Shift::every_day(t(22), t(6)),
        }
    };
    let skills = if flying {
        SKILLS.iter().map(|s| (SkillName::new(*s), 3)).collect()
    } else {
        let count = rng.random_range(2..=4);
        skill_set(rng, count, 3)
    };
    let city = rng.random_range(0..CITIES.len());
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default() + Duration::days(rng.random_range(0..7));
    Engineer {
        id: EngineerId::new(format!("E{:05}", i + 1)),
        name: format!("Engineer {}", i + 1),
        base: near(rng, city, 0.4),
        skills,
        shift,
        capacity: rng.random_range(2..=4),
        days_off: if rng.random_bool(0.1) { vec![day] } else { Vec::new() },
        flying,
        position: None,
        contact: None,
    }
}

fn part(i: usize) -> Part {
    let class = [DepotClass::A, DepotClass::B, DepotClass::C][i % 3];
    Part {
        number: PartNumber::new(format!("P-{i:03}")),
        description: format!("part {i}"),
        class,
        list_price: [400.0, 90.0, 20.0][i % 3],
        safety_stock: [2, 3, 5][i % 3],
        lead_time_days: [5, 3, 2][i % 3],
    }
}

/// Regional centres (A parts) in five cities, service points (B) in the
/// rest, a central warehouse (all classes, C only there). Stock grows with
/// the region (`scale` per 250 engineers).
fn depots(rng: &mut StdRng, parts: &[Part], scale: u32) -> Vec<Depot> {
    let mut out: Vec<Depot> = CITIES
        .iter()
        .enumerate()
        .map(|(i, (city, _, _))| {
            let class = if i < 5 { DepotClass::A } else { DepotClass::B };
            let mut stock = BTreeMap::new();
            for p in parts.iter().filter(|p| p.class == class) {
                if rng.random_bool(0.8) {
                    stock.insert(p.number.clone(), scale * rng.random_range(0..=6));
                }
            }
            Depot {
                id: DepotId::new(format!("D-{city}")),
                name: city.to_string(),
                class,
                location: near(rng, i, 0.05),
                stock,
            }
        })
        .collect();
    out.push(Depot {
        id: DepotId::new("D-CENTRAL"),
        name: "Central warehouse".into(),
        class: DepotClass::C,
        location: GeoPoint { lat: 51.31, lon: 9.48 },
        stock: parts.iter().map(|p| (p.number.clone(), scale * rng.random_range(5..=30))).collect(),
    });
    out
}

fn ticket(rng: &mut StdRng, storm: bool, storm_city: usize, storm_at: EpochMs, sla: &SlaConfig) -> ScenarioTicket {
    let (at, city) = if storm {
        (storm_at + rng.random_range(0..3_600_000), storm_city)
    } else {
        (day_start() + rng.random_range(0..86_400_000), rng.random_range(0..CITIES.len()))
    };
    // A storm is a heatwave on chillers: emergencies and majors that all need refrigeration.
    let severity = match rng.random_range(0..10) + if storm { 0 } else { 2 } {
        0..3 => Severity::Emergency,
        3..6 => Severity::Major,
        _ => Severity::General,
    };
    let skill_count = rng.random_range(1..=2);
    let mut skills = skill_set(rng, skill_count, 3);
    if storm {
        skills.insert(SkillName::new("refrigeration"), rng.random_range(1..=2));
    }
    let parts = (0..rng.random_range(0..=2))
        .map(|_| (part(rng.random_range(0..PARTS)).number, rng.random_range(1..=2)))
        .collect();
    ScenarioTicket {
        at,
        site: near(rng, city, 0.5),
        severity,
        skills,
        parts,
        on_site_due: at + sla.tier(severity).on_site.as_millis(),
        storm,
    }
}
