//! `upkeep eval dispatch`: a generated day (`scenario`) replayed through the
//! live dispatch code, one ticket at a time with batch re-planning in alarm
//! storms, against the optimal assignment of the same day computed offline
//! with the whole day known in advance.

pub mod scenario;

use super::EvalError;
use scenario::{Scenario, ScenarioTicket};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;
use upkeep::config::{DispatchConfig, SlaConfig};
use upkeep::dispatch::{Choice, Delivery, Dispatcher, Need};
use upkeep::fleet::Fleet;
use upkeep::model::{DepotId, EngineerId, EpochMs, PartNumber};

#[derive(Debug, Clone, Copy)]
pub struct DispatchOptions {
    pub seed: u64,
    pub engineers: usize,
    /// Minutes after assignment at which an engineer accepts (a storm
    /// re-plan only moves tickets not yet accepted).
    pub accept_minutes: i64,
}

/// One assignment's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Tickets whose engineer can be on site by the on-site deadline.
    pub sla_attainment: f64,
    pub sla_misses: usize,
    pub unassigned: usize,
    pub travel_hours: f64,
    pub travel_road_km: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DispatchReport {
    pub seed: u64,
    pub engineers: usize,
    pub flying_team: usize,
    pub tickets: usize,
    pub storm_tickets: usize,
    pub sla_attainment: f64,
    pub sla_attainment_optimal: f64,
    pub sla_attainment_vs_optimal: f64,
    pub sla_misses: usize,
    pub sla_misses_optimal: usize,
    pub travel_road_km: f64,
    pub travel_road_km_optimal: f64,
    /// Tickets needing parts whose parts reach the site within 24 h
    /// (nearest depot with stock plus handling, else a purchase).
    pub parts_within_24h: f64,
    pub live: Figures,
    pub optimal: Figures,
    pub storm_replans: usize,
    /// Time to pre-assign one ticket (the live one-by-one choice).
    pub preassign_p50_us: f64,
    pub preassign_p99_us: f64,
    pub preassign_max_us: f64,
    /// The slowest storm re-plan (the batch solve).
    pub replan_max_ms: f64,
    pub optimal_solve_s: f64,
}

pub fn run(o: &DispatchOptions, dispatch: &DispatchConfig, sla: &SlaConfig) -> Result<DispatchReport, EvalError> {
    if o.engineers == 0 {
        return Err(EvalError::Invalid("--engineers must be at least 1".into()));
    }
    let sc = scenario::generate(o.seed, o.engineers, sla);
    let fleet = Arc::new(Fleet::new(sc.fleet.clone()).map_err(|e| EvalError::Invalid(e.to_string()))?);
    let d = Dispatcher::new(Arc::clone(&fleet), dispatch.clone());
    let needs: Vec<Need<'_>> = sc.tickets.iter().map(ScenarioTicket::need).collect();
    let live = Replay::new(&d, dispatch, o.accept_minutes * 60_000).run(&needs);
    let started = Instant::now();
    let optimal = d.plan(&needs, &HashMap::new());
    let optimal_solve_s = started.elapsed().as_secs_f64();
    let (l, b) = (figures(&live.choices, dispatch), figures(&optimal, dispatch));
    let mut lat = live.latencies_us.clone();
    lat.sort_by(f64::total_cmp);
    let q = |p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    Ok(DispatchReport {
        seed: o.seed,
        engineers: o.engineers,
        flying_team: fleet.engineers().iter().filter(|e| e.flying).count(),
        tickets: needs.len(),
        storm_tickets: sc.tickets.iter().filter(|t| t.storm).count(),
        sla_attainment: l.sla_attainment,
        sla_attainment_optimal: b.sla_attainment,
        sla_attainment_vs_optimal: if b.sla_attainment > 0.0 { l.sla_attainment / b.sla_attainment } else { 1.0 },
        sla_misses: l.sla_misses,
        sla_misses_optimal: b.sla_misses,
        travel_road_km: l.travel_road_km,
        travel_road_km_optimal: b.travel_road_km,
        parts_within_24h: parts_within_24h(&sc, &fleet, &d),
        live: l,
        optimal: b,
        storm_replans: live.replans,
        preassign_p50_us: q(0.5),
        preassign_p99_us: q(0.99),
        preassign_max_us: q(1.0),
        replan_max_ms: live.replan_max_ms,
        optimal_solve_s,
    })
}

fn figures(choices: &[Choice], dispatch: &DispatchConfig) -> Figures {
    let met = choices.iter().filter(|c| c.engineer.is_some() && !c.at_risk).count();
    let travel_hours = choices.iter().map(|c| c.travel_minutes).sum::<f64>() / 60.0;
    Figures {
        sla_attainment: met as f64 / choices.len().max(1) as f64,
        sla_misses: choices.len() - met,
        unassigned: choices.iter().filter(|c| c.engineer.is_none()).count(),
        travel_hours,
        travel_road_km: travel_hours * dispatch.speed_kmh,
    }
}

/// The live path over the day: each ticket chosen on arrival; in a storm
/// (`replan_storm` tickets within `replan_window`) the assigned tickets not
/// yet accepted are re-planned together, at most once per window.
struct Replay<'d> {
    d: &'d Dispatcher,
    storm: usize,
    window: EpochMs,
    accept_ms: EpochMs,
    choices: Vec<Choice>,
    loads: HashMap<EngineerId, u32>,
    latencies_us: Vec<f64>,
    replans: usize,
    replan_max_ms: f64,
}

impl<'d> Replay<'d> {
    fn new(d: &'d Dispatcher, c: &DispatchConfig, accept_ms: EpochMs) -> Self {
        Replay {
            d,
            storm: c.replan_storm as usize,
            window: c.replan_window.as_millis(),
            accept_ms,
            choices: Vec::new(),
            loads: HashMap::new(),
            latencies_us: Vec::new(),
            replans: 0,
            replan_max_ms: 0.0,
        }
    }

    fn run(mut self, needs: &[Need<'_>]) -> Self {
        let mut last_replan: Option<EpochMs> = None;
        for (i, n) in needs.iter().enumerate() {
            let started = Instant::now();
            let c = self.d.choose(*n, &self.loads);
            self.latencies_us.push(started.elapsed().as_secs_f64() * 1e6);
            self.take(&c, 1);
            self.choices.push(c);
            let recent = i + 1 - needs[..=i].partition_point(|m| m.at <= n.at - self.window);
            let quiet = last_replan.is_none_or(|t| n.at - t >= self.window);
            if self.storm > 0 && recent >= self.storm && quiet {
                self.replan(needs, i, n.at);
                last_replan = Some(n.at);
            }
        }
        self
    }

    fn take(&mut self, c: &Choice, delta: i32) {
        if let Some(e) = &c.engineer {
            let load = self.loads.entry(e.clone()).or_insert(0);
            *load = load.saturating_add_signed(delta);
        }
    }

    /// Re-plans tickets up to `last` assigned within the acceptance time.
    fn replan(&mut self, needs: &[Need<'_>], last: usize, now: EpochMs) {
        let first = needs[..=last].partition_point(|m| m.at <= now - self.accept_ms);
        for j in first..=last {
            let c = self.choices[j].clone();
            self.take(&c, -1);
        }
        let batch: Vec<Need<'_>> = needs[first..=last].iter().map(|n| Need { at: now, ..*n }).collect();
        let started = Instant::now();
        let planned = self.d.plan(&batch, &self.loads);
        self.replan_max_ms = self.replan_max_ms.max(started.elapsed().as_secs_f64() * 1e3);
        for (j, c) in (first..=last).zip(planned) {
            self.take(&c, 1);
            self.choices[j] = c;
        }
        self.replans += 1;
    }
}

/// Share of tickets needing parts whose parts reach the site within 24 h:
/// each line from the nearest depot with stock (handling plus road time),
/// else bought in at the part's lead time.
fn parts_within_24h(sc: &Scenario, fleet: &Fleet, d: &Dispatcher) -> f64 {
    let mut stock: BTreeMap<(DepotId, PartNumber), u32> = BTreeMap::new();
    for depot in &sc.fleet.depots {
        for (p, q) in &depot.stock {
            stock.insert((depot.id.clone(), p.clone()), *q);
        }
    }
    let lead = |p: &PartNumber| fleet.part(p).map_or(30, |c| c.lead_time_days);
    let (mut needing, mut met) = (0, 0);
    for t in sc.tickets.iter().filter(|t| !t.parts.is_empty()) {
        needing += 1;
        let deliveries = d.deliveries(&t.site, t.at);
        let mut on_site_by = t.at;
        for (part, qty) in &t.parts {
            let has = |dl: &&Delivery| stock.get(&(dl.depot.clone(), part.clone())).is_some_and(|s| s >= qty);
            let eta = match deliveries.iter().find(has) {
                Some(dl) => {
                    if let Some(s) = stock.get_mut(&(dl.depot.clone(), part.clone())) {
                        *s -= qty;
                    }
                    dl.eta
                }
                None => t.at + i64::from(lead(part)) * 86_400_000,
            };
            on_site_by = on_site_by.max(eta);
        }
        met += usize::from(on_site_by <= t.at + 86_400_000);
    }
    met as f64 / f64::from(needing.max(1))
}

/// The report for people.
pub fn text(r: &DispatchReport) -> String {
    format!(
        "dispatch evaluation, seed {}: {} engineers ({} flying team), {} tickets ({} in the storm)\n\
         SLA attainment: live {:.4} ({} misses), optimal {:.4} ({} misses), live/optimal {:.4}\n\
         travel: live {:.0} road km, optimal {:.0} road km\n\
         parts within 24 h: {:.4}\n\
         pre-assignment: p50 {:.0} us, p99 {:.0} us, max {:.0} us; {} storm re-plans, slowest {:.1} ms; \
         optimum solved in {:.2} s\n",
        r.seed,
        r.engineers,
        r.flying_team,
        r.tickets,
        r.storm_tickets,
        r.sla_attainment,
        r.sla_misses,
        r.sla_attainment_optimal,
        r.sla_misses_optimal,
        r.sla_attainment_vs_optimal,
        r.travel_road_km,
        r.travel_road_km_optimal,
        r.parts_within_24h,
        r.preassign_p50_us,
        r.preassign_p99_us,
        r.preassign_max_us,
        r.storm_replans,
        r.replan_max_ms,
        r.optimal_solve_s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(seed: u64, engineers: usize) -> DispatchReport {
        let o = DispatchOptions { seed, engineers, accept_minutes: 30 };
        run(&o, &DispatchConfig::default(), &SlaConfig::default()).unwrap()
    }

    #[test]
    fn a_seed_gives_the_same_scenario_and_the_optimum_is_never_beaten() {
        let sla = SlaConfig::default();
        let (a, b) = (scenario::generate(3, 80, &sla), scenario::generate(3, 80, &sla));
        assert_eq!(format!("{:?}", a.tickets), format!("{:?}", b.tickets));
        assert_ne!(format!("{:?}", a.tickets), format!("{:?}", scenario::generate(4, 80, &sla).tickets));
        for seed in 1..=6 {
            let r = report(seed, 120);
            assert_eq!(r.tickets, 72);
            assert!(r.sla_misses >= r.sla_misses_optimal, "seed {seed}: {r:?}");
            assert!(r.sla_attainment_vs_optimal <= 1.0 + 1e-12);
            assert!((0.0..=1.0).contains(&r.parts_within_24h));
        }
    }

    #[test]
    fn an_alarm_storm_triggers_re_planning_of_unaccepted_tickets() {
        let r = report(1, 400);
        assert!(r.storm_tickets >= 70 && r.storm_replans > 0, "{r:?}");
        let off = DispatchConfig { replan_storm: 0, ..DispatchConfig::default() };
        let quiet = run(&DispatchOptions { seed: 1, engineers: 400, accept_minutes: 30 }, &off, &SlaConfig::default());
        assert_eq!(quiet.unwrap().storm_replans, 0);
    }
}
