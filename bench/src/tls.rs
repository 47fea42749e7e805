//! The clients' side of HTTPS: a rustls config trusting the test CA, and agents built on it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The test CA and its certificates (`fixtures/ca`).
pub fn fixtures() -> PathBuf {
    etcd_integration::fixture("ca")
}

/// A rustls client config trusting only the CA in `cacert`.
pub fn client_config(cacert: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(cacert)
        .unwrap_or_else(|e| panic!("read {}: {e}", cacert.display()))
    {
        roots
            .add(cert.expect("PEM certificate"))
            .expect("usable CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A keep-alive agent with a `timeout` per request, speaking TLS through `tls` when given.
pub fn agent(tls: &Option<Arc<rustls::ClientConfig>>, timeout: Duration) -> ureq::Agent {
    let b = ureq::AgentBuilder::new().timeout(timeout);
    match tls {
        Some(c) => b.tls_config(c.clone()).build(),
        None => b.build(),
    }
}
