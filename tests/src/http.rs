//! A small blocking HTTP client for tests: every status is a reply, never an error.

use std::time::Duration;

/// A complete HTTP reply.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Reply {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a write was acknowledged: 201 for a new node, 200 for a replaced one.
    pub fn is_written(&self) -> bool {
        self.status == 200 || self.status == 201
    }

    /// The body parsed as JSON (panics with the body on failure: tests want to see it).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    /// `X-Etcd-Index` as a number.
    pub fn etcd_index(&self) -> u64 {
        self.header("x-etcd-index")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no X-Etcd-Index in {:?}", self.headers))
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(5)
        .timeout_connect(Duration::from_secs(5))
        .build()
}

fn into_reply(resp: ureq::Response) -> Reply {
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or_default().to_string();
            (n.to_ascii_lowercase(), v)
        })
        .collect();
    let body = resp.into_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends `method url` with an optional `application/x-www-form-urlencoded` body (given already
/// encoded, e.g. `value=Hello%20world&ttl=5`, as `curl -d` would send it).
pub fn request(method: &str, url: &str, form: Option<&str>) -> Result<Reply, String> {
    let req = agent().request(method, url);
    let res = match form {
        Some(body) => req
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(body),
        None => req.call(),
    };
    match res {
        Ok(r) => Ok(into_reply(r)),
        Err(ureq::Error::Status(_, r)) => Ok(into_reply(r)),
        Err(e) => Err(e.to_string()),
    }
}

/// Sends `method url` with a JSON body (`Content-Type: application/json`), as the members API
/// and a joining machine send theirs.
pub fn request_json(method: &str, url: &str, json: &str) -> Result<Reply, String> {
    let res = agent()
        .request(method, url)
        .set("Content-Type", "application/json")
        .send_string(json);
    match res {
        Ok(r) => Ok(into_reply(r)),
        Err(ureq::Error::Status(_, r)) => Ok(into_reply(r)),
        Err(e) => Err(e.to_string()),
    }
}

/// GET `url`.
pub fn get(url: &str) -> Result<Reply, String> {
    request("GET", url, None)
}

/// Opens a request and returns as soon as the status line and headers have arrived, with the
/// body still to read: for watches, whose headers come at once and whose body comes later.
pub fn open(method: &str, url: &str) -> Result<ureq::Response, String> {
    match agent().request(method, url).call() {
        Ok(r) => Ok(r),
        Err(ureq::Error::Status(_, r)) => Ok(r),
        Err(e) => Err(e.to_string()),
    }
}
