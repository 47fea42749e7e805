//! TLS for the client and peer ports: rustls configurations built from the `-cert-file`,
//! `-key-file` and `-ca-file` flags (or their `-peer-` twins), client-certificate checks, and
//! certificate rotation without a restart.
//!
//! Everything here uses rustls with the *ring* provider, so no OpenSSL ends up in the binary.
//! Every misconfiguration becomes one [`TlsError`] whose `Display` is a single line naming the
//! flag and the file, because `etcd` prints it and exits at start.
//!
//! The server side ([`ServerTls`]) resolves its certificate through [`ReloadingCert`], which
//! holds the current [`CertifiedKey`] behind a lock: a new handshake picks up whatever is
//! current, while open connections keep the keys they were established with. The files are
//! polled every [`RELOAD_POLL`] and re-read at once on SIGHUP; a failed reload keeps the old
//! certificate and logs why. The CA (client verification) is fixed at start.
//!
//! The client side ([`client_config`]) is for peer links: it presents this member's
//! certificate and trusts the peer CA. Plug it into reqwest with
//! `reqwest::Client::builder().use_preconfigured_tls(tls::client_config(&cfg.peer_tls,
//! Side::Peer)?)` (reqwest's `rustls-tls` feature; the same rustls 0.23 as here).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

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

/// A TLS misconfiguration, worded as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate without its key.
    #[error("{cert} is given without {key_flag}: TLS needs the certificate and its key")]
    MissingKey {
        /// The certificate.
        cert: FlagFile,
        /// The flag that was left out.
        key_flag: &'static str,
    },
    /// A key without its certificate.
    #[error("{key} is given without {cert_flag}: TLS needs the certificate and its key")]
    MissingCert {
        /// The key.
        key: FlagFile,
        /// The flag that was left out.
        cert_flag: &'static str,
    },
    /// A CA without a certificate and key to serve with.
    #[error("{ca} is given without {cert_flag} and {key_flag}")]
    CaWithoutCert {
        /// The CA file.
        ca: FlagFile,
        /// The certificate flag that was left out.
        cert_flag: &'static str,
        /// The key flag that was left out.
        key_flag: &'static str,
    },
    /// The file cannot be read.
    #[error("cannot read {file}: {reason}")]
    Unreadable {
        /// The file.
        file: FlagFile,
        /// Why (the OS error, or "larger than ...").
        reason: String,
    },
    /// The file is not valid PEM.
    #[error("{file} is not valid PEM: {reason}")]
    MalformedPem {
        /// The file.
        file: FlagFile,
        /// What the PEM parser said.
        reason: String,
    },
    /// No `CERTIFICATE` block in a certificate or CA file.
    #[error("{file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate {
        /// The file.
        file: FlagFile,
    },
    /// No private key block in the key file.
    #[error("{file} holds no PEM private key (PKCS#8, RSA or EC)")]
    NoKey {
        /// The file.
        file: FlagFile,
    },
    /// A `CERTIFICATE` block that is not a parseable X.509 certificate.
    #[error("{file} is not a valid X.509 certificate: {reason}")]
    BadCertificate {
        /// The file.
        file: FlagFile,
        /// What the parser said.
        reason: String,
    },
    /// The certificate's validity ended.
    #[error("{file}: certificate expired on {not_after}")]
    Expired {
        /// The file.
        file: FlagFile,
        /// The end of its validity, UTC.
        not_after: String,
    },
    /// The certificate's validity has not begun.
    #[error("{file}: certificate is not valid before {not_before}")]
    NotYetValid {
        /// The file.
        file: FlagFile,
        /// The start of its validity, UTC.
        not_before: String,
    },
    /// A key rustls cannot use (unsupported algorithm or corrupt).
    #[error("{file}: unusable private key: {reason}")]
    BadKey {
        /// The file.
        file: FlagFile,
        /// What rustls said.
        reason: String,
    },
    /// The key is not the one the certificate was issued for.
    #[error("{key} does not match {cert}")]
    KeyMismatch {
        /// The certificate.
        cert: FlagFile,
        /// The key.
        key: FlagFile,
    },
    /// A CA certificate that cannot be a trust anchor.
    #[error("{file}: unusable CA certificate: {reason}")]
    BadCa {
        /// The CA file.
        file: FlagFile,
        /// What rustls said.
        reason: String,
    },
    /// rustls refused the assembled configuration.
    #[error("TLS configuration rejected: {0}")]
    Config(String),
}

/// The crypto provider every config here uses: explicit, so that no process-wide default (or
/// a second provider pulled in by another crate) decides.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM file, bounded by [`MAX_PEM_FILE`].
fn read_pem(file: &FlagFile) -> Result<Vec<u8>, TlsError> {
    use std::io::Read;
    let unreadable = |reason: String| TlsError::Unreadable {
        file: file.clone(),
        reason,
    };
    let f = std::fs::File::open(&file.path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::new();
    f.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_PEM_FILE {
        return Err(unreadable(format!("larger than {MAX_PEM_FILE} bytes")));
    }
    Ok(bytes)
}

/// Every `CERTIFICATE` block of a file, in order; at least one.
fn read_certs(file: &FlagFile) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_pem(file)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::MalformedPem {
            file: file.clone(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { file: file.clone() });
    }
    Ok(certs)
}

/// The first private key of a file.
fn read_key(file: &FlagFile) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_pem(file)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey { file: file.clone() },
        e => TlsError::MalformedPem {
            file: file.clone(),
            reason: e.to_string(),
        },
    })
}

/// `2001-01-01 00:00:00 UTC` from Unix seconds.
fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{secs} (Unix time)"))
}

/// What we log about a certificate: never key material, only who it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// The subject, as `O=..., CN=...`.
    pub subject: String,
    /// The serial number in hex.
    pub serial: String,
    /// End of validity, UTC.
    pub not_after: String,
}

/// Parses the end-entity certificate and checks that `now` lies in its validity.
fn check_validity(
    der: &CertificateDer<'_>,
    file: &FlagFile,
    now: SystemTime,
) -> Result<CertSummary, TlsError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| {
        TlsError::BadCertificate {
            file: file.clone(),
            reason: e.to_string(),
        }
    })?;
    // A clock before 1970 is not a state to refuse service over; treat it as the epoch.
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(TlsError::NotYetValid {
            file: file.clone(),
            not_before: utc(validity.not_before.timestamp()),
        });
    }
    if now > validity.not_after.timestamp() {
        return Err(TlsError::Expired {
            file: file.clone(),
            not_after: utc(validity.not_after.timestamp()),
        });
    }
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        serial: cert.raw_serial_as_string(),
        not_after: utc(validity.not_after.timestamp()),
    })
}

/// Loads a certificate chain and its key, checking that the leaf is valid at `now` and that
/// the key is the one the leaf certifies.
pub fn load_certified_key(
    cert: &FlagFile,
    key: &FlagFile,
    now: SystemTime,
) -> Result<(CertifiedKey, CertSummary), TlsError> {
    let chain = read_certs(cert)?;
    let summary = check_validity(&chain[0], cert, now)?;
    let key_der = read_key(key)?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| TlsError::BadKey {
            file: key.clone(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // `Unknown`: the key type cannot report its public half; the handshake will tell.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok((certified, summary))
        }
        Err(_) => Err(TlsError::KeyMismatch {
            cert: cert.clone(),
            key: key.clone(),
        }),
    }
}

/// The certificate and key flags of `files`, both required.
fn cert_and_key(files: &TlsFiles, side: Side) -> Result<(FlagFile, FlagFile), TlsError> {
    match (&files.cert, &files.key) {
        (Some(c), Some(k)) => Ok((
            FlagFile::new(side.cert_flag(), c),
            FlagFile::new(side.key_flag(), k),
        )),
        (Some(c), None) => Err(TlsError::MissingKey {
            cert: FlagFile::new(side.cert_flag(), c),
            key_flag: side.key_flag(),
        }),
        (None, Some(k)) => Err(TlsError::MissingCert {
            key: FlagFile::new(side.key_flag(), k),
            cert_flag: side.cert_flag(),
        }),
        (None, None) => match &files.ca {
            Some(ca) => Err(TlsError::CaWithoutCert {
                ca: FlagFile::new(side.ca_flag(), ca),
                cert_flag: side.cert_flag(),
                key_flag: side.key_flag(),
            }),
            None => Err(TlsError::Config("no TLS files given".into())),
        },
    }
}

/// A trust store holding every certificate of a CA file.
fn load_roots(ca: &FlagFile) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for der in read_certs(ca)? {
        roots.add(der).map_err(|e| TlsError::BadCa {
            file: ca.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// Modification stamp of one file; `None` when it cannot be read (mid-replacement).
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    // Follows symlinks, so a swapped link (the Kubernetes secret layout) counts as a change.
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino()))
}

/// The serving certificate, re-read from disk when its files change.
///
/// rustls asks [`ResolvesServerCert::resolve`] once per handshake, so swapping the inner
/// [`CertifiedKey`] affects new connections only. A std lock is enough: it is held for an
/// `Arc` clone, never across an `.await`.
#[derive(Debug)]
pub struct ReloadingCert {
    cert: FlagFile,
    key: FlagFile,
    current: RwLock<(Arc<CertifiedKey>, CertSummary)>,
    /// File stamps at the last load attempt, successful or not, so that a broken file is
    /// reported once and retried only when it changes again.
    seen: Mutex<(Stamp, Stamp)>,
}

impl ReloadingCert {
    /// Loads the certificate and key once; errors are start-up errors.
    pub fn load(cert: FlagFile, key: FlagFile) -> Result<ReloadingCert, TlsError> {
        // Stamp before reading: a change landing during the read is then seen next poll.
        let seen = (stamp(&cert.path), stamp(&key.path));
        let (certified, summary) = load_certified_key(&cert, &key, SystemTime::now())?;
        Ok(ReloadingCert {
            cert,
            key,
            current: RwLock::new((Arc::new(certified), summary)),
            seen: Mutex::new(seen),
        })
    }

    /// Who the certificate now served names.
    pub fn summary(&self) -> CertSummary {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// Re-reads the files if their stamps changed since the last attempt (or always, when
    /// `force`). `Ok(Some(_))`: a new certificate is served; `Ok(None)`: nothing changed;
    /// `Err`: the files are broken and the old certificate stays. Blocking: reads files.
    pub fn reload(&self, force: bool) -> Result<Option<CertSummary>, TlsError> {
        let now_seen = (stamp(&self.cert.path), stamp(&self.key.path));
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if !force && *seen == now_seen {
                return Ok(None);
            }
            *seen = now_seen;
        }
        let (certified, summary) = load_certified_key(&self.cert, &self.key, SystemTime::now())?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            (Arc::new(certified), summary.clone());
        Ok(Some(summary))
    }

    /// [`reload`](Self::reload), logging the outcome.
    fn reload_logged(&self, force: bool) {
        match self.reload(force) {
            Ok(Some(s)) => tracing::info!(
                subject = %s.subject,
                serial = %s.serial,
                not_after = %s.not_after,
                "TLS certificate reloaded"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!("TLS certificate not reloaded, keeping the old one: {e}"),
        }
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .0
                .clone(),
        )
    }
}

/// TLS for one listening port: the rustls config and its reloading certificate.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    cert: Arc<ReloadingCert>,
}

impl ServerTls {
    /// `Ok(None)` when `files` asks for no TLS (no certificate, key or CA), else the loaded
    /// configuration. With a CA, clients must present a certificate it signed; the handshake
    /// fails otherwise.
    pub fn from_files(files: &TlsFiles, side: Side) -> Result<Option<ServerTls>, TlsError> {
        if files.cert.is_none() && files.key.is_none() && files.ca.is_none() {
            return Ok(None);
        }
        let (cert, key) = cert_and_key(files, side)?;
        let resolver = Arc::new(ReloadingCert::load(cert, key)?);
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match &files.ca {
            Some(ca) => {
                let ca = FlagFile::new(side.ca_flag(), ca);
                let roots = load_roots(&ca)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .map_err(|e| TlsError::BadCa {
                            file: ca.clone(),
                            reason: e.to_string(),
                        })?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(resolver.clone());
        // Our hyper builder speaks HTTP/1 only; say so, or an h2-preferring client would try.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(ServerTls {
            config: Arc::new(config),
            cert: resolver,
        }))
    }

    /// An acceptor for [`crate::http::serve`].
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }

    /// The reloading certificate (for its summary, or a manual reload).
    pub fn cert(&self) -> &Arc<ReloadingCert> {
        &self.cert
    }

    /// Watches the certificate and key files until `shutdown` turns true: every
    /// [`RELOAD_POLL`] when they changed, and at once on SIGHUP. Needs a tokio runtime.
    pub fn spawn_reloader(&self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let cert = self.cert.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            // Without a SIGHUP handler (it can fail only when signals are unavailable), the
            // poll alone still rotates.
            let mut hup = signal(SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(RELOAD_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            tick.tick().await; // the first tick is immediate; the files were just read
            loop {
                let force = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = next_hup(&mut hup) => true,
                    _ = shutdown.changed() => break,
                };
                let cert = cert.clone();
                // File reads block: keep them off the executor.
                let _ = tokio::task::spawn_blocking(move || cert.reload_logged(force)).await;
            }
        })
    }
}

/// The next SIGHUP, or never when there is no handler.
async fn next_hup(hup: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match hup {
        Some(h) => h.recv().await,
        None => std::future::pending().await,
    }
}

/// A client configuration for peer links (mutual TLS between members).
///
/// Trusts the CA file of `files` (`-peer-ca-file`), or the Mozilla roots when none is given
/// (as Go's client falls back to the system pool); presents `files`' certificate and key as
/// this member's identity when given (both or neither). The leaf is checked for validity and
/// key match as for serving. The config does not reload: build a new client to rotate.
///
/// ```ignore
/// let tls = etcd_server::tls::client_config(&cfg.peer_tls, Side::Peer)?;
/// let client = reqwest::Client::builder().use_preconfigured_tls(tls).build()?;
/// ```
pub fn client_config(files: &TlsFiles, side: Side) -> Result<ClientConfig, TlsError> {
    let roots = match &files.ca {
        Some(ca) => load_roots(&FlagFile::new(side.ca_flag(), ca))?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    if files.cert.is_none() && files.key.is_none() {
        return Ok(builder.with_no_client_auth());
    }
    let (cert, key) = cert_and_key(files, side)?;
    let (certified, _) = load_certified_key(&cert, &key, SystemTime::now())?;
    // Read the key again as DER: `CertifiedKey` keeps only the signing half, and rustls'
    // client builder wants the raw key to build its own.
    let key_der = read_key(&key)?;
    builder
        .with_client_auth_cert(certified.cert, key_der)
        .map_err(|e| TlsError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/ca")
            .join(name)
    }

    fn files(cert: Option<&str>, key: Option<&str>, ca: Option<&str>) -> TlsFiles {
        TlsFiles {
            cert: cert.map(fixture),
            key: key.map(fixture),
            ca: ca.map(fixture),
        }
    }

    fn err(f: TlsFiles) -> String {
        match ServerTls::from_files(&f, Side::Client) {
            Ok(_) => panic!("{f:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn no_files_no_tls() {
        assert!(ServerTls::from_files(&TlsFiles::default(), Side::Client)
            .expect("no TLS is fine")
            .is_none());
    }

    #[test]
    fn loads_server_pair_with_and_without_ca() {
        let t = ServerTls::from_files(
            &files(Some("server.crt"), Some("server.key.insecure"), None),
            Side::Client,
        )
        .expect("valid pair")
        .expect("TLS on");
        assert!(t.cert().summary().subject.contains("CN=server"));
        assert_eq!(t.config().alpn_protocols, vec![b"http/1.1".to_vec()]);
        ServerTls::from_files(
            &files(
                Some("server.crt"),
                Some("server.key.insecure"),
                Some("ca.crt"),
            ),
            Side::Client,
        )
        .expect("valid pair and CA");
    }

    #[test]
    fn certificate_without_key_and_key_without_certificate() {
        let e = err(files(Some("server.crt"), None, None));
        assert!(e.contains("given without -key-file"), "{e}");
        let e = err(files(None, Some("server.key.insecure"), None));
        assert!(e.contains("given without -cert-file"), "{e}");
        let e = err(files(None, None, Some("ca.crt")));
        assert!(e.contains("-ca-file"), "{e}");
        let e = match ServerTls::from_files(&files(Some("server.crt"), None, None), Side::Peer) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted"),
        };
        assert!(
            e.contains("-peer-cert-file") && e.contains("-peer-key-file"),
            "{e}"
        );
    }

    #[test]
    fn key_that_does_not_match() {
        let e = err(files(
            Some("server.crt"),
            Some("server2.key.insecure"),
            None,
        ));
        assert!(e.contains("does not match"), "{e}");
    }

    #[test]
    fn unreadable_file() {
        let e = err(files(
            Some("missing.crt"),
            Some("server.key.insecure"),
            None,
        ));
        assert!(e.starts_with("cannot read -cert-file"), "{e}");
        let e = err(files(Some("server.crt"), Some("missing.key"), None));
        assert!(e.starts_with("cannot read -key-file"), "{e}");
    }

    #[test]
    fn malformed_pem_and_non_certificates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = dir.path().join("broken.crt");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let f = TlsFiles {
            cert: Some(broken.clone()),
            key: Some(fixture("server.key.insecure")),
            ca: None,
        };
        assert!(err(f).contains("is not valid PEM"));

        let garbage = dir.path().join("garbage.crt");
        std::fs::write(&garbage, "hello\n").expect("write");
        let f = TlsFiles {
            cert: Some(garbage.clone()),
            key: Some(fixture("server.key.insecure")),
            ca: None,
        };
        assert!(err(f).contains("holds no PEM certificate"));

        // Valid base64 that is not DER.
        let notder = dir.path().join("notder.crt");
        std::fs::write(
            &notder,
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let f = TlsFiles {
            cert: Some(notder),
            key: Some(fixture("server.key.insecure")),
            ca: None,
        };
        assert!(err(f).contains("not a valid X.509 certificate"));

        // A certificate where the key should be.
        let f = files(Some("server.crt"), Some("server.crt"), None);
        assert!(err(f).contains("holds no PEM private key"));
    }

    #[test]
    fn expired_and_not_yet_valid() {
        let e = err(files(
            Some("expired.crt"),
            Some("expired.key.insecure"),
            None,
        ));
        assert!(e.contains("expired on 2001-01-01 00:00:00 UTC"), "{e}");
        let e = err(files(Some("notyet.crt"), Some("notyet.key.insecure"), None));
        assert!(e.contains("not valid before 2090-01-01"), "{e}");
    }

    #[test]
    fn ca_file_without_certificate() {
        let e = err(files(
            Some("server.crt"),
            Some("server.key.insecure"),
            Some("ca.key"),
        ));
        assert!(
            e.contains("-ca-file") && e.contains("holds no PEM certificate"),
            "{e}"
        );
    }

    #[test]
    fn validity_uses_the_given_time() {
        let cert = FlagFile::new("-cert-file", &fixture("server.crt"));
        let key = FlagFile::new("-key-file", &fixture("server.key.insecure"));
        let far = UNIX_EPOCH + Duration::from_secs(200 * 365 * 86_400);
        assert!(matches!(
            load_certified_key(&cert, &key, far),
            Err(TlsError::Expired { .. })
        ));
        assert!(load_certified_key(&cert, &key, SystemTime::now()).is_ok());
    }

    #[test]
    fn reload_swaps_on_change_and_keeps_old_on_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (c, k) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        std::fs::copy(fixture("server.crt"), &c).expect("copy");
        std::fs::copy(fixture("server.key.insecure"), &k).expect("copy");
        let r = ReloadingCert::load(
            FlagFile::new("-cert-file", &c),
            FlagFile::new("-key-file", &k),
        )
        .expect("load");
        assert!(r.reload(false).expect("unchanged").is_none());

        // Half a rotation: new cert, old key. Refused, old one kept.
        std::fs::copy(fixture("server2.crt"), &c).expect("copy");
        let e = r.reload(true).expect_err("mismatch");
        assert!(e.to_string().contains("does not match"));
        assert!(
            r.summary().subject.contains("CN=server,")
                || r.summary().subject.ends_with("CN=server")
        );

        std::fs::copy(fixture("server2.key.insecure"), &k).expect("copy");
        let s = r.reload(true).expect("valid").expect("reloaded");
        assert!(s.subject.contains("CN=server2"), "{s:?}");
        assert_eq!(r.summary(), s);
    }

    #[test]
    fn client_config_with_identity_and_ca() {
        let c = client_config(
            &files(
                Some("server2.crt"),
                Some("server2.key.insecure"),
                Some("ca.crt"),
            ),
            Side::Peer,
        )
        .expect("client config");
        assert!(c.client_auth_cert_resolver.has_certs());
        let c = client_config(&files(None, None, Some("ca.crt")), Side::Peer).expect("no identity");
        assert!(!c.client_auth_cert_resolver.has_certs());
        let e = client_config(
            &files(Some("server2.crt"), Some("server.key.insecure"), None),
            Side::Peer,
        )
        .expect_err("mismatch");
        assert!(e.to_string().contains("-peer-key-file"), "{e}");
    }

    /// The documented peer-link recipe end to end: `client_config` in a reqwest client
    /// against `http::serve` with a `ServerTls` that requires client certificates.
    #[tokio::test]
    async fn peer_mutual_tls_through_reqwest() {
        let server = ServerTls::from_files(
            &files(
                Some("server.crt"),
                Some("server.key.insecure"),
                Some("ca.crt"),
            ),
            Side::Peer,
        )
        .expect("server config")
        .expect("TLS on");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop_tx, stop_rx) = watch::channel(false);
        use warp::Filter;
        let filter = warp::any().map(|| warp::reply::Response::new("peer ok".into()));
        let task = tokio::spawn(crate::http::serve(
            listener,
            filter,
            stop_rx,
            Some(server.acceptor()),
            crate::http::MAX_PEER_CONNECTIONS,
        ));
        let url = format!("https://127.0.0.1:{}/", addr.port());

        let with_identity = client_config(
            &files(
                Some("server2.crt"),
                Some("server2.key.insecure"),
                Some("ca.crt"),
            ),
            Side::Peer,
        )
        .expect("client config");
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(with_identity)
            .build()
            .expect("reqwest client");
        let body = client
            .get(&url)
            .send()
            .await
            .expect("mutual TLS request")
            .text()
            .await
            .expect("body");
        assert_eq!(body, "peer ok");

        let anonymous =
            client_config(&files(None, None, Some("ca.crt")), Side::Peer).expect("config");
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(anonymous)
            .build()
            .expect("reqwest client");
        assert!(
            client.get(&url).send().await.is_err(),
            "no client cert must be refused"
        );

        // A client trusting another CA refuses our server.
        let foreign =
            client_config(&files(None, None, Some("foreign-ca.crt")), Side::Peer).expect("config");
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(foreign)
            .build()
            .expect("reqwest client");
        assert!(
            client.get(&url).send().await.is_err(),
            "untrusted server accepted"
        );

        let _ = stop_tx.send(true);
        task.await.expect("serve ends");
    }
}
