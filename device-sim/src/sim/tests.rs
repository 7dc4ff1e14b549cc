//! Behavioural tests of the simulator output, read back through the wire format.

use std::collections::{BTreeMap, HashMap};

use chrono::Duration;
use serde_json::Value;

use super::*;
use crate::model::NOISE_CLAMP;
use crate::{synthetic_fleet, EquipmentKind, FaultKind};

type Series = BTreeMap<(String, String), Vec<(i64, f64)>>;
/// `(ts, metric, value)` as decoded from a payload.
type Decoded = Vec<(i64, String, f64)>;

/// Parses a payload strictly against the wire contract; `Err` says which rule broke.
fn decode(payload: &[u8]) -> Result<(String, Decoded), String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("json: {e}"))?;
    let obj = v.as_object().ok_or("not an object")?;
    if obj.len() != 2 {
        return Err("unexpected keys".into());
    }
    let id = obj.get("asset_id").and_then(Value::as_str).ok_or("asset_id")?;
    let readings = obj.get("readings").and_then(Value::as_array).ok_or("readings")?;
    if readings.is_empty() {
        return Err("empty readings".into());
    }
    let mut out = Vec::new();
    for r in readings {
        let r = r.as_object().ok_or("reading not an object")?;
        if r.len() != 3 {
            return Err("reading keys".into());
        }
        let ts = r.get("ts").and_then(Value::as_i64).ok_or("ts")?;
        if !(1_500_000_000_000..4_000_000_000_000).contains(&ts) {
            return Err(format!("absurd ts {ts}"));
        }
        let metric = r.get("metric").and_then(Value::as_str).ok_or("metric")?;
        let value = r.get("value").and_then(Value::as_f64).ok_or("value not a number")?;
        if !value.is_finite() || ((value * 1000.0).round() / 1000.0 - value).abs() > 1e-9 {
            return Err(format!("value {value}"));
        }
        out.push((ts, metric.to_string(), value));
    }
    Ok((id.to_string(), out))
}

fn series(sim: Simulator) -> Series {
    let mut out = Series::new();
    for msg in sim {
        let (id, readings) = decode(&msg.payload).unwrap();
        for (ts, metric, value) in readings {
            out.entry((id.clone(), metric)).or_default().push((ts, value));
        }
    }
    out
}

fn cfg(days: i64) -> SimConfig {
    SimConfig { duration: Duration::days(days), fault_share: 0.0, sensor_fault_share: 0.0, ..SimConfig::default() }
}

fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

#[test]
fn same_seed_same_output_different_seed_different_output() {
    let assets = synthetic_fleet(20, &EquipmentKind::ALL);
    let c = SimConfig { fault_share: 0.3, sensor_fault_share: 0.3, malformed_every: Some(50), ..cfg(1) };
    let a: Vec<Message> = Simulator::new(&assets, &c).unwrap().collect();
    let b: Vec<Message> = Simulator::new(&assets, &c).unwrap().collect();
    assert_eq!(a, b);
    assert_eq!(plan(&assets, &c), plan(&assets, &c));

    let other = SimConfig { seed: c.seed + 1, ..c.clone() };
    let d: Vec<Message> = Simulator::new(&assets, &other).unwrap().collect();
    assert_eq!(a.len(), d.len());
    assert!(a.iter().zip(&d).filter(|(x, y)| x.payload != y.payload).count() > a.len() / 2);
    assert_ne!(plan(&assets, &c), plan(&assets, &other));
}

#[test]
fn payloads_follow_the_wire_contract_in_event_time_order() {
    let assets = synthetic_fleet(10, &EquipmentKind::ALL);
    let c = SimConfig { duration: Duration::minutes(95), ..cfg(1) };
    let sim = Simulator::new(&assets, &c).unwrap();
    let expected = sim.total_messages();
    let start = ms(c.start);
    let mut last = i64::MIN;
    let mut count = 0;
    for msg in sim {
        count += 1;
        assert!(msg.malformed.is_none());
        assert!(msg.last_ts_ms >= last, "event-time order");
        last = msg.last_ts_ms;
        assert_eq!(msg.topic_suffix, msg.asset_id);
        assert_eq!(msg.topic("upkeep/telemetry"), format!("upkeep/telemetry/{}", msg.asset_id));
        let (id, readings) = decode(&msg.payload).unwrap();
        assert_eq!(id, msg.asset_id);
        assert_eq!(readings.len(), msg.readings);
        let model = assets.iter().find(|a| a.id == id).unwrap().model;
        let metrics = model.metrics();
        // Tick-major: every metric of a tick, in model order, then the next tick.
        let ticks = readings.len() / metrics.len();
        assert!(ticks == 10 || (ticks == 5 && msg.last_ts_ms == start + 94 * 60_000));
        for (i, (ts, metric, _)) in readings.iter().enumerate() {
            assert_eq!(metric, metrics[i % metrics.len()]);
            assert_eq!((ts - start) % 60_000, 0);
        }
        assert_eq!(readings.last().unwrap().0, msg.last_ts_ms);
    }
    assert_eq!(count, expected);
    assert_eq!(count, 10 * 10);
}

#[test]
fn healthy_signals_stay_in_band_below_alarms_and_follow_the_day() {
    let assets = synthetic_fleet(25, &EquipmentKind::ALL);
    let data = series(Simulator::new(&assets, &cfg(4)).unwrap());
    assert_eq!(data.len(), 5 * (5 + 4 + 3 + 3 + 3));
    for ((id, metric), points) in &data {
        let model = assets.iter().find(|a| &a.id == id).unwrap().model;
        let spec = model.metric_spec(metric).unwrap();
        assert_eq!(points.len(), 4 * 24 * 60);
        let slack = NOISE_CLAMP * spec.noise_sd + 0.0005;
        for &(_, v) in points {
            assert!(v >= spec.nominal.0 - slack && v <= spec.nominal.1 + slack, "{id}/{metric}: {v}");
            assert!(spec.alarm.is_none_or(|a| v < a), "{id}/{metric}: {v}");
            assert!(spec.failure.is_none_or(|l| !l.is_reached(v)), "{id}/{metric}: {v}");
        }
        if spec.load_gain.abs() >= 2.0 {
            // Working hours run visibly hotter / higher than the night.
            let mean_at = |from: i64, to: i64| {
                let vs: Vec<f64> =
                    points.iter().filter(|(ts, _)| (from..to).contains(&(ts / 3_600_000 % 24))).map(|p| p.1).collect();
                vs.iter().sum::<f64>() / vs.len() as f64
            };
            let lift = mean_at(11, 17) - mean_at(0, 4);
            assert!(lift > 0.6 * spec.load_gain, "{id}/{metric}: lift {lift}");
        }
    }
}

/// Primary metrics each progressive fault drives to the failure limit.
fn primaries(kind: FaultKind, model: EquipmentKind) -> &'static [&'static str] {
    match (kind, model) {
        (FaultKind::BearingWear, _) => &["vibration_rms_mm_s"],
        (FaultKind::SealLeak, _) => &["discharge_pressure_bar"],
        (FaultKind::CloggedFilter, EquipmentKind::CentrifugalPump) => &["motor_current_a", "flow_m3h"],
        (FaultKind::CloggedFilter, _) => &["motor_current_a"],
        (FaultKind::RefrigerantLoss, _) => &["suction_pressure_bar", "supply_temp_c"],
        _ => &[],
    }
}

fn value_at(points: &[(i64, f64)], t: i64) -> Option<f64> {
    points.iter().find(|p| p.0 == t).map(|p| p.1)
}

#[test]
fn progressive_faults_reach_their_limits_at_functional_failure() {
    let c = cfg(3);
    let mut assets = Vec::new();
    let mut faults = Vec::new();
    for model in EquipmentKind::ALL {
        for (k, &kind) in FaultKind::progressive_for(model).iter().enumerate() {
            let id = format!("{}-{:04}", model.id_prefix(), k + 1);
            let onset = c.start + Duration::hours(14 + 3 * k as i64);
            faults.push(InjectedFault {
                asset_id: id.clone(),
                model,
                fault: kind,
                metrics: Vec::new(), // informational; effects come from the catalogue
                onset,
                functional_failure: Some(onset + Duration::hours(30 + 7 * k as i64)),
                sensor_fault_end: None,
                spike_times: Vec::new(),
            });
            assets.push(SimAsset { id, model });
        }
    }
    assert_eq!(faults.len(), 8);
    let sim = Simulator::with_faults(&assets, &c, faults.clone()).unwrap();
    for (f, recorded) in faults.iter().zip(sim.faults()) {
        let primary = primaries(f.fault, f.model);
        assert_eq!(recorded.metrics[..primary.len()], *primary, "truth lists primaries first");
    }
    let faulty = series(sim);
    let twin = series(Simulator::with_faults(&assets, &c, Vec::new()).unwrap());

    for f in &faults {
        let (onset, failure) = (ms(f.onset), ms(f.functional_failure.unwrap()));
        for metric in f.model.metrics() {
            let key = (f.asset_id.clone(), metric.to_string());
            let (got, healthy) = (&faulty[&key], &twin[&key]);
            let spec = f.model.metric_spec(metric).unwrap();
            // Exactly the healthy twin before onset.
            assert!(got.iter().zip(healthy).all(|(g, h)| g.0 >= onset || g == h), "{key:?}");
            if !primaries(f.fault, f.model).contains(metric) {
                continue;
            }
            let limit = spec.failure.unwrap();
            let at_failure = value_at(got, failure).unwrap();
            assert!(
                (at_failure - limit.value).abs() <= 0.02 * limit.value.abs(),
                "{key:?}: {at_failure} at failure vs limit {}",
                limit.value
            );
            assert!(got.iter().filter(|p| p.0 > failure).all(|p| limit.is_reached(p.1)), "{key:?} stays failed");
            let lead = failure - onset;
            let mean = |from: i64, to: i64| {
                let vs: Vec<f64> = got.iter().filter(|p| (from..to).contains(&p.0)).map(|p| p.1).collect();
                vs.iter().sum::<f64>() / vs.len() as f64
            };
            let (early, late) = (mean(onset, onset + lead / 10), mean(failure - lead / 10, failure));
            // Accelerating: the last tenth moves much further than the first.
            let early_step = (mean(onset, onset + lead / 10) - mean(onset - lead / 10, onset)).abs();
            assert!((late - early) * limit.sign() > 0.0, "{key:?} moves toward the limit");
            assert!((late - early).abs() > 5.0 * early_step, "{key:?} accelerates");
        }
    }

    let bearing =
        faults.iter().find(|f| f.model == EquipmentKind::CentrifugalPump && f.fault == FaultKind::BearingWear);
    let f = bearing.unwrap();
    let key = (f.asset_id.clone(), "bearing_temp_c".to_string());
    let (onset, failure) = (ms(f.onset), ms(f.functional_failure.unwrap()));
    let midpoint = onset + (failure - onset) / 2;
    let got = &faulty[&key];
    assert!(got.iter().zip(&twin[&key]).all(|(g, h)| g.0 > midpoint || g == h), "temperature rises only late");
    let temp = value_at(got, failure).unwrap();
    assert!((72.0..85.0).contains(&temp), "bearing temp {temp} ~ nominal + 0.7 * (90 - nominal)");

    let seal = faults.iter().find(|f| f.fault == FaultKind::SealLeak).unwrap();
    let key = (seal.asset_id.clone(), "flow_m3h".to_string());
    let t = ms(seal.functional_failure.unwrap());
    let ratio = value_at(&faulty[&key], t).unwrap() / value_at(&twin[&key], t).unwrap();
    assert!((0.86..0.94).contains(&ratio), "seal leak flow ratio {ratio}");
}

#[test]
fn sensor_faults_have_their_shapes_and_touch_nothing_else() {
    let assets = synthetic_fleet(30, &EquipmentKind::ALL);
    let c = SimConfig { sensor_fault_share: 1.0, ..cfg(2) };
    let sim = Simulator::new(&assets, &c).unwrap();
    let faults = sim.faults().to_vec();
    assert_eq!(faults.len(), 30);
    let faulty = series(sim);
    let twin = series(Simulator::with_faults(&assets, &c, Vec::new()).unwrap());
    let mut seen = HashMap::new();
    for f in &faults {
        *seen.entry(f.fault).or_insert(0) += 1;
        let (onset, end) = (ms(f.onset), ms(f.sensor_fault_end.unwrap()));
        for metric in f.model.metrics() {
            let key = (f.asset_id.clone(), metric.to_string());
            if *metric != f.metrics[0] {
                assert_eq!(faulty[&key], twin[&key], "{key:?} untouched");
                continue;
            }
            let (got, healthy) = (&faulty[&key], &twin[&key]);
            let outside = |pts: &[(i64, f64)]| -> Vec<(i64, f64)> {
                pts.iter().copied().filter(|p| p.0 < onset || p.0 >= end).collect()
            };
            assert_eq!(outside(got), outside(healthy), "{key:?} healthy outside the fault");
            let inside: Vec<(i64, f64)> = got.iter().copied().filter(|p| (onset..end).contains(&p.0)).collect();
            match f.fault {
                FaultKind::SensorStuck => {
                    let before = value_at(healthy, onset - 60_000).unwrap();
                    assert!(end - onset >= 6 * 3_600_000 && end - onset <= 24 * 3_600_000);
                    assert_eq!(inside.len() as i64, (end - onset) / 60_000);
                    assert!(inside.iter().all(|p| p.1 == before), "{key:?} repeats its last value");
                }
                FaultKind::SensorDropout => {
                    assert!(end - onset >= 2 * 3_600_000 && end - onset <= 12 * 3_600_000);
                    assert!(inside.is_empty(), "{key:?} absent");
                    assert!(value_at(got, onset - 60_000).is_some() && value_at(got, end).is_some());
                }
                FaultKind::SensorSpikes => {
                    let spec = f.model.metric_spec(metric).unwrap();
                    let spikes: Vec<_> = got.iter().filter(|p| p.1 > 1.5 * spec.nominal.1).collect();
                    let times: Vec<i64> = f.spike_times.iter().map(|t| ms(*t)).collect();
                    assert_eq!(spikes.iter().map(|p| p.0).collect::<Vec<_>>(), times);
                    assert!((3..=10).contains(&spikes.len()));
                    assert!(times.windows(2).all(|w| w[1] - w[0] >= 3_600_000), "hours apart");
                    for p in &spikes {
                        let h = value_at(healthy, p.0).unwrap();
                        let sd = NOISE_CLAMP * spec.noise_sd;
                        let ok = p.1 >= 3.0 * (h - sd) - 0.001 && p.1 <= 5.0 * (h + sd) + 0.001;
                        assert!(ok, "{key:?}: spike {} vs {h}", p.1);
                    }
                    let non_spike = |p: &&(i64, f64)| !times.contains(&p.0);
                    let a: Vec<_> = got.iter().filter(non_spike).collect();
                    let b: Vec<_> = healthy.iter().filter(non_spike).collect();
                    assert_eq!(a, b, "{key:?}: spikes are single isolated samples");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(seen.len(), 3, "all sensor fault kinds drawn: {seen:?}");
}

#[test]
fn malformed_messages_rotate_through_kinds_and_are_counted() {
    let assets = synthetic_fleet(6, &EquipmentKind::ALL);
    let c = SimConfig { duration: Duration::hours(10), malformed_every: Some(5), ..cfg(1) };
    let mut sim = Simulator::new(&assets, &c).unwrap();
    let total = sim.total_messages();
    let mut kinds = Vec::new();
    for (i, msg) in sim.by_ref().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(msg.malformed.is_some(), n % 5 == 0, "message {n}");
        match msg.malformed {
            Some(kind) => {
                kinds.push(kind);
                assert_eq!(msg.readings, 0);
                if kind == MalformedKind::UnknownAsset {
                    assert!(msg.topic_suffix.starts_with("UNKNOWN-"));
                    // Well-formed, but for an asset that does not exist.
                    let (id, _) = decode(&msg.payload).unwrap();
                    assert!(!assets.iter().any(|a| a.id == id));
                } else {
                    assert!(decode(&msg.payload).is_err(), "{kind:?} must break the contract");
                }
            }
            None => assert!(decode(&msg.payload).is_ok()),
        }
    }
    assert_eq!(total, 60 * 6);
    assert_eq!(kinds.len(), 72);
    for (i, kind) in kinds.iter().enumerate() {
        assert_eq!(*kind, MalformedKind::ALL[i % 6]);
    }
    let truth = sim.truth();
    assert_eq!(truth.malformed_sent.len(), 6);
    assert!(truth.malformed_sent.values().all(|&n| n == 12));
    assert_eq!(truth.malformed_sent["non_finite_value"], 12);
}

#[test]
fn looping_keeps_event_time_moving_forward() {
    let assets = synthetic_fleet(3, &EquipmentKind::ALL);
    let c = SimConfig { duration: Duration::hours(1), ..cfg(1) };
    let per_round = Simulator::new(&assets, &c).unwrap().total_messages() as usize;
    let msgs: Vec<Message> = Simulator::looping(&assets, &c).unwrap().take(per_round * 3).collect();
    assert_eq!(msgs.len(), per_round * 3);
    assert!(msgs.windows(2).all(|w| w[0].last_ts_ms <= w[1].last_ts_ms));
    let end = ms(c.end());
    assert!(msgs[per_round - 1].last_ts_ms < end && msgs[per_round].last_ts_ms >= end);
    assert!(msgs[3 * per_round - 1].last_ts_ms >= end + 3_540_000);
    assert_ne!(msgs[0].payload, msgs[per_round].payload);
}

#[test]
fn explicit_fault_lists_are_validated() {
    let assets = synthetic_fleet(3, &[EquipmentKind::CentrifugalPump, EquipmentKind::Chiller, EquipmentKind::Elevator]);
    let c = cfg(2);
    let fault = |id: &str, model, kind, metric: &str| InjectedFault {
        asset_id: id.into(),
        model,
        fault: kind,
        metrics: vec![metric.into()],
        onset: c.start + Duration::hours(13),
        functional_failure: kind.is_progressive().then(|| c.start + Duration::hours(40)),
        sensor_fault_end: (!kind.is_progressive()).then(|| c.start + Duration::hours(20)),
        spike_times: Vec::new(),
    };
    use EquipmentKind::*;
    let ok = fault("PMP-0001", CentrifugalPump, FaultKind::SealLeak, "");
    assert!(Simulator::with_faults(&assets, &c, vec![ok.clone()]).is_ok());
    let bad_cases = [
        vec![fault("PMP-0009", CentrifugalPump, FaultKind::SealLeak, "")],
        vec![fault("CHL-0001", CentrifugalPump, FaultKind::SealLeak, "")],
        vec![fault("CHL-0001", Chiller, FaultKind::SealLeak, "")],
        vec![ok.clone(), ok],
        vec![fault("ELV-0001", Elevator, FaultKind::SensorStuck, "flow_m3h")],
        vec![InjectedFault { functional_failure: None, ..fault("ELV-0001", Elevator, FaultKind::BearingWear, "") }],
    ];
    for faults in bad_cases {
        assert!(matches!(Simulator::with_faults(&assets, &c, faults), Err(SimError::Plan(_))));
    }
    let bad_ids = [SimAsset { id: "a/b".into(), model: Chiller }];
    assert!(matches!(Simulator::new(&bad_ids, &c), Err(SimError::Fleet(_))));
    assert!(matches!(Simulator::new(&assets, &SimConfig { ticks_per_message: 0, ..c }), Err(SimError::Config(_))));
}

#[test]
fn large_fleets_are_generated_lazily() {
    let assets = synthetic_fleet(10_000, &EquipmentKind::ALL);
    let c = SimConfig { duration: Duration::days(7), ..SimConfig::default() };
    let mut sim = Simulator::new(&assets, &c).unwrap();
    assert_eq!(sim.total_messages(), 10_000 * 7 * 144);
    assert_eq!(sim.faults().len(), 1000 + 450);
    let first: Vec<Message> = sim.by_ref().take(10_001).collect();
    assert_eq!(first[10_000].asset_id, "PMP-0001", "second batch starts over the fleet");
    assert_eq!(first[10_000].last_ts_ms - first[0].last_ts_ms, 600_000);
}

#[test]
fn encoder_escapes_ids_and_round_trips_values() {
    let readings = [
        Reading { ts: 1_767_225_600_000, metric: "flow_m3h", value: 120.0 },
        Reading { ts: 1_767_225_660_000, metric: "flow_m3h", value: 0.001 },
    ];
    let id = "PMP \"7\" \\ ü";
    let payload = encode(&serde_json::Value::from(id).to_string(), &readings);
    let v: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(v["asset_id"], id);
    assert_eq!(v["readings"][0]["value"].as_f64(), Some(120.0));
    assert_eq!(v["readings"][1]["value"].as_f64(), Some(0.001));
    assert_eq!(v["readings"][1]["ts"].as_i64(), Some(1_767_225_660_000));
}

#[test]
fn an_assets_signal_does_not_depend_on_the_rest_of_the_fleet() {
    let big = synthetic_fleet(40, &EquipmentKind::ALL);
    let c = SimConfig { duration: Duration::hours(6), ..cfg(1) };
    let small_series = series(Simulator::new(&big[..7], &c).unwrap());
    let big_series = series(Simulator::new(&big, &c).unwrap());
    for (key, points) in &small_series {
        assert_eq!(points, &big_series[key], "{key:?}");
    }
}
