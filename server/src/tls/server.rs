//! [`ServerTls`]: a listening port's rustls configuration, its reloading certificate, and
//! client-certificate verification when a CA is given; [`Acceptor`], what accepts its
//! connections and tells who a client certificate names.

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::identity::{ChainNamer, ClientCertificate};
use super::load::{cert_and_key, load_roots, provider};
use super::reload::{spawn_reloader, ReloadingCert};
use super::{FlagFile, Side, TlsError};
use crate::config::TlsFiles;

/// TLS for one listening port: the rustls config and its reloading certificate.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    cert: Arc<ReloadingCert>,
    /// With a CA: what names the client certificates it verifies.
    namer: Option<Arc<ChainNamer>>,
}

/// Accepts a port's TLS connections (for [`crate::http::serve`]), and names the verified
/// client certificate of each.
#[derive(Clone)]
pub struct Acceptor {
    /// The handshake.
    pub tls: TlsAcceptor,
    namer: Option<Arc<ChainNamer>>,
}

impl Acceptor {
    /// The certificate chain the client of an established connection presented, when this
    /// port verifies client certificates (a CA was given): rustls checked it in the handshake.
    pub fn client_certificate(&self, conn: &ServerConnection) -> Option<ClientCertificate> {
        let namer = self.namer.clone()?;
        let chain = conn.peer_certificates()?.to_vec();
        Some(ClientCertificate::new(chain, namer))
    }
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
        let mut namer = None;
        let builder = match &files.ca {
            Some(ca) => {
                let ca = FlagFile::new(side.ca_flag(), ca);
                let roots = load_roots(&ca)?;
                namer = Some(Arc::new(ChainNamer::new(&roots, provider())));
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
            namer,
        }))
    }

    /// An acceptor for [`crate::http::serve`].
    pub fn acceptor(&self) -> Acceptor {
        Acceptor {
            tls: TlsAcceptor::from(self.config.clone()),
            namer: self.namer.clone(),
        }
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
    /// [`RELOAD_POLL`](super::RELOAD_POLL) when they changed, and at once on SIGHUP. Needs a
    /// tokio runtime.
    pub fn spawn_reloader(&self, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        spawn_reloader(self.cert.clone(), shutdown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::fixtures::files;

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
}
