use super::*;
use crate::fleet::{Depot, DepotClass, FleetFile, Shift};
use crate::model::{DepotId, PartNumber};
use chrono::{NaiveTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn engineer(id: &str, lat: f64, skills: &[(&str, u8)], hours: (u32, u32), capacity: u32) -> Engineer {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    Engineer {
        id: EngineerId::new(id),
        name: id.to_owned(),
        base: GeoPoint { lat, lon: 10.0 },
        skills: skills.iter().map(|(s, l)| (SkillName::new(s), *l)).collect(),
        shift: Shift::every_day(t(hours.0), t(hours.1)),
        capacity,
        days_off: Vec::new(),
        flying: false,
        position: None,
        contact: None,
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
    let file = FleetFile {
        assets: vec![],
        engineers,
        depots: vec![depot("far", 52.0), depot("near", 50.1)],
        parts: vec![],
        contracts: vec![],
        sites: vec![],
        customers: vec![],
    };
    Dispatcher::new(Arc::new(Fleet::new(file).unwrap()), DispatchConfig::default())
}

fn noon() -> EpochMs {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap().timestamp_millis()
}

fn need(skills: &BTreeMap<SkillName, u8>, hours_to_deadline: i64) -> Need<'_> {
    Need {
        site: GeoPoint { lat: 50.0, lon: 10.0 },
        skills,
        severity: Severity::General,
        at: noon(),
        on_site_due: noon() + hours_to_deadline * 3_600_000,
        excluded: &[],
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
fn engineers_starting_later_or_at_capacity_lose_to_one_free_now() {
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
    let mut flying = engineer("flying", 50.3, &[("mechanical", 3)], (0, 0), 3);
    flying.flying = true;
    let d = dispatcher(vec![
        engineer("a", 50.1, &[("electrical", 3)], (0, 23), 3),
        engineer("b", 50.2, &[("mechanical", 3)], (1, 2), 0),
        flying,
    ]);
    let c = d.choose(need(&skills(&[("mechanical", 1)]), 24), &HashMap::new());
    assert_eq!(c.engineer, None);
    assert!(c.at_risk);
    assert!(
        c.note.contains(
            "1 lack a required skill (e.g. mechanical), 1 are at capacity, 1 are the flying team (emergencies only), \
             0 are off the roster"
        ),
        "{}",
        c.note
    );
}

#[test]
fn an_engineer_who_declined_or_dropped_out_is_never_offered_the_ticket() {
    let d = dispatcher(vec![
        engineer("declined", 50.01, &[("mechanical", 3)], (0, 23), 3),
        engineer("next", 50.4, &[("mechanical", 3)], (0, 23), 3),
    ]);
    let s = skills(&[("mechanical", 1)]);
    let excluded = [EngineerId::new("declined")];
    let c = d.choose(Need { excluded: &excluded, ..need(&s, 24) }, &HashMap::new());
    assert_eq!(c.engineer, Some(EngineerId::new("next")));
    let both = [EngineerId::new("declined"), EngineerId::new("next")];
    let none = d.choose(Need { excluded: &both, ..need(&s, 24) }, &HashMap::new());
    assert_eq!(none.engineer, None);
    assert!(none.note.contains("2 declined it or are unavailable"), "{}", none.note);
    let planned = d.plan(&[Need { excluded: &excluded, ..need(&s, 24) }], &HashMap::new());
    assert_eq!(planned[0].engineer, Some(EngineerId::new("next")), "the batch plan honours it too");
}

#[test]
fn a_reported_position_moves_where_the_journey_starts() {
    let d = dispatcher(vec![
        engineer("near-base", 50.3, &[("mechanical", 3)], (0, 23), 3),
        engineer("far-base", 53.0, &[("mechanical", 3)], (0, 23), 3),
    ]);
    let s = skills(&[("mechanical", 1)]);
    assert_eq!(d.choose(need(&s, 24), &HashMap::new()).engineer, Some(EngineerId::new("near-base")));
    let far = EngineerId::new("far-base");
    assert!(d.move_engineer(&far, GeoPoint { lat: 50.01, lon: 10.0 }, noon(), noon()), "now on a job next door");
    let c = d.choose(need(&s, 24), &HashMap::new());
    assert_eq!(c.engineer, Some(far.clone()));
    assert!(c.note.contains(" 1.1 km"), "{}", c.note);
    assert_eq!(d.position(&far), Some(GeoPoint { lat: 50.01, lon: 10.0 }));
    assert!(!d.move_engineer(&EngineerId::new("nobody"), GeoPoint { lat: 0.0, lon: 0.0 }, noon(), noon()));
    d.move_engineer(&far, GeoPoint { lat: 60.0, lon: 10.0 }, noon() - 1, noon());
    assert_eq!(d.position(&far), Some(GeoPoint { lat: 50.01, lon: 10.0 }), "an older report arriving late loses");
    // Twelve hours on, the report no longer counts: home base again.
    assert_eq!(d.expire_positions(noon() + 11 * 3_600_000), 0);
    assert_eq!(d.expire_positions(noon() + 13 * 3_600_000), 1);
    assert_eq!(d.position(&far), Some(GeoPoint { lat: 53.0, lon: 10.0 }));
    assert_eq!(d.choose(need(&s, 24), &HashMap::new()).engineer, Some(EngineerId::new("near-base")));
}

#[test]
fn an_engineer_off_shift_or_on_a_day_off_counts_from_the_next_shift_start() {
    let mut on_leave = engineer("on-leave", 50.01, &[("mechanical", 3)], (0, 0), 3);
    on_leave.days_off = vec![chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()];
    let d = dispatcher(vec![on_leave, engineer("night", 50.02, &[("mechanical", 3)], (20, 4), 3)]);
    let c = d.choose(need(&skills(&[("mechanical", 1)]), 24), &HashMap::new());
    assert_eq!(c.engineer, Some(EngineerId::new("night")), "{}", c.note);
    let starts = Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0).unwrap().timestamp_millis();
    assert!(c.arrival.unwrap() > starts && c.arrival.unwrap() < starts + 10 * 60_000, "{:?}", c.arrival);
    assert!(c.note.contains("starts in 8.0 h"), "{}", c.note);
    let tight = d.choose(need(&skills(&[("mechanical", 1)]), 4), &HashMap::new());
    assert!(tight.at_risk, "nobody starts within 4 h: {}", tight.note);
}

#[test]
fn fairness_spreads_work_between_engineers_who_can_both_make_it() {
    let d = dispatcher(vec![
        engineer("near-busy", 50.05, &[("mechanical", 3)], (0, 0), 4),
        engineer("farther-idle", 50.3, &[("mechanical", 3)], (0, 0), 4),
    ]);
    let s = skills(&[("mechanical", 1)]);
    let idle = HashMap::new();
    assert_eq!(d.choose(need(&s, 24), &idle).engineer, Some(EngineerId::new("near-busy")));
    // ~36 min more travel against 2 jobs held (2 x 30 min): the idle engineer goes.
    let busy = HashMap::from([(EngineerId::new("near-busy"), 2)]);
    assert_eq!(d.choose(need(&s, 24), &busy).engineer, Some(EngineerId::new("farther-idle")));
    // One job held is not worth 36 more minutes on the road.
    let one = HashMap::from([(EngineerId::new("near-busy"), 1)]);
    assert_eq!(d.choose(need(&s, 24), &one).engineer, Some(EngineerId::new("near-busy")));
}

#[test]
fn the_flying_team_takes_emergencies_only_when_no_local_engineer_is_in_time() {
    let mut flying = engineer("flying", 50.5, &[("mechanical", 3)], (0, 0), 3);
    flying.flying = true;
    let d = dispatcher(vec![flying, engineer("local-far", 53.0, &[("mechanical", 3)], (0, 0), 3)]);
    let s = skills(&[("mechanical", 1)]);
    let emergency = |hours| Need { severity: Severity::Emergency, ..need(&s, hours) };
    let c = d.choose(emergency(3), &HashMap::new());
    assert_eq!(c.engineer, Some(EngineerId::new("flying")), "{}", c.note);
    assert!(c.note.contains("flying team") && !c.at_risk, "{}", c.note);
    assert_eq!(d.choose(emergency(12), &HashMap::new()).engineer, Some(EngineerId::new("local-far")), "local in time");
    assert_eq!(d.choose(need(&s, 3), &HashMap::new()).engineer, Some(EngineerId::new("local-far")), "not for general");
}

/// Every engineer judged, no early stop: what `choose` must agree with.
fn exhaustive(d: &Dispatcher, need: &Need<'_>, loads: &HashMap<EngineerId, u32>) -> Option<EngineerId> {
    let mut search = Search::new(need, d.config.fairness_minutes_per_job);
    for (i, e) in d.fleet.engineers().iter().enumerate() {
        let required = d.skills.required(need.skills);
        if let Ok(o) = d.offer(i, d.travel_minutes(&e.start_point(), &need.site), (need, &required), loads) {
            search.consider(o);
        }
    }
    search.best().map(|o| d.fleet.engineers()[o.engineer].id.clone())
}

fn random_engineers(rng: &mut StdRng, n: usize) -> Vec<Engineer> {
    (0..n)
        .map(|i| {
            let level = rng.random_range(1..=3);
            let start = rng.random_range(0..24);
            let mut e = engineer(
                &format!("e{i}"),
                rng.random_range(49.0..51.0),
                &[("mechanical", level)],
                (start, (start + 8) % 24),
                rng.random_range(1..=3),
            );
            e.base.lon = rng.random_range(9.0..11.0);
            e.flying = rng.random_bool(0.1);
            e
        })
        .collect()
}

fn random_need<'a>(rng: &mut StdRng, s: &'a BTreeMap<SkillName, u8>) -> Need<'a> {
    Need {
        site: GeoPoint { lat: rng.random_range(49.0..51.0), lon: rng.random_range(9.0..11.0) },
        severity: [Severity::General, Severity::Major, Severity::Emergency][rng.random_range(0..3)],
        on_site_due: noon() + rng.random_range(1..30) * 3_600_000,
        ..need(s, 0)
    }
}

#[test]
fn the_early_stopping_search_picks_what_judging_everyone_picks() {
    let mut rng = StdRng::seed_from_u64(11);
    let s = skills(&[("mechanical", 2)]);
    for _ in 0..40 {
        let d = dispatcher(random_engineers(&mut rng, 60));
        let loads: HashMap<EngineerId, u32> =
            d.fleet.engineers().iter().map(|e| (e.id.clone(), rng.random_range(0..3))).collect();
        for _ in 0..10 {
            let n = random_need(&mut rng, &s);
            assert_eq!(d.choose(n, &loads).engineer, exhaustive(&d, &n, &loads));
        }
    }
}

/// The plan cost of assigning ticket `t` to engineer `e` (None: not allowed).
fn cost(d: &Dispatcher, need: &Need<'_>, e: usize) -> Option<i64> {
    let eng = &d.fleet.engineers()[e];
    let required = d.skills.required(need.skills);
    let offer =
        d.offer(e, d.travel_minutes(&eng.start_point(), &need.site), (need, &required), &HashMap::new()).ok()?;
    Some(plan_cost(&offer, need))
}

/// The cheapest total over every way to give each ticket an engineer (with
/// free capacity) or nobody.
fn brute_force(d: &Dispatcher, needs: &[Need<'_>], t: usize, used: &mut Vec<u32>) -> i64 {
    if t == needs.len() {
        return 0;
    }
    let mut best = 2 * MISS_COST + brute_force(d, needs, t + 1, used);
    for e in 0..used.len() {
        let Some(c) = cost(d, &needs[t], e) else { continue };
        if used[e] < d.fleet.engineers()[e].capacity {
            used[e] += 1;
            best = best.min(c + brute_force(d, needs, t + 1, used));
            used[e] -= 1;
        }
    }
    best
}

#[test]
fn batch_re_planning_on_small_cases_equals_brute_force() {
    let mut rng = StdRng::seed_from_u64(5);
    let s = skills(&[("mechanical", 2)]);
    let mut beat_greedy = 0;
    for _ in 0..150 {
        let n = rng.random_range(1..=4);
        let d = dispatcher(random_engineers(&mut rng, n));
        let needs: Vec<Need<'_>> = (0..rng.random_range(1..=5)).map(|_| random_need(&mut rng, &s)).collect();
        let planned = d.plan(&needs, &HashMap::new());
        let index =
            |c: &Choice| c.engineer.as_ref().map(|id| d.fleet.engineers().iter().position(|e| &e.id == id).unwrap());
        let total = |choices: &[Choice]| -> i64 {
            choices.iter().zip(&needs).map(|(c, n)| index(c).map_or(2 * MISS_COST, |e| cost(&d, n, e).unwrap())).sum()
        };
        let mut used = vec![0; d.fleet.engineers().len()];
        let optimum = brute_force(&d, &needs, 0, &mut used);
        assert_eq!(total(&planned), optimum);
        for e in 0..used.len() {
            let taken = planned.iter().filter(|c| index(c) == Some(e)).count() as u32;
            assert!(taken <= d.fleet.engineers()[e].capacity, "capacity kept");
        }
        let mut loads = HashMap::new();
        let greedy: Vec<Choice> = needs
            .iter()
            .map(|n| {
                let c = d.choose(*n, &loads);
                if let Some(e) = &c.engineer {
                    *loads.entry(e.clone()).or_insert(0) += 1;
                }
                c
            })
            .collect();
        assert!(total(&greedy) >= optimum);
        beat_greedy += usize::from(total(&greedy) > optimum);
    }
    assert!(beat_greedy > 0, "the cases include some where one-by-one assignment is not optimal");
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
fn parts_arrive_from_the_nearest_depot_first_after_handling_and_the_road() {
    let d = dispatcher(vec![]);
    let site = GeoPoint { lat: 50.0, lon: 10.0 };
    let v = d.deliveries(&site, noon());
    let order: Vec<_> = v.iter().map(|x| x.depot.to_string()).collect();
    assert_eq!(order, ["near", "far"]);
    let road_ms = (v[1].km * 1.3 * 60_000.0) as i64;
    assert!((v[1].eta - (noon() + 2 * 3_600_000 + road_ms)).abs() <= 1, "2 h handling, then 60 km/h on roads");

    let note = crate::dispatch::reservation_note(&v, 1, 2, v[1].eta - 3_600_000);
    assert!(note.starts_with("transfer from far"), "{note}");
    assert!(
        note.contains("1 nearer depot(s) hold fewer than 2") && note.contains("1.0 h after the on-site deadline"),
        "{note}"
    );
    let on_time = crate::dispatch::reservation_note(&v, 0, 1, v[0].eta);
    assert!(on_time.contains("the nearest depot") && on_time.contains("before the on-site deadline"), "{on_time}");
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

#[test]
fn stock_below_safety_is_lent_from_the_nearest_surplus_else_purchased() {
    use crate::dispatch::StockLevel;
    use crate::fleet::Part;
    let part = |n: &str, safety| Part {
        number: PartNumber::new(n),
        description: n.into(),
        class: DepotClass::A,
        list_price: 10.0,
        safety_stock: safety,
        lead_time_days: 3,
    };
    let depot = |id: &str, lat: f64| Depot {
        id: DepotId::new(id),
        name: id.into(),
        class: DepotClass::B,
        location: GeoPoint { lat, lon: 10.0 },
        stock: Default::default(),
    };
    let file = FleetFile {
        assets: vec![],
        engineers: vec![],
        depots: vec![depot("low", 50.0), depot("near-rich", 50.5), depot("far-rich", 53.0)],
        parts: vec![part("BRG", 4), part("SEAL", 2)],
        contracts: vec![],
        sites: vec![],
        customers: vec![],
    };
    let fleet = Fleet::new(file).unwrap();
    let level = |d: &str, p: &str, n| StockLevel { depot: DepotId::new(d), part: PartNumber::new(p), on_hand: n };
    let levels = [
        level("low", "BRG", 1),
        level("near-rich", "BRG", 9),
        level("far-rich", "BRG", 40),
        level("low", "SEAL", 1),
        level("near-rich", "SEAL", 2),
        level("far-rich", "SEAL", 2),
    ];
    let s = crate::dispatch::replenishment(&fleet, &levels);
    assert_eq!(s.len(), 2, "{s:?}");
    // BRG: 3 below safety 4, restore 8 -> 7 units; near-rich has only 5 spare, far-rich 36.
    assert_eq!((s[0].part.as_str(), s[0].quantity), ("BRG", 7));
    assert!(
        matches!(&s[0].action, crate::dispatch::Restock::Transfer { from, .. } if from.as_str() == "far-rich"),
        "{s:?}"
    );
    // SEAL: nobody has spare above their own safety stock: purchase 3 at list price.
    assert_eq!(s[1].action, crate::dispatch::Restock::Purchase { lead_time_days: 3, cost: 30.0 });

    // Two depots short of BRG, one lender with 11 spare: lent once (7 units), the other buys.
    let two_short = [level("low", "BRG", 1), level("near-rich", "BRG", 1), level("far-rich", "BRG", 15)];
    let s = crate::dispatch::replenishment(&fleet, &two_short);
    let lends = s.iter().filter(|r| matches!(r.action, crate::dispatch::Restock::Transfer { .. })).count();
    assert_eq!((s.len(), lends), (2, 1), "{s:?}");
}
