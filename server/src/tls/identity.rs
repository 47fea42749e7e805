//! Who a verified client certificate names: the Subject Common Names along its chain, leaf
//! first, as etcd 3.4's v2 auth reads them (`userFromClientCertificate` in
//! `v2http/client_auth.go`) to find the user a request without credentials comes from.
//!
//! etcd walks Go's `VerifiedChains`: every certificate of the chain from the leaf up to the
//! trusted CA, the CA included, and takes the first CN that names a user. So the names here
//! are the CNs of the path the verifier built, not only of what the client sent: the leaf,
//! the intermediates it chained through, and the CA certificate it ended on. rustls keeps
//! only what the client presented, so the path is built again with webpki (the verifier
//! rustls itself runs, with the same roots, algorithms and usage), once per connection and
//! only when a request asks (auth on, no `Authorization` header). Go may find several
//! verified chains and tries each; webpki stops at the first, which differs only when the
//! leaf's CN names no user and two paths with different CA names exist.

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use rustls::RootCertStore;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// What names a chain: the port's trust anchors with their CNs, and the signature algorithms
/// its verifier accepts.
#[derive(Debug)]
pub struct ChainNamer {
    anchors: Vec<TrustAnchor<'static>>,
    /// The CN of each anchor, by position.
    anchor_names: Vec<Option<String>>,
    provider: Arc<CryptoProvider>,
}

impl ChainNamer {
    /// The namer for a port verifying client certificates against `roots`.
    pub fn new(roots: &RootCertStore, provider: Arc<CryptoProvider>) -> ChainNamer {
        let anchor_names = roots
            .subjects()
            .iter()
            .map(|dn| {
                X509Name::from_der(dn.as_ref())
                    .ok()
                    .and_then(|(_, name)| common_name(&name))
            })
            .collect();
        ChainNamer {
            anchors: roots.roots.clone(),
            anchor_names,
            provider,
        }
    }

    /// The CNs of the verified path from `presented[0]` (the leaf) to a trust anchor, leaf
    /// first; empty when no path verifies now (the handshake verified one, so only a
    /// certificate that expired since would).
    fn names(&self, presented: &[CertificateDer<'static>]) -> Vec<String> {
        let Some((leaf, intermediates)) = presented.split_first() else {
            return Vec::new();
        };
        let Ok(end_entity) = webpki::EndEntityCert::try_from(leaf) else {
            return Vec::new();
        };
        let Ok(path) = end_entity.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &self.anchors,
            intermediates,
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        ) else {
            return Vec::new();
        };
        let mut names: Vec<String> = std::iter::once(leaf.clone())
            .chain(path.intermediate_certificates().map(|c| c.der()))
            .filter_map(|der| certificate_common_name(&der))
            .collect();
        let anchor = self
            .anchors
            .iter()
            .position(|a| std::ptr::eq(a, path.anchor()));
        if let Some(name) = anchor.and_then(|i| self.anchor_names[i].clone()) {
            names.push(name);
        }
        names
    }
}

/// The subject CN as Go's `pkix.Name.CommonName` holds it: the last CN attribute; `None` when
/// there is none or it is empty (etcd would look up a user named "", which cannot exist).
fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .last()
        .and_then(|cn| cn.as_str().ok())
        .filter(|cn| !cn.is_empty())
        .map(str::to_string)
}

fn certificate_common_name(der: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    common_name(cert.subject())
}

/// The verified certificate chain a client presented on its connection, shared by every
/// request on it (it travels in each request's extensions, see [`crate::http`]).
#[derive(Clone, Debug)]
pub struct ClientCertificate(Arc<Presented>);

#[derive(Debug)]
struct Presented {
    chain: Vec<CertificateDer<'static>>,
    namer: Arc<ChainNamer>,
    names: OnceLock<Vec<String>>,
}

impl ClientCertificate {
    /// The chain `chain` (as presented, leaf first), named by `namer` when first asked.
    pub fn new(chain: Vec<CertificateDer<'static>>, namer: Arc<ChainNamer>) -> ClientCertificate {
        ClientCertificate(Arc::new(Presented {
            chain,
            namer,
            names: OnceLock::new(),
        }))
    }

    /// The CNs along the verified chain, leaf first, the CA last (see the module doc).
    pub fn common_names(&self) -> &[String] {
        let p = &*self.0;
        p.names.get_or_init(|| p.namer.names(&p.chain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::fixtures::fixture;
    use rustls::pki_types::pem::PemObject;

    fn pem_certs(name: &str) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_file_iter(fixture(name))
            .expect("fixture")
            .collect::<Result<_, _>>()
            .expect("PEM")
    }

    fn names(ca: &str, chain: &str) -> Vec<String> {
        let mut roots = RootCertStore::empty();
        for c in pem_certs(ca) {
            roots.add(c).expect("a CA");
        }
        let namer = Arc::new(ChainNamer::new(&roots, crate::tls::load::provider()));
        ClientCertificate::new(pem_certs(chain), namer)
            .common_names()
            .to_vec()
    }

    #[test]
    fn the_leaf_then_the_ca() {
        assert_eq!(
            names("ca.crt", "client-alice.crt"),
            ["alice", "etcd test CA"]
        );
    }

    #[test]
    fn through_an_intermediate() {
        assert_eq!(
            names("ca.crt", "client-via-intermediate-chain.pem"),
            ["nobody", "alice", "etcd test CA"]
        );
    }

    #[test]
    fn a_chain_that_does_not_verify_names_nobody() {
        assert!(names("foreign-ca.crt", "client-alice.crt").is_empty());
        // The leaf alone, without the intermediate it needs.
        assert!(names("ca.crt", "client-via-intermediate.crt").is_empty());
    }
}
