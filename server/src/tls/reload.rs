//! Certificate rotation without a restart: [`ReloadingCert`] serves the current certificate
//! and re-reads its files when their stamps change (polled every [`RELOAD_POLL`]) or on
//! SIGHUP; a failed reload keeps the old certificate and logs why.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{load_certified_key, CertSummary, FlagFile, TlsError, RELOAD_POLL};

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

/// Watches `cert`'s files until `shutdown` turns true: every [`RELOAD_POLL`] when they
/// changed, and at once on SIGHUP. Needs a tokio runtime.
pub(super) fn spawn_reloader(
    cert: Arc<ReloadingCert>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
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

/// The next SIGHUP, or never when there is no handler.
async fn next_hup(hup: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match hup {
        Some(h) => h.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::fixtures::fixture;

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
}
