//! HTTP to the cluster: tries each endpoint in turn (failover), syncs the endpoint list from
//! `/v2/members`, applies the per-request and total timeouts, TLS, and `--debug` tracing.

use std::time::{Duration, Instant};

use common::{ErrorBody, MemberList, Response};

use crate::failure::Failure;
use crate::tls::TlsFiles;

/// A successful keys answer: the body and `X-Etcd-Index`.
#[derive(Debug)]
pub struct Answer {
    /// The response body.
    pub body: Response,
    /// `X-Etcd-Index`.
    pub etcd_index: u64,
}

/// Any HTTP answer, before interpretation (members API, health).
#[derive(Debug)]
pub struct RawReply {
    /// HTTP status.
    pub status: u16,
    /// `X-Etcd-Index` (0 when absent).
    pub etcd_index: u64,
    /// Body text.
    pub body: String,
}

/// How to build a [`Client`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// Endpoints as given, in order.
    pub endpoints: Vec<String>,
    /// Per-request timeout (not for watches).
    pub timeout: Duration,
    /// Budget for the whole command (not for watches).
    pub total_timeout: Duration,
    /// TLS files.
    pub tls: TlsFiles,
    /// Print requests on stderr.
    pub debug: bool,
    /// `--username`: user and password, sent as HTTP Basic auth with every request.
    pub credentials: Option<(String, String)>,
}

/// A request body with its content type.
pub struct Body {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub text: String,
}

/// A client over an ordered list of endpoints.
pub struct Client {
    endpoints: Vec<String>,
    http: reqwest::blocking::Client,
    watch_http: reqwest::blocking::Client,
    debug: bool,
    timeout: Duration,
    /// End of the `--total-timeout` budget; `None` once lifted for export/import.
    deadline: Option<Instant>,
    credentials: Option<(String, String)>,
}

/// Percent-encodes a key path (keeps `/` and unreserved characters).
pub fn encode_path(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.QueryEscape`: unreserved characters as is, space as `+`, the rest `%XX`.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The TTL to send: none for 0, which users and the Go etcdctl mean as "never expire" (etcd
/// itself would take `ttl=0` as "expire now" and delete the key).
fn lasting(ttl: Option<u64>) -> Option<u64> {
    ttl.filter(|t| *t > 0)
}

/// `k=v&k2=v2`, form-encoded and sorted by key as Go's `url.Values.Encode` does, so that
/// `--debug` shows the same requests as the Go etcdctl.
pub fn encode_form(pairs: &[(&str, String)]) -> String {
    let mut pairs: Vec<_> = pairs.iter().collect();
    pairs.sort_by_key(|(k, _)| *k);
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Turns a keys-API reply into an answer or an etcd error.
pub fn interpret_keys(reply: RawReply, endpoint: &str) -> Result<Answer, Failure> {
    if let Ok(body) = serde_json::from_str::<ErrorBody>(&reply.body) {
        if body.error_code != 0 {
            return Err(Failure::Etcd {
                body,
                raw: reply.body.trim_end().to_string(),
            });
        }
    }
    let body: Response = serde_json::from_str(&reply.body).map_err(|e| {
        Failure::Server(format!(
            "unexpected answer from {endpoint} (HTTP {}): {e}",
            reply.status
        ))
    })?;
    Ok(Answer {
        body,
        etcd_index: reply.etcd_index,
    })
}

/// `X-Etcd-Index` of a response, 0 when absent or unparsable.
pub fn etcd_index_of(resp: &reqwest::blocking::Response) -> u64 {
    resp.headers()
        .get("x-etcd-index")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Client {
    /// Builds the HTTP clients (TLS files are read here) without contacting anyone.
    pub fn new(s: &Settings) -> Result<Client, Failure> {
        let tls = s.tls.load().map_err(Failure::BadArgs)?;
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::blocking::Client::builder()
                .use_rustls_tls()
                .timeout(timeout)
                // Watches can stay idle for hours; keep-alive probes notice a dead peer.
                .tcp_keepalive(Duration::from_secs(30));
            for root in &tls.roots {
                b = b.add_root_certificate(root.clone());
            }
            if let Some(id) = &tls.identity {
                b = b.identity(id.clone());
            }
            b.build()
                .map_err(|e| Failure::BadArgs(format!("cannot set up HTTP: {e}")))
        };
        Ok(Client {
            endpoints: s.endpoints.clone(),
            http: build(Some(s.timeout.max(Duration::from_millis(1))))?,
            watch_http: build(None)?,
            debug: s.debug,
            timeout: s.timeout,
            deadline: Some(Instant::now() + s.total_timeout),
            credentials: s.credentials.clone(),
        })
    }

    /// Lifts `--total-timeout` (export and import run for as long as the tree is large).
    pub fn clear_total_timeout(&mut self) {
        self.deadline = None;
    }

    /// Replaces the endpoint list with the members' client URLs, as the Go etcdctl does before
    /// every command. A failure (no member answered, no client URLs) keeps the given list:
    /// the command itself then reports what is wrong.
    pub fn sync(&mut self) {
        if self.debug {
            eprintln!(
                "start to sync cluster using endpoints({})",
                self.endpoints.join(",")
            );
        }
        let synced = self
            .request(reqwest::Method::GET, "/v2/members", None, false)
            .ok()
            .filter(|(r, _)| r.status == 200)
            .and_then(|(r, _)| serde_json::from_str::<MemberList>(&r.body).ok())
            .map(|list| {
                crate::cli::normalize_endpoints(
                    list.members
                        .iter()
                        .flat_map(|m| m.client_urls.iter().map(String::as_str)),
                )
            })
            .filter(|eps| !eps.is_empty());
        match synced {
            Some(eps) => {
                if self.debug {
                    eprintln!("got endpoints({}) after sync", eps.join(","));
                }
                self.endpoints = eps;
            }
            None if self.debug => eprintln!("sync failed; using the given endpoints"),
            None => {}
        }
        if self.debug {
            eprintln!("Cluster-Endpoints: {}", self.endpoints.join(", "));
        }
    }

    fn trace(&self, method: &reqwest::Method, url: &str, body: Option<&Body>) {
        if !self.debug {
            return;
        }
        match body {
            Some(b) => eprintln!("cURL Command: curl -X {method} {url} -d \"{}\"", b.text),
            None => eprintln!("cURL Command: curl -X {method} {url}"),
        }
    }

    /// Sends one request to the first endpoint that answers; `path_and_query` starts with `/`.
    /// Watches (`watch`) have no timeout; the response is returned as soon as its headers are
    /// in, so a watcher knows it is registered before the body arrives.
    pub fn open(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Body>,
        watch: bool,
    ) -> Result<(reqwest::blocking::Response, String), Failure> {
        let mut errors = Vec::new();
        for (i, ep) in self.endpoints.iter().enumerate() {
            let mut req = if watch {
                self.watch_http
                    .request(method.clone(), format!("{ep}{path_and_query}"))
            } else {
                let left = self.deadline.map_or(self.timeout, |d| {
                    d.saturating_duration_since(Instant::now())
                });
                if left.is_zero() {
                    errors.push(format!(
                        "error #{i}: total timeout exceeded before trying {ep}"
                    ));
                    break;
                }
                self.http
                    .request(method.clone(), format!("{ep}{path_and_query}"))
                    .timeout(left.min(self.timeout))
            };
            self.trace(&method, &format!("{ep}{path_and_query}"), body);
            if let Some((user, password)) = &self.credentials {
                req = req.basic_auth(user, Some(password));
            }
            if let Some(b) = body {
                req = req
                    .header("Content-Type", b.content_type)
                    .body(b.text.clone());
            }
            match req.send() {
                Ok(r) => return Ok((r, ep.clone())),
                Err(e) => errors.push(format!("error #{i}: {}", describe_send_error(ep, &e))),
            }
        }
        Err(Failure::Connection(errors))
    }

    /// Sends one request and reads the whole answer; returns it with the endpoint that gave it.
    pub fn request(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&Body>,
        watch: bool,
    ) -> Result<(RawReply, String), Failure> {
        let (resp, ep) = self.open(method, path_and_query, body, watch)?;
        let status = resp.status().as_u16();
        let etcd_index = etcd_index_of(&resp);
        let text = resp
            .text()
            .map_err(|e| Failure::Connection(vec![format!("reading from {ep}: {e}")]))?;
        Ok((
            RawReply {
                status,
                etcd_index,
                body: text,
            },
            ep,
        ))
    }

    /// GET an absolute URL (a member's `/health`), no failover: the URL names the member.
    pub fn get_url(&self, url: &str) -> Result<String, String> {
        self.trace(&reqwest::Method::GET, url, None);
        // Go's net/http words: `Get "<url>": dial tcp …: connect: connection refused`.
        self.http
            .get(url)
            .send()
            .and_then(|r| r.text())
            .map_err(|e| format!("Get \"{url}\": {}", describe_send_error(url, &e)))
    }

    fn keys(
        &self,
        method: reqwest::Method,
        key: &str,
        query: &[(&str, String)],
        form: Option<String>,
    ) -> Result<Answer, Failure> {
        let body = form.map(|text| Body {
            content_type: "application/x-www-form-urlencoded",
            text,
        });
        let (reply, ep) = self.request(method, &keys_path(key, query), body.as_ref(), false)?;
        interpret_keys(reply, &ep)
    }

    /// PUT a value (a `ttl` of 0 means "never expire", as in the Go etcdctl).
    pub fn put(
        &self,
        key: &str,
        query: &[(&str, String)],
        value: &str,
        ttl: Option<u64>,
    ) -> Result<Answer, Failure> {
        let mut pairs = vec![("value", value.to_string())];
        if let Some(t) = lasting(ttl) {
            pairs.push(("ttl", t.to_string()));
        }
        self.keys(reqwest::Method::PUT, key, query, Some(encode_form(&pairs)))
    }

    /// POST a value: a new in-order key inside the directory `key`.
    pub fn post(&self, key: &str, value: &str, ttl: Option<u64>) -> Result<Answer, Failure> {
        let mut pairs = vec![("value", value.to_string())];
        if let Some(t) = lasting(ttl) {
            pairs.push(("ttl", t.to_string()));
        }
        self.keys(reqwest::Method::POST, key, &[], Some(encode_form(&pairs)))
    }

    /// PUT a directory (`query` should hold `dir=true`).
    pub fn put_dir(
        &self,
        key: &str,
        query: &[(&str, String)],
        ttl: Option<u64>,
    ) -> Result<Answer, Failure> {
        // Always a (possibly empty) form body, as the Go client sends.
        let form =
            lasting(ttl).map_or_else(String::new, |t| encode_form(&[("ttl", t.to_string())]));
        self.keys(reqwest::Method::PUT, key, query, Some(form))
    }

    /// GET a key or directory.
    pub fn get(
        &self,
        key: &str,
        recursive: bool,
        sorted: bool,
        quorum: bool,
    ) -> Result<Answer, Failure> {
        let q = [
            ("quorum", quorum.to_string()),
            ("recursive", recursive.to_string()),
            ("sorted", sorted.to_string()),
        ];
        self.keys(reqwest::Method::GET, key, &q, None)
    }

    /// DELETE.
    pub fn delete(&self, key: &str, query: &[(&str, String)]) -> Result<Answer, Failure> {
        self.keys(reqwest::Method::DELETE, key, query, None)
    }
}

/// `/v2/keys<key>?<query>`.
pub fn keys_path(key: &str, query: &[(&str, String)]) -> String {
    let mut p = format!("/v2/keys{}", encode_path(key));
    if !query.is_empty() {
        p.push('?');
        p.push_str(&encode_form(query));
    }
    p
}

/// A failed send in the Go client's words where they are well known (`dial tcp …: connect:
/// connection refused`), otherwise reqwest's error with its causes.
fn describe_send_error(endpoint: &str, e: &reqwest::Error) -> String {
    let chain = error_chain(e);
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let host = after_scheme.split('/').next().unwrap_or(after_scheme);
    if e.is_connect() && chain.contains("Connection refused") {
        format!("dial tcp {host}: connect: connection refused")
    } else if e.is_timeout() {
        format!("client: endpoint {endpoint} exceeded header timeout")
    } else {
        chain
    }
}

/// The error with its causes, as reqwest hides "connection refused" in its source chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_forms_are_encoded() {
        assert_eq!(encode_path("/a b/c&d"), "/a%20b/c%26d");
        assert_eq!(
            encode_form(&[("value", "x/y z".into()), ("ttl", "5".into())]),
            "ttl=5&value=x%2Fy+z"
        );
        assert_eq!(
            keys_path("/k", &[("dir", "true".into())]),
            "/v2/keys/k?dir=true"
        );
    }

    #[test]
    fn etcd_errors_and_garbage_are_told_apart() {
        let err = RawReply {
            status: 404,
            etcd_index: 3,
            body: r#"{"errorCode":100,"message":"Key Not Found","cause":"/k","index":3}"#.into(),
        };
        assert!(matches!(
            interpret_keys(err, "e"),
            Err(Failure::Etcd { body, .. }) if body.error_code == 100
        ));
        let junk = RawReply {
            status: 502,
            etcd_index: 0,
            body: "<html>".into(),
        };
        assert!(matches!(interpret_keys(junk, "e"), Err(Failure::Server(_))));
    }
}
