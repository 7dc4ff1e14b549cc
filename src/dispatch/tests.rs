use super::*;
use crate::fleet::{Depot, DepotClass, FleetFile, Shift};
use chrono::{NaiveTime, TimeZone, Utc};

fn engineer(id: &str, lat: f64, skills: &[(&str, u8)], hours: (u32, u32), capacity: u32) -> Engineer {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    Engineer {
        id: EngineerId::new(id),
        name: id.to_owned(),
        base: GeoPoint { lat, lon: 10.0 },
        skills: skills.iter().map(|(s, l)| (SkillName::new(s), *l)).collect(),
        shift: Shift::every_day(t(hours.0), t(hours.1)),
        capacity,
    }
}

fn dispatcher(engineers: Vec<Engineer>) -> Dispatcher {
    let depot = |id: &str, lat: f64| Depot {
        id: DepotId::new(id),
        name: id.into(),
        class: DepotClass::B,
        location: GeoPoint { lat, lon: 10.0 },
        stock: BTreeMap::new(),
    };
    let file =
        FleetFile { assets: vec![], engineers, depots: vec![depot("far", 52.0), depot("near", 50.1)], parts: vec![] };
    Dispatcher::new(Arc::new(Fleet::new(file).unwrap()), DispatchConfig { road_factor: 1.3, speed_kmh: 60.0 })
}

fn noon() -> EpochMs {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap().timestamp_millis()
}

fn need(skills: &BTreeMap<SkillName, u8>, hours_to_deadline: i64) -> Need<'_> {
    Need {
        site: GeoPoint { lat: 50.0, lon: 10.0 },
        skills,
        at: noon(),
        on_site_due: noon() + hours_to_deadline * 3_600_000,
    }
}

fn skills(list: &[(&str, u8)]) -> BTreeMap<SkillName, u8> {
    list.iter().map(|(s, l)| (SkillName::new(s), *l)).collect()
}

#[test]
fn the_nearest_engineer_with_every_skill_at_level_wins() {
    let d = dispatcher(vec![
        engineer("close-junior", 50.05, &[("mechanical", 1)], (0, 23), 3),
        engineer("mid-qualified", 50.5, &[("mechanical", 2), ("hydraulics", 2)], (0, 23), 3),
        engineer("far-qualified", 51.5, &[("mechanical", 3), ("hydraulics", 3)], (0, 23), 3),
    ]);
    let need_skills = skills(&[("mechanical", 2), ("hydraulics", 1)]);
    let c = d.choose(need(&need_skills, 24), &HashMap::new());
    assert_eq!(c.engineer, Some(EngineerId::new("mid-qualified")));
    assert!(!c.at_risk);
    assert!(c.note.contains("mid-qualified") && c.note.contains("km"), "{}", c.note);
}

#[test]
fn engineers_off_shift_or_at_capacity_are_skipped() {
    let d = dispatcher(vec![
        engineer("off-shift", 50.01, &[("mechanical", 3)], (0, 6), 3),
        engineer("full", 50.02, &[("mechanical", 3)], (0, 23), 2),
        engineer("free", 50.9, &[("mechanical", 3)], (0, 23), 2),
    ]);
    let loads = HashMap::from([(EngineerId::new("full"), 2)]);
    let c = d.choose(need(&skills(&[("mechanical", 1)]), 24), &loads);
    assert_eq!(c.engineer, Some(EngineerId::new("free")));
}

#[test]
fn a_deadline_nobody_can_make_is_flagged_not_hidden() {
    let d = dispatcher(vec![engineer("far", 54.0, &[("mechanical", 3)], (0, 23), 3)]);
    let c = d.choose(need(&skills(&[("mechanical", 1)]), 1), &HashMap::new());
    assert_eq!(c.engineer, Some(EngineerId::new("far")));
    assert!(c.at_risk);
    assert!(c.note.contains("cannot reach"), "{}", c.note);
}

#[test]
fn when_nobody_qualifies_the_reasons_are_counted() {
    let d = dispatcher(vec![
        engineer("a", 50.1, &[("electrical", 3)], (0, 23), 3),
        engineer("b", 50.2, &[("mechanical", 3)], (1, 2), 3),
    ]);
    let c = d.choose(need(&skills(&[("mechanical", 1)]), 24), &HashMap::new());
    assert_eq!(c.engineer, None);
    assert!(c.at_risk);
    assert!(
        c.note.contains("1 lack a required skill (e.g. mechanical), 1 are off shift, 0 are at capacity"),
        "{}",
        c.note
    );
}

#[test]
fn travel_time_uses_road_factor_and_speed() {
    let d = dispatcher(vec![]);
    let a = GeoPoint { lat: 50.0, lon: 10.0 };
    let b = GeoPoint { lat: 51.0, lon: 10.0 };
    let km = a.distance_km(&b);
    assert!((d.travel_minutes(&a, &b) - km * 1.3).abs() < 1e-9, "60 km/h: one minute per road km");
}

#[test]
fn depots_come_nearest_first() {
    let d = dispatcher(vec![]);
    let order: Vec<_> =
        d.depots_by_distance(&GeoPoint { lat: 50.0, lon: 10.0 }).into_iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(order, ["near", "far"]);
}

#[test]
fn coverage_gaps_name_missing_skills_and_parts() {
    let rules = crate::rules::shipped();
    let full = Fleet::new(crate::fleet::generate(&rules, crate::fleet::FleetSpec { assets: 50, seed: 2 })).unwrap();
    assert!(coverage_gaps(&full, &rules).is_empty(), "{:?}", coverage_gaps(&full, &rules));
    let mut thin = full.file().clone();
    thin.engineers.iter_mut().for_each(|e| {
        e.skills.remove(&SkillName::new("refrigeration"));
    });
    thin.depots.iter_mut().for_each(|d| {
        d.stock.remove(&crate::model::PartNumber::new("BRG-6206"));
    });
    let gaps = coverage_gaps(&Fleet::new(thin).unwrap(), &rules);
    assert!(gaps.iter().any(|g| g.contains("refrigeration")), "{gaps:?}");
    assert!(gaps.iter().any(|g| g.contains("BRG-6206")), "{gaps:?}");
}
