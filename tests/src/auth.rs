//! Speaking v2 auth to a server: HTTP Basic credentials over any agent (plain, or HTTPS with a
//! client certificate), and the normalised answer the side-by-side scripts compare.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{ca_fixture, Reply};

/// How long one request may take before the test fails (a hang guard, not a timing check).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Standard base64, for `Authorization: Basic`.
pub fn base64(input: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = input.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An agent for plain HTTP.
pub fn plain_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build()
}

/// An HTTPS agent trusting the test CA (`fixtures/ca/ca.crt`) that presents the client
/// certificate chain `chain` (a file under `fixtures/ca`, leaf first) with its key `key`.
pub fn client_cert_agent(chain: &str, key: &str) -> ureq::Agent {
    let certs = |name: &str| -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_file_iter(ca_fixture(name))
            .expect("a certificate fixture")
            .collect::<Result<_, _>>()
            .expect("PEM certificates")
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in certs("ca.crt") {
        roots.add(c).expect("the test CA");
    }
    let key = PrivateKeyDer::from_pem_file(ca_fixture(key)).expect("a key fixture");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(certs(chain), key)
        .expect("a client certificate and its key");
    ureq::AgentBuilder::new()
        .timeout(REQUEST_TIMEOUT)
        .tls_config(Arc::new(config))
        .build()
}

/// `method url` on `agent` with optional `user:password` credentials (`Some("")` sends an
/// empty `Authorization` header) and body: the form content type for `/v2/keys`, JSON
/// otherwise. Every status is a reply.
pub fn call_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    creds: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut req = agent.request(method, url);
    match creds {
        Some("") => req = req.set("Authorization", ""),
        Some(c) => req = req.set("Authorization", &format!("Basic {}", base64(c))),
        None => {}
    }
    let res = match body {
        Some(b) if url.contains("/v2/keys") => req
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(b),
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let r = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = r.status();
    let headers = r
        .headers_names()
        .into_iter()
        .map(|n| (n.clone(), r.header(&n).unwrap_or_default().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: r.into_string().unwrap_or_default(),
    }
}

/// A reply with what legitimately differs taken out: etcd 3.4 keeps users and roles in the
/// store's index sequence (ours does not: spec §11), and ours adds 0.2's `prevValue`.
pub fn normalise(r: &Reply) -> String {
    let body = match serde_json::from_str::<serde_json::Value>(&r.body) {
        Ok(mut v) => {
            for field in ["node", "prevNode"] {
                if let Some(o) = v[field].as_object_mut() {
                    o.remove("modifiedIndex");
                    o.remove("createdIndex");
                    o.remove("prevValue");
                    if let Some(kids) = o.get_mut("nodes").and_then(|k| k.as_array_mut()) {
                        for k in kids.iter_mut() {
                            let k = k.as_object_mut().expect("node");
                            k.remove("modifiedIndex");
                            k.remove("createdIndex");
                        }
                        // etcd 3.4 lists a directory in Go's map order (it varies): compare
                        // as sets.
                        kids.sort_by_key(|k| k["key"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
            if v.get("errorCode").is_some() {
                v.as_object_mut().expect("error").remove("index");
            }
            if v.get("members").is_some() {
                v = serde_json::json!("members");
            }
            v.to_string()
        }
        Err(_) => r.body.clone(),
    };
    format!("{} {body}", r.status)
}
