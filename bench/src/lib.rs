//! Benchmark tools, outside what `./build` builds: `bench` (the suite of issue 14: every
//! figure of BENCHMARKS.md's comparison, ours against etcd 3.4, one member and three),
//! `etcd-bench` (one member, HTTP or HTTPS, and `etcd-bench import`), `cluster-bench` (three
//! members, failover) and `auth-bench`. They start the release `etcd`/`etcdctl` found beside
//! them (`cargo build --release -p etcd-server -p etcdctl -p etcd-bench-tools --bins` first)
//! through the test harness, and the reference etcd 3.4 when installed, and print Markdown
//! tables for BENCHMARKS.md.

pub mod auth;
pub mod import;
pub mod load;
pub mod procfs;
pub mod rawhttp;
pub mod suite;
pub mod tls;
