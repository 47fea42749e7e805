//! Joining a cluster: a machine started with `-peers` and an empty data dir asks a listed
//! peer to add it (`POST /join`), then learns the log from the leader.

use std::time::{Duration, Instant};

use common::Member;
use serde::{Deserialize, Serialize};

use crate::cluster::parse_id_hex;

/// How long a joining machine keeps trying its peers before it gives up.
const JOIN_DEADLINE: Duration = Duration::from_secs(30);
/// Pause between rounds over the peer list.
const JOIN_RETRY: Duration = Duration::from_millis(500);

/// What a machine sends to join (`POST /join`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    /// Its `-name`.
    pub name: String,
    /// Where peers reach it.
    #[serde(rename = "peerURLs")]
    pub peer_urls: Vec<String>,
    /// Where clients reach it.
    #[serde(rename = "clientURLs")]
    pub client_urls: Vec<String>,
}

/// What the cluster answers a join with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The joiner's raft id (hex).
    pub id: String,
    /// The cluster id (hex).
    #[serde(rename = "clusterId")]
    pub cluster_id: String,
    /// Every member, the joiner included: where to send raft messages before the log says.
    pub members: Vec<Member>,
}

/// What the cluster told a machine that joined it.
#[derive(Debug, Clone)]
pub struct Joined {
    /// This member's raft id.
    pub id: u64,
    /// The cluster id.
    pub cluster_id: u64,
    /// Raft ids and peer URLs of the members.
    pub peers: Vec<(u64, String)>,
}

/// `127.0.0.1:7001` as `http://127.0.0.1:7001` (`https` when peers speak TLS); full URLs
/// are kept as they are.
pub fn peer_url(peer: &str, tls: bool) -> String {
    let peer = peer.trim().trim_end_matches('/');
    if peer.starts_with("http://") || peer.starts_with("https://") {
        peer.to_string()
    } else if tls {
        format!("https://{peer}")
    } else {
        format!("http://{peer}")
    }
}

/// Asks the listed peers, in turn, to add this machine; retries for a while when none
/// answers (the cluster may be electing a leader). Refusals (a name already in use) end at
/// once with the cluster's reason.
pub async fn join(
    client: &reqwest::Client,
    peers: &[String],
    request: &JoinRequest,
    tls: bool,
) -> Result<Joined, String> {
    let own = request.peer_urls.first().cloned().unwrap_or_default();
    let urls: Vec<String> = peers
        .iter()
        .map(|p| peer_url(p, tls))
        .filter(|u| *u != own)
        .collect();
    if urls.is_empty() {
        return Err("-peers lists no machine but this one".into());
    }
    let started = Instant::now();
    let mut last_error = String::new();
    while started.elapsed() < JOIN_DEADLINE {
        for url in &urls {
            match try_join(client, url, request).await {
                Ok(joined) => {
                    tracing::info!(via = %url, id = %format!("{:016x}", joined.id), "joined the cluster");
                    return Ok(joined);
                }
                Err(Attempt::Refused(why)) => {
                    return Err(format!("{url} refused to add this machine: {why}"))
                }
                Err(Attempt::Failed(why)) => {
                    tracing::info!(via = %url, "join attempt failed: {why}");
                    last_error = format!("{url}: {why}");
                }
            }
        }
        tokio::time::sleep(JOIN_RETRY).await;
    }
    Err(format!(
        "cannot join the cluster through {} (last error: {last_error})",
        urls.join(", ")
    ))
}

enum Attempt {
    Refused(String),
    Failed(String),
}

async fn try_join(
    client: &reqwest::Client,
    url: &str,
    request: &JoinRequest,
) -> Result<Joined, Attempt> {
    let resp = client
        .post(format!("{url}/join"))
        .timeout(Duration::from_secs(10))
        .json(request)
        .send()
        .await
        .map_err(|e| {
            // A certificate the peer refuses (or that we refuse) will not get better by
            // retrying: say so at once.
            match certificate_problem(&e) {
                Some(tls) => Attempt::Refused(format!("TLS handshake failed: {tls}")),
                None => Attempt::Failed(e.to_string()),
            }
        })?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Attempt::Failed(e.to_string()))?;
    if status.as_u16() == 409 || status.as_u16() == 400 {
        let why = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        return Err(Attempt::Refused(why));
    }
    if !status.is_success() {
        return Err(Attempt::Failed(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    let r: JoinResponse =
        serde_json::from_slice(&body).map_err(|e| Attempt::Failed(format!("bad answer: {e}")))?;
    let id = parse_id_hex(&r.id).ok_or_else(|| Attempt::Failed("bad member id".into()))?;
    let cluster_id = u64::from_str_radix(&r.cluster_id, 16).unwrap_or(0);
    let peers = r
        .members
        .iter()
        .filter_map(|m| Some((parse_id_hex(&m.id)?, m.peer_urls.first()?.clone())))
        .collect();
    Ok(Joined {
        id,
        cluster_id,
        peers,
    })
}

/// The rustls error in `err`'s source chain when it says a certificate was refused, by us or
/// by the peer. rustls errors reach us inside the `io::Error` a TLS stream reports, whose own
/// `source()` skips the error it wraps, so each `io::Error` is opened too.
fn certificate_problem<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        let tls = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()?
                .get_ref()?
                .downcast_ref::<rustls::Error>()
        });
        if let Some(tls) = tls.filter(|t| refuses_a_certificate(t)) {
            return Some(tls);
        }
        next = e.source();
    }
    None
}

/// Whether a TLS error is about a certificate: ours refused by the peer (an alert), or the
/// peer's refused by us.
fn refuses_a_certificate(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as Alert;
    match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => true,
        rustls::Error::AlertReceived(alert) => matches!(
            alert,
            Alert::BadCertificate
                | Alert::UnsupportedCertificate
                | Alert::CertificateRevoked
                | Alert::CertificateExpired
                | Alert::CertificateUnknown
                | Alert::UnknownCA
                | Alert::CertificateRequired
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_peer_addresses_get_a_scheme() {
        assert_eq!(peer_url("127.0.0.1:7001", false), "http://127.0.0.1:7001");
        assert_eq!(peer_url("127.0.0.1:7001", true), "https://127.0.0.1:7001");
        assert_eq!(peer_url("http://h:1/", true), "http://h:1");
    }

    /// An error that wraps another, as reqwest's and hyper's errors do.
    #[derive(Debug)]
    struct Wrapped(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("request failed")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    fn through_a_tls_stream(e: rustls::Error) -> Wrapped {
        Wrapped(Box::new(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e,
        )))
    }

    #[test]
    fn certificate_refusals_are_found_in_the_source_chain() {
        let refused = through_a_tls_stream(rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA,
        ));
        assert!(certificate_problem(&refused).is_some());
        let untrusted = through_a_tls_stream(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert!(certificate_problem(&Wrapped(Box::new(untrusted))).is_some());
        let other_tls = through_a_tls_stream(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert!(certificate_problem(&other_tls).is_none());
        let refused_connection = Wrapped(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(certificate_problem(&refused_connection).is_none());
    }
}
