//! The suite's short form (`bench --quick`): every benchmark runs a few hundred operations
//! against one member of ours, so CI proves the tool works end to end. It measures nothing.

use clap::Parser;
use etcd_bench_tools::suite::{self, report, Settings};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
}

#[test]
fn quick_run_yields_every_benchmark() {
    let cli = Cli::parse_from(["bench", "--quick", "--quiet"]);
    let run = suite::run(&cli.settings);
    assert!(run.failed.is_empty(), "failed: {:?}", run.failed);
    let all = run.measurements;
    let benches: Vec<&str> = all.iter().map(|m| m.bench.as_str()).collect();
    for expected in [
        "writes, 1 conns",
        "writes, 16 conns",
        "GET, 64 conns, default",
        "GET, 64 conns, quorum=true",
        "GET, 64 conns, stale: ours -local-reads vs etcd default",
        "CAS one key, 32 clients",
        "watch fan-out, 50 watchers",
        "500 keys: memory, disk, restart",
        "writes, 64 conns, HTTPS",
        "writes, 64 conns, auth on",
    ] {
        assert!(
            benches.contains(&expected),
            "no {expected:?} in {benches:?}"
        );
    }
    // 300 writes with -snapshot-count 100 cross snapshots, as the full run's writes must.
    let w = all.iter().find(|m| m.bench == "writes, 16 conns").unwrap();
    let crossed = w.metrics.iter().find(|(k, _)| k == "snapshots crossed");
    assert_eq!(crossed.map(|(_, v)| *v), Some(3.0), "{w:?}");
    let cas = all.iter().find(|m| m.bench.starts_with("CAS")).unwrap();
    assert!(cas.metrics[0].1 > 0.0, "no successful swap: {cas:?}");
    let s = cli.settings.effective();
    let machine = report::Machine::describe(report::load_average());
    let table = report::markdown(&all, &s, &machine);
    assert!(
        table.contains("| writes, 16 conns | 1 | writes/s |"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&report::json(&all, &s, &machine)).unwrap();
    assert_eq!(
        json["measurements"].as_array().map(Vec::len),
        Some(all.len())
    );
}
