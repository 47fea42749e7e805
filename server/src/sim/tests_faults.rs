//! Seeded runs under every fault: a few hundred in CI, as many as asked on demand.

use super::run::{run_seed, Figures, RunConfig};

/// Runs seeds `start..start + count` on two threads (the CI machine has two cores) and adds
/// up their figures.
fn run_seeds(start: u64, count: u64, rc: &RunConfig) -> Figures {
    let threads = 2;
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

#[test]
fn a_few_seeds_under_faults_pass_every_check() {
    let count = env("SIM_SEEDS", 4);
    let start = env("SIM_SEED_START", 1);
    let figures = run_seeds(start, count, &RunConfig::default());
    println!("{}", figures.line());
    for (seed, why) in &figures.failures {
        println!("seed {seed}: {why}");
    }
    assert!(figures.failures.is_empty(), "{}", figures.line());
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
