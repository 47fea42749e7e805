//! The client side of peer links: a rustls client config that presents this member's
//! certificate and trusts the peer CA.

use std::time::SystemTime;

use rustls::{ClientConfig, RootCertStore};

use super::load::{cert_and_key, load_certified_key, load_roots, provider, read_key};
use super::{FlagFile, Side, TlsError};
use crate::config::TlsFiles;

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
    use tokio::sync::watch;

    use crate::tls::fixtures::files;
    use crate::tls::ServerTls;

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
