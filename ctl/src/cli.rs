//! The command line, defined once with clap: help comes from here.

use clap::{Parser, Subcommand, ValueEnum};

/// Output formats of the Go etcdctl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Values only.
    Simple,
    /// Key, indexes and TTL, then the value.
    Extended,
    /// The server's JSON response.
    Json,
}

/// A command-line client for etcd's v2 API.
#[derive(Debug, Parser)]
#[command(name = "etcdctl", version, about)]
pub struct Cli {
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
    /// Seconds to wait for each request (watches excepted).
    #[arg(long = "timeout", default_value_t = 2, global = true)]
    pub timeout_secs: u64,
    /// The command.
    #[command(subcommand)]
    pub command: Cmd,
}

impl Cli {
    /// Endpoints to try in order; the default reaches a local server on 4001, then 2379.
    pub fn endpoint_list(&self) -> Vec<String> {
        let raw = self
            .endpoints
            .clone()
            .or_else(|| self.peers.clone())
            .or_else(|| self.endpoint.clone())
            .unwrap_or_else(|| "http://127.0.0.1:4001,http://127.0.0.1:2379".into());
        raw.split(',')
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
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Set the value of a key.
    #[command(after_help = "Example:\n  etcdctl set /foo bar --ttl 60")]
    Set {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Time to live in seconds.
        #[arg(long)]
        ttl: Option<u64>,
        /// Only set if the current value is this.
        #[arg(long = "swap-with-value")]
        swap_with_value: Option<String>,
        /// Only set if the current modifiedIndex is this.
        #[arg(long = "swap-with-index")]
        swap_with_index: Option<u64>,
    },
    /// Make a new key, failing if it exists.
    #[command(after_help = "Example:\n  etcdctl mk /foo bar")]
    Mk {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Time to live in seconds.
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Make a new directory, failing if it exists.
    #[command(after_help = "Example:\n  etcdctl mkdir /dir")]
    Mkdir {
        /// The directory.
        key: String,
        /// Time to live in seconds.
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Update an existing key.
    #[command(after_help = "Example:\n  etcdctl update /foo baz")]
    Update {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Time to live in seconds.
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Print the value of a key.
    #[command(after_help = "Example:\n  etcdctl get /foo")]
    Get {
        /// The key.
        key: String,
        /// Sort the result.
        #[arg(long)]
        sort: bool,
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
    },
    /// Wait for a change to a key and print it.
    #[command(
        after_help = "Examples:\n  etcdctl watch /foo\n  etcdctl watch --forever --recursive /"
    )]
    Watch {
        /// The key.
        key: String,
        /// Keep watching.
        #[arg(long, short = 'f')]
        forever: bool,
        /// Watch from just after this index.
        #[arg(long = "after-index")]
        after_index: Option<u64>,
        /// Watch everything below the key.
        #[arg(long, short = 'r')]
        recursive: bool,
    },
}
