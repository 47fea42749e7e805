//! etcd 0.2's TOML configuration file (`-config FILE`, else `/etc/etcd/etcd.conf` when it
//! exists), with its key names: `addr`, `data_dir`, `[peer] addr`, ...
//!
//! Precedence as in etcd 0.2: a flag beats an `ETCD_*` variable, which beats the file, which
//! beats the default. clap knows where each value came from, so the file fills in only what
//! was left at its default.

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::Deserialize;

use crate::config::Flags;

/// Where etcd 0.2 looked for its configuration when no `-config` was given.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/etcd/etcd.conf";

/// The file's keys. Unknown keys are refused (a typo would otherwise be silently ignored);
/// keys etcd 0.2 and 0.3 had that mean nothing here are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    addr: Option<String>,
    bind_addr: Option<String>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    cors: Option<Vec<String>>,
    data_dir: Option<PathBuf>,
    name: Option<String>,
    peers: Option<Vec<String>>,
    peers_file: Option<PathBuf>,
    snapshot_count: Option<u64>,
    history_size: Option<usize>,
    verbose: Option<bool>,
    very_verbose: Option<bool>,
    max_cluster_size: Option<usize>,
    max_result_buffer: Option<usize>,
    max_retry_attempts: Option<usize>,
    snapshot: Option<bool>,
    // etcd 0.2/0.3 keys with no meaning here.
    #[allow(dead_code)]
    cpu_profile_file: Option<String>,
    #[allow(dead_code)]
    retry_interval: Option<f64>,
    #[allow(dead_code)]
    very_very_verbose: Option<bool>,
    #[allow(dead_code)]
    trace: Option<String>,
    #[allow(dead_code)]
    graphite_host: Option<String>,
    discovery: Option<String>,
    peer: Option<PeerSection>,
}

/// The `[peer]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerSection {
    addr: Option<String>,
    bind_addr: Option<String>,
    ca_file: Option<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    heartbeat_timeout: Option<u64>,
    election_timeout: Option<u64>,
}

/// Fills `flags` from the configuration file wherever neither a flag nor an environment
/// variable gave a value. The file is `-config`'s (which must exist), else the system one
/// if present.
pub fn apply(flags: &mut Flags, matches: &ArgMatches) -> Result<(), String> {
    let path = match &flags.config {
        Some(p) => p.clone(),
        None if Path::new(SYSTEM_CONFIG_PATH).exists() => PathBuf::from(SYSTEM_CONFIG_PATH),
        None => return Ok(()),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    let file: ConfigFile = toml::from_str(&text)
        .map_err(|e| format!("config file {}: {}", path.display(), describe(&e, &text)))?;
    if file.discovery.as_deref().is_some_and(|d| !d.is_empty()) {
        return Err(format!(
            "config file {}: discovery is not supported; list the members in peers",
            path.display()
        ));
    }
    merge(flags, matches, file);
    Ok(())
}

/// "line N: what" from a TOML error (its own text spans several lines with a snippet).
fn describe(e: &toml::de::Error, text: &str) -> String {
    let line = e
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let msg = e.message().trim();
    match line {
        Some(n) => format!("line {n}: {msg}"),
        None => msg.to_string(),
    }
}

/// Whether the argument `id` was left to its default (no flag, no environment variable).
fn unset(matches: &ArgMatches, id: &str) -> bool {
    !matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

fn merge(flags: &mut Flags, m: &ArgMatches, file: ConfigFile) {
    let peer = file.peer.unwrap_or_default();
    macro_rules! fill {
        ($field:ident, $id:literal, $value:expr) => {
            if let Some(v) = $value {
                if unset(m, $id) {
                    flags.$field = v.into();
                }
            }
        };
    }
    fill!(name, "name", file.name.map(Some));
    fill!(data_dir, "data_dir", file.data_dir.map(Some));
    fill!(addr, "addr", file.addr);
    fill!(bind_addr, "bind_addr", file.bind_addr.map(Some));
    fill!(peers, "peers", file.peers.map(|p| Some(p.join(","))));
    fill!(peers_file, "peers_file", file.peers_file.map(Some));
    fill!(cert_file, "cert_file", file.cert_file.map(Some));
    fill!(key_file, "key_file", file.key_file.map(Some));
    fill!(ca_file, "ca_file", file.ca_file.map(Some));
    fill!(cors, "cors", file.cors.map(|c| Some(c.join(","))));
    fill!(snapshot_count, "snapshot_count", file.snapshot_count);
    fill!(history_size, "history_size", file.history_size);
    fill!(verbose, "verbose", file.verbose);
    fill!(very_verbose, "very_verbose", file.very_verbose);
    fill!(max_cluster_size, "max_cluster_size", file.max_cluster_size);
    fill!(
        max_result_buffer,
        "max_result_buffer",
        file.max_result_buffer
    );
    fill!(
        max_retry_attempts,
        "max_retry_attempts",
        file.max_retry_attempts
    );
    fill!(
        snapshot,
        "snapshot",
        file.snapshot.map(|s| Some(s.to_string()))
    );
    fill!(peer_addr, "peer_addr", peer.addr);
    fill!(peer_bind_addr, "peer_bind_addr", peer.bind_addr.map(Some));
    fill!(peer_cert_file, "peer_cert_file", peer.cert_file.map(Some));
    fill!(peer_key_file, "peer_key_file", peer.key_file.map(Some));
    fill!(peer_ca_file, "peer_ca_file", peer.ca_file.map(Some));
    // 0 meant "the default" in etcd 0.2's file.
    fill!(
        peer_heartbeat_timeout,
        "peer_heartbeat_timeout",
        peer.heartbeat_timeout.filter(|t| *t > 0)
    );
    fill!(
        peer_election_timeout,
        "peer_election_timeout",
        peer.election_timeout.filter(|t| *t > 0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    /// Parses `args` (no environment involved: the ids checked here have no variable set in
    /// the test process) and applies `toml`.
    fn load(args: &[&str], toml: &str) -> Result<Flags, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etcd.conf");
        std::fs::write(&path, toml).unwrap();
        let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        argv.extend(["--config".to_string(), path.display().to_string()]);
        let m = Flags::command().try_get_matches_from(argv).unwrap();
        let mut f = Flags::from_arg_matches(&m).unwrap();
        apply(&mut f, &m)?;
        Ok(f)
    }

    const SEED_STYLE: &str = r#"
addr = "127.0.0.1:4101"
data_dir = "/tmp/m1"
name = "m1"
cors = ["http://a", "http://b"]
peers = ["127.0.0.1:7002", "127.0.0.1:7003"]
snapshot_count = 500
verbose = false
cpu_profile_file = ""

[peer]
addr = "127.0.0.1:7101"
heartbeat_timeout = 50
election_timeout = 0
"#;

    #[test]
    fn the_file_fills_what_flags_left_at_their_defaults() {
        let f = load(&["etcd"], SEED_STYLE).unwrap();
        assert_eq!(f.addr, "127.0.0.1:4101");
        assert_eq!(f.name.as_deref(), Some("m1"));
        assert_eq!(f.data_dir.as_deref(), Some(Path::new("/tmp/m1")));
        assert_eq!(f.cors.as_deref(), Some("http://a,http://b"));
        assert_eq!(f.peers.as_deref(), Some("127.0.0.1:7002,127.0.0.1:7003"));
        assert_eq!(f.snapshot_count, 500);
        assert_eq!(f.peer_addr, "127.0.0.1:7101");
        assert_eq!(f.peer_heartbeat_timeout, 50);
        assert_eq!(
            f.peer_election_timeout, 1000,
            "0 in the file is the default"
        );
    }

    #[test]
    fn a_flag_beats_the_file() {
        let f = load(
            &["etcd", "--name", "flagged", "--addr", "127.0.0.1:4999"],
            SEED_STYLE,
        )
        .unwrap();
        assert_eq!(f.name.as_deref(), Some("flagged"));
        assert_eq!(f.addr, "127.0.0.1:4999");
        assert_eq!(f.peer_addr, "127.0.0.1:7101");
    }

    #[test]
    fn a_bad_file_is_refused_naming_its_line() {
        let e = load(&["etcd"], "name = \"m\"\naddr = 4001\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = load(&["etcd"], "name = \"m\"\n\n[peer]\nadress = \"x\"\n").unwrap_err();
        assert!(e.contains("line 4") && e.contains("adress"), "{e}");
        let e = load(&["etcd"], "name = \"m\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
        let e = load(&["etcd"], "discovery = \"https://x\"\n").unwrap_err();
        assert!(e.contains("discovery is not supported"), "{e}");
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let m = Flags::command()
            .try_get_matches_from(["etcd", "--config", "/nonexistent/etcd.conf"])
            .unwrap();
        let mut f = Flags::from_arg_matches(&m).unwrap();
        let e = apply(&mut f, &m).unwrap_err();
        assert!(e.contains("/nonexistent/etcd.conf"), "{e}");
    }
}
