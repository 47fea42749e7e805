//! HTTP to the cluster: tries each endpoint in turn and turns answers into results.

use std::time::Duration;

use common::{ErrorBody, Response};

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with an etcd error.
    Etcd(ErrorBody),
    /// No endpoint could be reached.
    Connection(String),
    /// A message printed as is, exit 1 (`/k: is a directory`).
    Plain(String),
}

/// A successful answer: the body and `X-Etcd-Index`.
#[derive(Debug)]
pub struct Answer {
    /// The response body.
    pub body: Response,
    /// The raw JSON text, for `-o json`.
    pub raw: String,
    /// `X-Etcd-Index`.
    pub etcd_index: u64,
}

/// A client over an ordered list of endpoints.
pub struct Client {
    endpoints: Vec<String>,
    http: reqwest::blocking::Client,
    watch_http: reqwest::blocking::Client,
}

/// Percent-encodes a key path segment by segment (keeps `/`).
fn encode_path(key: &str) -> String {
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

fn encode_form(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_path(k), encode_path(v).replace('/', "%2F")))
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    /// A client with a per-request timeout (watches wait without one).
    pub fn new(endpoints: &[String], timeout_secs: u64) -> Client {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(timeout_secs.max(1)))
            .build()
            .expect("an HTTP client with default TLS builds");
        let watch_http = reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .expect("an HTTP client with default TLS builds");
        Client {
            endpoints: endpoints.to_vec(),
            http,
            watch_http,
        }
    }

    fn send(
        &self,
        method: reqwest::Method,
        key: &str,
        query: &[(&str, String)],
        form: Option<String>,
        watch: bool,
    ) -> Result<Answer, Failure> {
        let mut errors = Vec::new();
        for (i, ep) in self.endpoints.iter().enumerate() {
            let mut url = format!("{ep}/v2/keys{}", encode_path(key));
            if !query.is_empty() {
                url.push('?');
                url.push_str(&encode_form(query));
            }
            let client = if watch { &self.watch_http } else { &self.http };
            let mut req = client.request(method.clone(), &url);
            if let Some(body) = &form {
                req = req
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body.clone());
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    errors.push(format!("error #{i}: {e}"));
                    continue;
                }
            };
            let etcd_index = resp
                .headers()
                .get("x-etcd-index")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let raw = resp
                .text()
                .map_err(|e| Failure::Connection(e.to_string()))?;
            if let Ok(err) = serde_json::from_str::<ErrorBody>(&raw) {
                if err.error_code != 0 {
                    return Err(Failure::Etcd(err));
                }
            }
            let body: Response = serde_json::from_str(&raw)
                .map_err(|e| Failure::Connection(format!("bad answer from {ep}: {e}")))?;
            return Ok(Answer {
                body,
                raw: raw.trim_end().to_string(),
                etcd_index,
            });
        }
        Err(Failure::Connection(errors.join("; ")))
    }

    fn value_form(value: &str, ttl: Option<u64>) -> String {
        let mut pairs = vec![("value", value.to_string())];
        if let Some(t) = ttl {
            pairs.push(("ttl", t.to_string()));
        }
        encode_form(&pairs)
    }

    /// PUT a value.
    pub fn put(
        &self,
        key: &str,
        query: &[(&str, String)],
        value: &str,
        ttl: Option<u64>,
    ) -> Result<Answer, Failure> {
        let form = Self::value_form(value, ttl);
        self.send(reqwest::Method::PUT, key, query, Some(form), false)
    }

    /// PUT a directory.
    pub fn put_dir(
        &self,
        key: &str,
        query: &[(&str, String)],
        ttl: Option<u64>,
    ) -> Result<Answer, Failure> {
        let form = ttl.map(|t| encode_form(&[("ttl", t.to_string())]));
        self.send(reqwest::Method::PUT, key, query, form, false)
    }

    /// GET a key or directory.
    pub fn get(&self, key: &str, recursive: bool, sorted: bool) -> Result<Answer, Failure> {
        let q = [
            ("recursive", recursive.to_string()),
            ("sorted", sorted.to_string()),
        ];
        self.send(reqwest::Method::GET, key, &q, None, false)
    }

    /// DELETE.
    pub fn delete(&self, key: &str, query: &[(&str, String)]) -> Result<Answer, Failure> {
        self.send(reqwest::Method::DELETE, key, query, None, false)
    }

    /// One long-poll watch from `wait_index` (0: from now).
    pub fn watch(&self, key: &str, recursive: bool, wait_index: u64) -> Result<Answer, Failure> {
        let mut q = vec![("wait", "true".to_string())];
        if recursive {
            q.push(("recursive", "true".into()));
        }
        if wait_index > 0 {
            q.push(("waitIndex", wait_index.to_string()));
        }
        self.send(reqwest::Method::GET, key, &q, None, true)
    }
}
