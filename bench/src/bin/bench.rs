//! The benchmark suite (issue 14): ours against etcd 3.4 (`--enable-v2`), fresh instances for
//! every measurement, one member and three, rounds alternating A B B A. Writes of new keys at
//! 1/16/64/256 connections crossing several snapshots, default / `quorum=true` /
//! `-local-reads` GETs, a contended compare-and-swap, watch fan-out, memory and data-dir size
//! after 100,000 keys (`--million`: also 1,000,000), restart to the first correct GET, and
//! writes over HTTPS and with auth. A progress bar on stderr, a Markdown table on stdout,
//! `--json FILE` for everything, `--plot FILE` for a PNG of p99 write latency against
//! connections (`--from-json FILE --plot FILE` draws it from an earlier run).
//!
//! `cargo build --release -p etcd-server -p etcd-bench-tools --bins && ./target/release/bench
//! [--only writes,reads] [--members 1,3] [--json out.json] [--quick]`

use clap::Parser;
use etcd_bench_tools::suite::{self, report, Settings};

/// Ours against etcd 3.4: writes, reads, swaps, watch fan-out, memory, restart, TLS, auth.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
}

/// The summary rows of an earlier run's `--json` file.
fn summary_of(path: &std::path::Path) -> Vec<report::Row> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    serde_json::from_value(v["summary"].clone())
        .unwrap_or_else(|e| panic!("{} has no summary: {e}", path.display()))
}

/// Draws `--plot` from `rows`, exiting with the reason when it cannot.
fn plot(rows: &[report::Row], s: &Settings) {
    if let Some(file) = &s.plot {
        if let Err(e) = suite::plot::draw(rows, file, &s.font) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if let Some(json) = &cli.settings.from_json {
        plot(&summary_of(json), &cli.settings);
        return;
    }
    let before = report::load_average();
    let run = suite::run(&cli.settings);
    let all = &run.measurements;
    let machine = report::Machine::describe(before);
    let s = cli.settings.effective();
    println!("{}", report::markdown(all, &s, &machine));
    for f in &run.failed {
        println!("FAILED (see the log): {f}");
    }
    if let Some(path) = &cli.settings.json {
        std::fs::write(path, report::json(all, &s, &machine))
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    plot(&report::summarise(all), &s);
}
