//! Seeded runs under every fault: a few hundred in CI, as many as asked on demand.

use super::run::{run_seed, Figures, RunConfig};

/// Runs seeds `start..start + count` on two threads (the CI machine has two cores) and adds
/// up their figures.
fn run_seeds(start: u64, count: u64, rc: &RunConfig) -> Figures {
    let threads = 3;
    let mut total = Figures::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut f = Figures::default();
                    let mut seed = start + t;
                    while seed < start + count {
                        f.add(&run_seed(seed, rc).figures);
                        seed += threads;
                    }
                    f
                })
            })
            .collect();
        for h in handles {
            total.add(&h.join().expect("a runner thread"));
        }
    });
    total
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The CI run: a few hundred seeds (300 take about 95 s on two cores in a debug build).
/// `SIM_SEEDS` and `SIM_SEED_START` choose others.
#[test]
fn three_hundred_seeds_under_faults_pass_every_check() {
    report(run_seeds(
        env("SIM_SEED_START", 1),
        env("SIM_SEEDS", 300),
        &RunConfig::default(),
    ));
}

/// The long run, on demand: `SIM_SEEDS=10000 cargo test --release -p etcd-server --lib
/// sim::tests_faults::many_seeds -- --ignored --nocapture`; prints one line of figures.
#[test]
#[ignore]
fn many_seeds() {
    report(run_seeds(
        env("SIM_SEED_START", 1),
        env("SIM_SEEDS", 10_000),
        &RunConfig::default(),
    ));
}

fn report(figures: Figures) {
    println!("{}", figures.line());
    for (seed, why) in &figures.failures {
        println!("seed {seed}: {why}");
    }
    assert!(figures.failures.is_empty(), "{}", figures.line());
}

/// A seed replays its run under faults bit for bit: the same trace, line for line.
#[test]
fn a_seed_under_faults_replays_bit_for_bit() {
    let rc = RunConfig {
        keep_trace: true,
        ..RunConfig::default()
    };
    for seed in [3, 4] {
        let first = super::run::run_seed(seed, &rc);
        let again = super::run::run_seed(seed, &rc);
        assert!(first.trace.len() > 1000, "a real run");
        if let Some(at) = (0..first.trace.len().max(again.trace.len()))
            .find(|i| first.trace.get(*i) != again.trace.get(*i))
        {
            panic!(
                "seed {seed} did not replay: traces part at line {at}: {:?} vs {:?}",
                first.trace.get(at),
                again.trace.get(at)
            );
        }
        assert_eq!(first.figures, again.figures);
    }
}

/// One seed, run without catching its panic and with its trace printed: how a failing seed
/// is looked into (`SIM_SEED=n cargo test -p etcd-server --lib sim::tests_faults::one_seed
/// -- --ignored --nocapture`).
#[test]
#[ignore]
fn one_seed() {
    let seed = env("SIM_SEED", 1);
    let tail = env("SIM_TRACE", 80) as usize;
    let rc = RunConfig {
        keep_trace: true,
        ..RunConfig::default()
    };
    let outcome = super::run::run_unguarded(seed, &rc);
    let trace = &outcome.trace;
    for line in &trace[trace.len().saturating_sub(tail)..] {
        println!("{line}");
    }
    println!("{}", outcome.figures.line());
    for (seed, why) in &outcome.figures.failures {
        println!("seed {seed}: {why}");
    }
}
