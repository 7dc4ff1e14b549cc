//! Nearest-qualified query: one ticket's pre-assignment (skills, level,
//! shift, capacity, travel against the on-site deadline, fairness) over a
//! generated fleet of 50 to 10,000 engineers. The scenario day is replayed
//! in order and each choice adds to the chosen engineer's load, as the day
//! fills up (the load carried late in the day makes the walk longest);
//! the day starts over when it ends. Target: p99 under 1 ms at 10,000.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upkeep::config::{DispatchConfig, SlaConfig};
use upkeep::dispatch::Dispatcher;
use upkeep::fleet::Fleet;
use upkeep::model::EngineerId;
use upkeep_eval::dispatch::scenario;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch_choose");
    for engineers in [50, 1_000, 10_000] {
        let sc = scenario::generate(7, engineers, &SlaConfig::default());
        let fleet = Arc::new(Fleet::new(sc.fleet.clone()).expect("generated fleet is valid"));
        let d = Dispatcher::new(fleet, DispatchConfig::default());
        let mut loads: HashMap<EngineerId, u32> = HashMap::new();
        let mut next = 0;
        let mut samples = Vec::new();
        g.bench_function(BenchmarkId::from_parameter(engineers), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    if next == sc.tickets.len() {
                        (next, loads) = (0, HashMap::new());
                    }
                    let started = Instant::now();
                    let choice = black_box(d.choose(sc.tickets[next].need(), &loads));
                    let took = started.elapsed();
                    if let Some(e) = choice.engineer {
                        *loads.entry(e).or_insert(0) += 1;
                    }
                    next += 1;
                    samples.push(took);
                    total += took;
                }
                total
            })
        });
        print_tail(engineers, &mut samples);
    }
    g.finish();
}

/// Criterion reports the mean; the target is on the tail, so the p99 and
/// the maximum of every timed call are printed too.
fn print_tail(engineers: usize, samples: &mut [Duration]) {
    if samples.is_empty() {
        return;
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!(
        "dispatch_choose/{engineers}: {} calls, p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        samples.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
