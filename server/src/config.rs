//! Command-line flags: etcd 0.2's names with one dash (`-data-dir`), the same with two dashes,
//! etcd 2.x aliases, and `ETCD_*` environment variables. Turns them into a [`Config`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Flags, as clap sees them after [`normalise_args`].
#[derive(Debug, Clone, Parser)]
#[command(
    name = "etcd",
    version,
    about = "A highly-available key value store for shared configuration and service discovery.",
    after_help = "Examples:\n  etcd -data-dir machine0 -name machine0\n  etcd -peer-addr 127.0.0.1:7002 -addr 127.0.0.1:4002 -peers 127.0.0.1:7001 -data-dir machines/machine2 -name machine2\n\nFlags may be written with one dash or two (-data-dir, --data-dir)."
)]
pub struct Flags {
    /// The name of this machine in the cluster [default: hostname].
    #[arg(long, short = 'n', env = "ETCD_NAME")]
    pub name: Option<String>,
    /// Directory for the log, snapshots and configuration [default: <name>.etcd].
    #[arg(long = "data-dir", short = 'd', env = "ETCD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Advertised client address, host:port (a URL is accepted too).
    #[arg(
        long,
        short = 'c',
        env = "ETCD_ADDR",
        default_value = "127.0.0.1:4001",
        alias = "advertise-client-urls"
    )]
    pub addr: String,
    /// Address the client port listens on [default: the host:port of -addr].
    #[arg(
        long = "bind-addr",
        env = "ETCD_BIND_ADDR",
        alias = "listen-client-urls"
    )]
    pub bind_addr: Option<String>,
    /// Advertised peer address, host:port (a URL is accepted too).
    #[arg(
        long = "peer-addr",
        short = 's',
        env = "ETCD_PEER_ADDR",
        default_value = "127.0.0.1:7001",
        alias = "initial-advertise-peer-urls"
    )]
    pub peer_addr: String,
    /// Address the peer port listens on [default: the host:port of -peer-addr].
    #[arg(
        long = "peer-bind-addr",
        env = "ETCD_PEER_BIND_ADDR",
        alias = "listen-peer-urls"
    )]
    pub peer_bind_addr: Option<String>,
    /// Comma-separated peer addresses to join (host:port,...).
    #[arg(long, short = 'C', env = "ETCD_PEERS")]
    pub peers: Option<String>,
    /// File holding the comma-separated peer list.
    #[arg(long = "peers-file", env = "ETCD_PEERS_FILE")]
    pub peers_file: Option<PathBuf>,
    /// Client TLS certificate (PEM).
    #[arg(long = "cert-file", env = "ETCD_CERT_FILE")]
    pub cert_file: Option<PathBuf>,
    /// Client TLS key (PEM).
    #[arg(long = "key-file", env = "ETCD_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// CA that client certificates must be signed by (PEM).
    #[arg(long = "ca-file", env = "ETCD_CA_FILE", alias = "trusted-ca-file")]
    pub ca_file: Option<PathBuf>,
    /// etcd 2.x's switch for client certificates, accepted as given with -ca-file, which
    /// already requires them here (and makes a certificate's CN a v2 auth user).
    #[arg(long = "client-cert-auth", env = "ETCD_CLIENT_CERT_AUTH", num_args = 0..=1,
        require_equals = true, default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new())]
    pub client_cert_auth: Option<bool>,
    /// Peer TLS certificate (PEM).
    #[arg(long = "peer-cert-file", env = "ETCD_PEER_CERT_FILE")]
    pub peer_cert_file: Option<PathBuf>,
    /// Peer TLS key (PEM).
    #[arg(long = "peer-key-file", env = "ETCD_PEER_KEY_FILE")]
    pub peer_key_file: Option<PathBuf>,
    /// CA that peer certificates must be signed by (PEM).
    #[arg(
        long = "peer-ca-file",
        env = "ETCD_PEER_CA_FILE",
        alias = "peer-trusted-ca-file"
    )]
    pub peer_ca_file: Option<PathBuf>,
    /// The same as -client-cert-auth for the peer port, with -peer-ca-file.
    #[arg(long = "peer-client-cert-auth", env = "ETCD_PEER_CLIENT_CERT_AUTH", num_args = 0..=1,
        require_equals = true, default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new())]
    pub peer_client_cert_auth: Option<bool>,
    /// Print shell completions (bash, zsh, fish) or the man page (man) and exit.
    #[arg(long, hide = true, value_parser = ["bash", "zsh", "fish", "man"])]
    pub generate: Option<String>,
    /// Force a new configuration: discard the data dir's existing state (data loss!).
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Recovery after losing quorum: start this data dir (a member's, or a copy made by
    /// `etcdctl backup`) as a new one-member cluster holding every key committed in it, with
    /// a new cluster id; others then join it with -peers. Uncommitted entries are dropped.
    /// A one-time rewrite: started with it again, a member still alone is left as it is, but
    /// once others have joined it would drop them again; remove the flag once it runs.
    #[arg(
        long = "force-new-cluster",
        env = "ETCD_FORCE_NEW_CLUSTER",
        conflicts_with = "force",
        action = clap::ArgAction::SetTrue
    )]
    pub force_new_cluster: bool,
    /// Answer GETs without `quorum=true` from this member's store, as etcd's v2 API does:
    /// faster, and a member cut off from the others still answers, but the answer may be
    /// stale. Without it every GET is linearizable (a ReadIndex round, batched per turn).
    #[arg(long = "local-reads", env = "ETCD_LOCAL_READS", action = clap::ArgAction::SetTrue)]
    pub local_reads: bool,
    /// Comma-separated origins allowed for CORS (`*` for any).
    #[arg(long, env = "ETCD_CORS")]
    pub cors: Option<String>,
    /// Accepted for etcd 0.2 compatibility: snapshots are always on.
    #[arg(long, env = "ETCD_SNAPSHOT", num_args = 0..=1, default_missing_value = "true")]
    pub snapshot: Option<String>,
    /// Applied entries between store snapshots (and log compactions).
    // 100,000 as etcd 3.4, chosen by measurement (BENCHMARKS.md, issue 14): snapshots are
    // written off the raft thread, so the count no longer shapes the write tail of a small
    // store, but at 1M keys each one encodes ~300 MB; every 10,000 writes they ran back to
    // back and cost 30% of the write rate, while the longer log adds ~0.3 s to a restart.
    #[arg(
        long = "snapshot-count",
        env = "ETCD_SNAPSHOTCOUNT",
        default_value_t = 100_000,
        alias = "snapshotCount"
    )]
    pub snapshot_count: u64,
    /// Raft heartbeat interval in milliseconds.
    #[arg(
        long = "peer-heartbeat-timeout",
        env = "ETCD_PEER_HEARTBEAT_TIMEOUT",
        default_value_t = 100,
        alias = "heartbeat-interval"
    )]
    pub peer_heartbeat_timeout: u64,
    /// Raft election timeout in milliseconds.
    #[arg(
        long = "peer-election-timeout",
        env = "ETCD_PEER_ELECTION_TIMEOUT",
        default_value_t = 1000,
        alias = "election-timeout"
    )]
    pub peer_election_timeout: u64,
    /// Events kept for watchers with waitIndex (etcd keeps 1000).
    #[arg(
        long = "history-size",
        env = "ETCD_HISTORY_SIZE",
        default_value_t = 1000
    )]
    pub history_size: usize,
    /// Maximum cluster size (accepted for etcd 0.2 compatibility).
    #[arg(
        long = "max-cluster-size",
        env = "ETCD_MAX_CLUSTER_SIZE",
        default_value_t = 9
    )]
    pub max_cluster_size: usize,
    /// Accepted for etcd 0.2 compatibility.
    #[arg(
        long = "max-result-buffer",
        env = "ETCD_MAX_RESULT_BUFFER",
        default_value_t = 1024
    )]
    pub max_result_buffer: usize,
    /// Accepted for etcd 0.2 compatibility.
    #[arg(
        long = "max-retry-attempts",
        env = "ETCD_MAX_RETRY_ATTEMPTS",
        default_value_t = 3
    )]
    pub max_retry_attempts: usize,
    /// etcd 0.2's TOML configuration file; flags and ETCD_* variables override it [default:
    /// /etc/etcd/etcd.conf when it exists].
    #[arg(long, env = "ETCD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Verbose logging.
    #[arg(short = 'v', long = "verbose", env = "ETCD_VERBOSE", action = clap::ArgAction::SetTrue)]
    pub verbose: bool,
    /// Very verbose logging.
    #[arg(long = "vv", env = "ETCD_VERY_VERBOSE", action = clap::ArgAction::SetTrue)]
    pub very_verbose: bool,
}

/// The flags clap knows as long options, which etcd 0.2 users write with one dash.
fn is_long_flag(name: &str) -> bool {
    use clap::CommandFactory;
    let cmd = Flags::command();
    let hit = cmd.get_arguments().any(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    });
    hit || name == "help" || name == "version"
}

/// Rewrites Go-style `-data-dir x` / `-data-dir=x` into `--data-dir x`, leaving short flags
/// (`-f`, `-v`) and values alone.
pub fn normalise_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        if i > 0 && a.starts_with('-') && !a.starts_with("--") && a.len() > 2 {
            let body = &a[1..];
            let name = body.split('=').next().unwrap_or(body);
            if is_long_flag(name) {
                out.push(format!("-{a}"));
                continue;
            }
        }
        out.push(a);
    }
    out
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Member name.
    pub name: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Advertised client URL.
    pub client_url: String,
    /// Advertised peer URL.
    pub peer_url: String,
    /// Client listen address.
    pub bind_addr: String,
    /// Peer listen address.
    pub peer_bind_addr: String,
    /// Peers to join.
    pub peers: Vec<String>,
    /// Discard existing state.
    pub force: bool,
    /// Rewrite the data dir as a new one-member cluster before starting (`-force-new-cluster`).
    pub force_new_cluster: bool,
    /// `-local-reads`: default GETs answer from the local store.
    pub local_reads: bool,
    /// CORS origins.
    pub cors: Vec<String>,
    /// Snapshot interval.
    pub snapshot_count: u64,
    /// Raft tick.
    pub heartbeat: Duration,
    /// Election timeout.
    pub election_timeout: Duration,
    /// Watch history size.
    pub history_size: usize,
    /// Log level.
    pub log_level: &'static str,
    /// Client TLS cert/key/CA.
    pub client_tls: TlsFiles,
    /// Peer TLS cert/key/CA.
    pub peer_tls: TlsFiles,
}

/// Certificate, key and CA paths of one port.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: Option<PathBuf>,
    /// Private key.
    pub key: Option<PathBuf>,
    /// CA for client certificates.
    pub ca: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether TLS is asked for.
    pub fn enabled(&self) -> bool {
        self.cert.is_some() || self.key.is_some()
    }
}

/// `http://h:0` → `http://h:<port>`; any other URL is returned as it is.
fn with_port_for_zero(url: &str, port: u16) -> String {
    match url.strip_suffix(":0") {
        Some(base) => format!("{base}:{port}"),
        None => url.to_string(),
    }
}

/// `http://127.0.0.1:4001` → `127.0.0.1:4001`; a bare host:port stays.
fn host_port(s: &str) -> String {
    let s = s.split(',').next().unwrap_or(s).trim();
    let s = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .unwrap_or(s);
    s.trim_end_matches('/').to_string()
}

/// The listen address: an explicit one (a host alone takes the advertised port), else the
/// advertised host:port.
fn bind_of(bind: Option<&str>, advertised: &str) -> String {
    match bind.map(host_port) {
        Some(b) if b.contains(':') => b,
        Some(host) => {
            let port = advertised.rsplit(':').next().unwrap_or("4001");
            format!("{host}:{port}")
        }
        None => advertised.to_string(),
    }
}

/// etcd's `--client-cert-auth` against our rule that a CA requires client certificates: a
/// switch that asks for the other is refused rather than ignored.
fn cert_auth_agrees(switch: Option<bool>, tls: &TlsFiles, side: &str) -> Result<(), String> {
    match (switch, tls.ca.is_some()) {
        (Some(true), false) => Err(format!(
            "-{side}client-cert-auth needs -{side}ca-file (--{side}trusted-ca-file), the CA \
             client certificates are checked against"
        )),
        (Some(false), true) => Err(format!(
            "-{side}client-cert-auth=false with -{side}ca-file: a CA always requires client \
             certificates here; leave out -{side}ca-file to serve clients without one"
        )),
        _ => Ok(()),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".into())
}

impl Config {
    /// Builds the configuration from parsed flags.
    pub fn from_flags(f: Flags) -> Result<Config, String> {
        let name = f.name.clone().unwrap_or_else(hostname);
        if name.is_empty() || name.contains('/') {
            return Err(format!(
                "invalid -name {name:?}: must be non-empty, without '/'"
            ));
        }
        let data_dir = f
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{name}.etcd")));
        let client_tls = TlsFiles {
            cert: f.cert_file.clone(),
            key: f.key_file.clone(),
            ca: f.ca_file.clone(),
        };
        let peer_tls = TlsFiles {
            cert: f.peer_cert_file.clone(),
            key: f.peer_key_file.clone(),
            ca: f.peer_ca_file.clone(),
        };
        cert_auth_agrees(f.client_cert_auth, &client_tls, "")?;
        cert_auth_agrees(f.peer_client_cert_auth, &peer_tls, "peer-")?;
        let addr = host_port(&f.addr);
        let peer_addr = host_port(&f.peer_addr);
        let scheme = |t: &TlsFiles| if t.enabled() { "https" } else { "http" };
        let mut peers: Vec<String> = f
            .peers
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(p) = &f.peers_file {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read -peers-file {}: {e}", p.display()))?;
            peers.extend(
                text.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
        if f.peer_heartbeat_timeout == 0 || f.peer_election_timeout < 2 * f.peer_heartbeat_timeout {
            return Err(
                "-peer-election-timeout must be at least twice -peer-heartbeat-timeout (ms)".into(),
            );
        }
        let cors = f
            .cors
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Config {
            name,
            data_dir,
            client_url: format!("{}://{addr}", scheme(&client_tls)),
            peer_url: format!("{}://{peer_addr}", scheme(&peer_tls)),
            bind_addr: bind_of(f.bind_addr.as_deref(), &addr),
            peer_bind_addr: bind_of(f.peer_bind_addr.as_deref(), &peer_addr),
            peers,
            force: f.force,
            force_new_cluster: f.force_new_cluster,
            local_reads: f.local_reads,
            cors,
            snapshot_count: f.snapshot_count.max(1),
            heartbeat: Duration::from_millis(f.peer_heartbeat_timeout),
            election_timeout: Duration::from_millis(f.peer_election_timeout),
            history_size: f.history_size.max(1),
            log_level: if f.very_verbose {
                "trace"
            } else if f.verbose {
                "debug"
            } else {
                "info"
            },
            client_tls,
            peer_tls,
        })
    }

    /// Puts the bound ports into the advertised URLs that ask for port 0 (`-addr host:0`); an
    /// advertised URL with a real port stays, as a proxy or NAT may stand in front of the
    /// listener.
    pub fn advertise_bound_ports(&mut self, client_port: u16, peer_port: u16) {
        self.client_url = with_port_for_zero(&self.client_url, client_port);
        self.peer_url = with_port_for_zero(&self.peer_url, peer_port);
    }
}

#[cfg(test)]
mod tests;
