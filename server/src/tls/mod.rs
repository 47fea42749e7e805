//! TLS for the client and peer ports: rustls configurations built from the `-cert-file`,
//! `-key-file` and `-ca-file` flags (or their `-peer-` twins), client-certificate checks, and
//! certificate rotation without a restart.
//!
//! - `error`: [`TlsError`], one line per misconfiguration;
//! - `load`: files into rustls types (PEM, the leaf's validity, key match, CA roots);
//! - `server`: [`ServerTls`], a port's config, with client-certificate verification;
//! - `reload`: [`ReloadingCert`], the served certificate re-read when its files change;
//! - `client`: [`client_config`], the peer links' side;
//! - `identity`: [`ClientCertificate`], the names a verified client certificate chain
//!   carries, for v2 auth's certificate-CN users.
//!
//! Everything here uses rustls with the *ring* provider, so no OpenSSL ends up in the binary.
//! Every misconfiguration becomes one [`TlsError`] whose `Display` is a single line naming the
//! flag and the file, because `etcd` prints it and exits at start.
//!
//! The server side ([`ServerTls`]) resolves its certificate through [`ReloadingCert`], which
//! holds the current [`CertifiedKey`](rustls::sign::CertifiedKey) behind a lock: a new
//! handshake picks up whatever is current, while open connections keep the keys they were
//! established with. The files are polled every [`RELOAD_POLL`] and re-read at once on
//! SIGHUP; a failed reload keeps the old certificate and logs why. The CA (client
//! verification) is fixed at start.
//!
//! The client side ([`client_config`]) is for peer links: it presents this member's
//! certificate and trusts the peer CA. Plug it into reqwest with
//! `reqwest::Client::builder().use_preconfigured_tls(tls::client_config(&cfg.peer_tls,
//! Side::Peer)?)` (reqwest's `rustls-tls` feature; the same rustls 0.23 as here).

mod client;
mod error;
#[cfg(test)]
mod fixtures;
mod identity;
mod load;
mod reload;
mod server;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use client::client_config;
pub use error::TlsError;
pub use identity::{ChainNamer, ClientCertificate};
pub use load::{load_certified_key, CertSummary};
pub use reload::ReloadingCert;
pub use server::{Acceptor, ServerTls};

/// How often the certificate and key files are checked for changes.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);

/// Largest certificate, key or CA file we read: real ones are a few KiB; this bounds what a
/// wrong path (a log file, a device) can make us load.
pub const MAX_PEM_FILE: u64 = 1024 * 1024;

/// Which port a set of TLS files belongs to; only used to name the right flags in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client port: `-cert-file`, `-key-file`, `-ca-file`.
    Client,
    /// The peer port: `-peer-cert-file`, `-peer-key-file`, `-peer-ca-file`.
    Peer,
}

impl Side {
    fn cert_flag(self) -> &'static str {
        match self {
            Side::Client => "-cert-file",
            Side::Peer => "-peer-cert-file",
        }
    }
    fn key_flag(self) -> &'static str {
        match self {
            Side::Client => "-key-file",
            Side::Peer => "-peer-key-file",
        }
    }
    fn ca_flag(self) -> &'static str {
        match self {
            Side::Client => "-ca-file",
            Side::Peer => "-peer-ca-file",
        }
    }
}

/// A file named by a flag, shown as `-cert-file ./server.crt` in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagFile {
    /// The flag that named the file.
    pub flag: &'static str,
    /// The path as given.
    pub path: PathBuf,
}

impl FlagFile {
    fn new(flag: &'static str, path: &Path) -> FlagFile {
        FlagFile {
            flag,
            path: path.to_path_buf(),
        }
    }
}

impl fmt::Display for FlagFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.flag, self.path.display())
    }
}
