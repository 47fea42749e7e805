//! The command line, defined once with clap: `--help`, completions and man pages all come from
//! here (see `generate.rs`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Output formats of the Go etcdctl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Values only.
    Simple,
    /// Key, indexes and TTL, then the value.
    Extended,
    /// The response as one line of JSON (the Go etcdctl's fields).
    Json,
}

/// Shells `etcdctl completion` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Parses a Go-style duration (`2s`, `500ms`, `1m30s`) or a bare number of seconds, as the Go
/// etcdctl's `--timeout 2s` and older scripts' `--timeout 2` both appear in the wild.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("invalid duration {s:?}"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {s:?}"))?;
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("unknown unit {unit:?} in duration {s:?}")),
        };
        total += Duration::from_secs_f64(n * scale);
        rest = tail;
    }
    Ok(total)
}

/// A command-line client for etcd's v2 API.
#[derive(Debug, Parser)]
#[command(
    name = "etcdctl",
    version,
    about,
    after_help = "Examples:\n  etcdctl --endpoints http://127.0.0.1:4001 set /foo bar\n  etcdctl -o json get /foo\n  etcdctl ls --recursive /"
)]
pub struct Cli {
    /// Global flags.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct Global {
    /// Comma-separated machine addresses.
    #[arg(long, env = "ETCDCTL_ENDPOINTS", global = true)]
    pub endpoints: Option<String>,
    /// Deprecated alias of --endpoints.
    #[arg(long, short = 'C', env = "ETCDCTL_PEERS", global = true)]
    pub peers: Option<String>,
    /// Deprecated alias of --endpoints (one address).
    #[arg(long, env = "ETCDCTL_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "simple", global = true)]
    pub output: Format,
    /// Use the given endpoints only; do not ask /v2/members for the cluster's client URLs.
    #[arg(long = "no-sync", global = true)]
    pub no_sync: bool,
    /// Print each HTTP request (as a curl command) on stderr.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Time allowed for each request, watches excepted (`2s`, `500ms`, or seconds).
    #[arg(long, default_value = "2s", value_parser = parse_duration, global = true)]
    pub timeout: Duration,
    /// Time allowed for the whole command, endpoint retries included (watches excepted).
    #[arg(long = "total-timeout", default_value = "5s", value_parser = parse_duration, global = true)]
    pub total_timeout: Duration,
    /// Client certificate (PEM) for TLS.
    #[arg(long = "cert-file", env = "ETCDCTL_CERT_FILE", global = true)]
    pub cert_file: Option<PathBuf>,
    /// Client private key (PEM) for TLS.
    #[arg(long = "key-file", env = "ETCDCTL_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// CA bundle (PEM) that signed the servers' certificates.
    #[arg(long = "ca-file", env = "ETCDCTL_CA_FILE", global = true)]
    pub ca_file: Option<PathBuf>,
    /// Authenticate as `user[:password]` (the password is asked for when left out).
    #[arg(long, short = 'u', env = "ETCDCTL_USERNAME", global = true)]
    pub username: Option<String>,
}

impl Global {
    /// Endpoints to try in order; the default reaches a local server on 4001, then 2379.
    pub fn endpoint_list(&self) -> Vec<String> {
        let raw = self
            .endpoints
            .clone()
            .or_else(|| self.peers.clone())
            .or_else(|| self.endpoint.clone())
            .unwrap_or_else(|| "http://127.0.0.1:4001,http://127.0.0.1:2379".into());
        normalize_endpoints(raw.split(','))
    }
}

/// Trims, drops empties, adds `http://` to bare `host:port` and strips a trailing `/`.
pub fn normalize_endpoints<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    raw.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.contains("://") {
                s.trim_end_matches('/').to_string()
            } else {
                format!("http://{s}")
            }
        })
        .collect()
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Set the value of a key (the value is read from stdin when omitted).
    #[command(
        after_help = "Examples:\n  etcdctl set /foo bar --ttl 60\n  echo -n bar | etcdctl set /foo"
    )]
    Set {
        /// The key.
        key: String,
        /// The value (default: all of stdin).
        value: Option<String>,
        /// Time to live in seconds (0 or none: never expire).
        #[arg(long)]
        ttl: Option<u64>,
        /// Only set if the current value is this.
        #[arg(long = "swap-with-value")]
        swap_with_value: Option<String>,
        /// Only set if the current modifiedIndex is this.
        #[arg(long = "swap-with-index")]
        swap_with_index: Option<u64>,
    },
    /// Make a new key, failing if it exists (the value is read from stdin when omitted).
    #[command(
        after_help = "Examples:\n  etcdctl mk /foo bar\n  etcdctl mk --in-order /queue job1"
    )]
    Mk {
        /// The key (with --in-order: the directory to add to).
        key: String,
        /// The value (default: all of stdin).
        value: Option<String>,
        /// Time to live in seconds (0 or none: never expire).
        #[arg(long)]
        ttl: Option<u64>,
        /// Create a key with a unique, increasing name inside the directory.
        #[arg(long = "in-order")]
        in_order: bool,
    },
    /// Make a new directory, failing if it exists.
    #[command(after_help = "Example:\n  etcdctl mkdir /dir --ttl 60")]
    Mkdir {
        /// The directory.
        key: String,
        /// Time to live in seconds (0 or none: never expire).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Create a directory, or fail if a key or directory of that name exists.
    #[command(after_help = "Example:\n  etcdctl setdir /dir --ttl 60")]
    Setdir {
        /// The directory.
        key: String,
        /// Time to live in seconds (0 or none: never expire).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Update an existing key (the value is read from stdin when omitted).
    #[command(
        after_help = "Examples:\n  etcdctl update /foo baz\n  etcdctl update /foo < value.txt"
    )]
    Update {
        /// The key.
        key: String,
        /// The value (default: all of stdin).
        value: Option<String>,
        /// Time to live in seconds (0 or none: never expire).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Update the TTL of an existing directory.
    #[command(after_help = "Example:\n  etcdctl updatedir /dir --ttl 120")]
    Updatedir {
        /// The directory.
        key: String,
        /// Time to live in seconds (0 or none: never expire).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Print the value of a key.
    #[command(after_help = "Examples:\n  etcdctl get /foo\n  etcdctl -o extended get /foo")]
    Get {
        /// The key.
        key: String,
        /// Sort the result.
        #[arg(long)]
        sort: bool,
        /// Read through the leader (a linearizable read).
        #[arg(long, short = 'q')]
        quorum: bool,
    },
    /// Remove a key or a directory.
    #[command(after_help = "Examples:\n  etcdctl rm /foo\n  etcdctl rm --recursive /dir")]
    Rm {
        /// The key.
        key: String,
        /// Remove an empty directory too.
        #[arg(long)]
        dir: bool,
        /// Remove a directory and everything in it.
        #[arg(long, short = 'r')]
        recursive: bool,
        /// Only remove if the current value is this.
        #[arg(long = "with-value")]
        with_value: Option<String>,
        /// Only remove if the current modifiedIndex is this.
        #[arg(long = "with-index")]
        with_index: Option<u64>,
    },
    /// Remove an empty directory.
    #[command(after_help = "Example:\n  etcdctl rmdir /dir")]
    Rmdir {
        /// The directory.
        key: String,
    },
    /// List a directory.
    #[command(after_help = "Examples:\n  etcdctl ls\n  etcdctl ls --recursive -p /dir")]
    Ls {
        /// The directory (default /).
        key: Option<String>,
        /// List everything below.
        #[arg(long, short = 'r')]
        recursive: bool,
        /// Sort the listing.
        #[arg(long)]
        sort: bool,
        /// Append / to directories.
        #[arg(short = 'p')]
        p: bool,
        /// Read through the leader (a linearizable read).
        #[arg(long, short = 'q')]
        quorum: bool,
    },
    /// Wait for a change to a key and print it.
    #[command(
        after_help = "Examples:\n  etcdctl watch /foo\n  etcdctl watch --forever --recursive /\n\nA dropped connection or a restarted server is retried (100ms doubling to 5s) from the\nlast index seen, so no change is missed; if etcd has already forgotten that index (error\n401) the watch fails with exit 4 rather than skip the gap."
    )]
    Watch {
        /// The key.
        key: String,
        /// Keep watching.
        #[arg(long, short = 'f')]
        forever: bool,
        /// Watch from just after this index (0: from now).
        #[arg(long = "after-index")]
        after_index: Option<u64>,
        /// Watch everything below the key.
        #[arg(long, short = 'r')]
        recursive: bool,
    },
    /// Run a command each time a key changes.
    #[command(
        name = "exec-watch",
        after_help = "Example:\n  etcdctl exec-watch --recursive /dir -- sh -c 'echo \"$ETCD_WATCH_ACTION $ETCD_WATCH_KEY\"'\n\nThe command runs once per change, one at a time, with ETCD_WATCH_ACTION, ETCD_WATCH_KEY,\nETCD_WATCH_VALUE and ETCD_WATCH_MODIFIED_INDEX in its environment. Directory changes are\nskipped. Dropped connections and server restarts are retried; exec-watch stops only when\netcd has forgotten changes it has not seen yet (error 401, exit 4)."
    )]
    ExecWatch {
        /// The key.
        key: String,
        /// Watch from just after this index (0: from now).
        #[arg(long = "after-index")]
        after_index: Option<u64>,
        /// Watch everything below the key.
        #[arg(long, short = 'r')]
        recursive: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Cluster membership: list, add, remove.
    #[command(
        subcommand,
        after_help = "Examples:\n  etcdctl member list\n  etcdctl member add node2 http://127.0.0.1:7002\n  etcdctl member remove 2e1259d415f2a040"
    )]
    Member(MemberCmd),
    /// Users of etcd's auth: add, get, list, remove, grant, revoke, passwd.
    #[command(
        subcommand,
        after_help = "Examples:\n  etcdctl user add root\n  etcdctl --username root user grant --roles readers alice"
    )]
    User(UserCmd),
    /// Roles of etcd's auth: add, get, list, remove, grant, revoke.
    #[command(
        subcommand,
        after_help = "Examples:\n  etcdctl role add readers\n  etcdctl role grant --path '/config/*' --read readers"
    )]
    Role(RoleCmd),
    /// Turn etcd's auth on or off.
    #[command(
        subcommand,
        after_help = "Examples:\n  etcdctl auth enable\n  etcdctl --username root auth disable"
    )]
    Auth(AuthCmd),
    /// Check the health of every member.
    #[command(
        name = "cluster-health",
        after_help = "Examples:\n  etcdctl cluster-health\n  etcdctl cluster-health --forever\n\nExit code 0 when the cluster is healthy, 5 otherwise."
    )]
    ClusterHealth {
        /// Check again every 10 seconds, forever.
        #[arg(long, short = 'f')]
        forever: bool,
    },
    /// Print a subtree (keys, values, directories, TTLs) as JSON on stdout.
    #[command(
        after_help = "Examples:\n  etcdctl export / > backup.json\n  etcdctl export /app --include-hidden /app/_lock > app.json\n\nThe v2 API never lists hidden keys (names starting with `_`), so they are exported only\nwhen named with --include-hidden or when the exported directory itself is hidden."
    )]
    Export {
        /// The directory (default /).
        key: Option<String>,
        /// A hidden key or directory to export too (repeatable).
        #[arg(long = "include-hidden", value_name = "KEY")]
        include_hidden: Vec<String>,
    },
    /// Recreate a tree written by `export` (TTLs preserved), with parallel requests.
    #[command(
        after_help = "Examples:\n  etcdctl import backup.json\n  etcdctl import --jobs 64 backup.json\n\nExisting keys are overwritten; existing directories get the exported TTL."
    )]
    Import {
        /// The file `export` wrote (`-` for stdin).
        file: PathBuf,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
        jobs: u16,
    },
    /// Copy a member's data dir (while it runs) into a backup that
    /// `etcd -data-dir <backup> -force-new-cluster` starts as a new one-member cluster.
    #[command(
        after_help = "Examples:\n  etcdctl backup --data-dir /var/lib/etcd --backup-dir /backup/etcd-$(date +%F)\n  etcd -name recovered -data-dir /backup/etcd-2026-12-01 -force-new-cluster\n\nThe copy holds every key, hidden ones included, and the member's identity; it carries a\nmarker so that it starts only with -force-new-cluster, never as a second copy of its member.\nUnlike `export`, it needs file access to the data dir, not a connection."
    )]
    Backup {
        /// The member's data dir.
        #[arg(long = "data-dir", value_name = "DIR")]
        data_dir: PathBuf,
        /// Where to write the backup (a new or empty directory).
        #[arg(long = "backup-dir", value_name = "DIR")]
        backup_dir: PathBuf,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  etcdctl completion bash > /etc/bash_completion.d/etcdctl\n  etcdctl completion zsh > \"${fpath[1]}/_etcdctl\"\n  etcdctl completion fish > ~/.config/fish/completions/etcdctl.fish"
    )]
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(after_help = "Examples:\n  etcdctl man | man -l -\n  etcdctl man --dir man/")]
    Man {
        /// Write etcdctl.1 and etcdctl-<command>.1 into this directory instead.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub use crate::cli_auth::{AuthCmd, RoleCmd, UserCmd};

/// `etcdctl member …`.
#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// List the members.
    #[command(after_help = "Example:\n  etcdctl member list")]
    List,
    /// Add a member (then start it with the printed environment).
    #[command(after_help = "Example:\n  etcdctl member add node2 http://127.0.0.1:7002")]
    Add {
        /// The new member's name.
        name: String,
        /// Its peer URLs, comma-separated.
        peer_urls: String,
    },
    /// Remove a member by id.
    #[command(after_help = "Example:\n  etcdctl member remove 2e1259d415f2a040")]
    Remove {
        /// The member id (16 hex digits, from `member list`).
        id: String,
    },
}

#[cfg(test)]
mod tests;
