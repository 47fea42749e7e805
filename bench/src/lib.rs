//! Benchmark tools, outside what `./build` builds: `etcd-bench` (one member, HTTP or HTTPS,
//! and `etcd-bench import`) and `cluster-bench` (three members, failover). They start the
//! release `etcd`/`etcdctl` found beside them (`./build` or `cargo build --release -p
//! etcd-server -p etcdctl` first) through the test harness, and the reference etcd 3.4 when
//! installed, and print Markdown tables for BENCHMARKS.md.

pub mod import;
pub mod load;
