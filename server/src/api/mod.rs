//! The client HTTP API. A warp filter only extracts (method, path, query, headers, a bounded
//! body); `dispatch` routes by path string, because etcd keys may contain empty segments,
//! dots and escapes that a segment router would reject or redirect.

pub mod admin;
pub mod auth;
pub mod body;
pub mod keys;
pub mod membership;
pub mod params;
pub mod peer;
pub mod reply;
pub mod watch;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use common::{ErrorCode, EtcdError};
use futures::{Stream, StreamExt};
use warp::http::{HeaderMap, HeaderValue, Method};
use warp::path::FullPath;
use warp::reply::Response;
use warp::Filter;

use crate::raft::RaftHandle;
use crate::time::Timestamp;
use crate::tls::ClientCertificate;
use crate::transport::Transport;

/// Facts about this member the API reports.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// `-name`.
    pub name: String,
    /// Raft id.
    pub id: u64,
    /// Advertised client URL.
    pub client_url: String,
    /// Advertised peer URL.
    pub peer_url: String,
    /// Wall-clock start time.
    pub start_time: Timestamp,
    /// Monotonic start, for uptime.
    pub started: Instant,
    /// Allowed CORS origins (`*` allowed); empty: no CORS headers.
    pub cors: Vec<String>,
    /// Whether GETs without `quorum=true` answer from the local store (`-local-reads`);
    /// otherwise every GET is linearizable.
    pub local_reads: bool,
}

/// Read counters, and the writes this member refused without a log entry (every other write
/// is counted by the store, deterministically, on every member).
#[derive(Debug, Default)]
pub struct ApiCounters {
    /// Successful GETs.
    pub gets_success: AtomicU64,
    /// Failed GETs.
    pub gets_fail: AtomicU64,
    /// Creates (`prevExist=false`) refused here.
    pub create_fail: AtomicU64,
    /// Updates (`prevExist=true`) refused here.
    pub update_fail: AtomicU64,
    /// Compare-and-swaps refused here.
    pub compare_and_swap_fail: AtomicU64,
    /// Deletes refused here.
    pub delete_fail: AtomicU64,
    /// Compare-and-deletes refused here.
    pub compare_and_delete_fail: AtomicU64,
}

impl ApiCounters {
    /// The counter of `cmd`'s kind among the writes refused here.
    pub fn refused(&self, cmd: &crate::command::KeyCommand) -> Option<&AtomicU64> {
        use crate::command::KeyCommand as K;
        match cmd {
            K::Create { .. } => Some(&self.create_fail),
            K::Update { .. } => Some(&self.update_fail),
            K::CompareAndSwap { .. } => Some(&self.compare_and_swap_fail),
            K::Delete { .. } => Some(&self.delete_fail),
            K::CompareAndDelete { .. } => Some(&self.compare_and_delete_fail),
            K::Set { .. } | K::Expire { .. } => None,
        }
    }
}

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The raft member.
    pub raft: RaftHandle,
    /// This member's facts.
    pub info: Arc<ServerInfo>,
    /// Read counters.
    pub counters: Arc<ApiCounters>,
    /// The peer transport (its follower statistics, the cluster id).
    pub transport: Arc<Transport>,
    /// Credentials verified so far (see [`crate::auth::credentials`]).
    pub verifier: Arc<crate::auth::credentials::Verifier>,
}

/// The whole client API as one filter.
pub fn routes(
    st: AppState,
) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone {
    warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        // The client's verified certificate, put there by `http::serve` on a TLS port with a CA.
        .and(warp::ext::optional::<ClientCertificate>())
        .and(warp::any().map(move || st.clone()))
        .then(
            |method: Method,
             path: FullPath,
             query: String,
             headers: HeaderMap,
             body,
             cert: Option<ClientCertificate>,
             st: AppState| async move {
                let started = Instant::now();
                let watch = query.contains("wait=true");
                let method_name = method.as_str().to_string();
                let mut resp = match read_body(body, &headers).await {
                    // The permit holds the body's bytes in the budget until it is answered.
                    Ok((body, _permit)) => {
                        let (path, cert) = (path.as_str(), cert.as_ref());
                        dispatch(st.clone(), method, path, &query, &headers, cert, body).await
                    }
                    Err(e) => reply::error(&e),
                };
                add_cors(&st, &headers, &mut resp);
                crate::metrics::record_request(
                    &method_name,
                    resp.status().as_u16(),
                    started.elapsed(),
                    watch,
                );
                resp
            },
        )
        .recover(|_| async { Ok::<_, std::convert::Infallible>(reply::not_found()) })
        .unify()
}

/// Request-body bytes held at once across all requests, until each is answered: 1000
/// concurrent 1.5 MiB uploads must not take 1.5 GiB.
pub const MAX_BODY_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// The first bytes of every body are outside the budget, so small writes never queue behind
/// big uploads (the connection caps bound them).
pub const SMALL_BODY_BYTES: usize = 64 * 1024;

static BODY_BUDGET: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(MAX_BODY_BYTES_IN_FLIGHT);

/// Reads the body, refusing more than [`params::MAX_BODY_BYTES`] without buffering it, within
/// [`MAX_BODY_BYTES_IN_FLIGHT`]: a body of declared length waits for its whole share before
/// it is read (one acquisition, so waiters never hold part of the budget); a chunked body
/// takes its share chunk by chunk and is refused (300) when the budget is spent. The whole
/// read (waiting for the budget included) must end within [`body::BODY_READ_TIMEOUT`], so a
/// client that trickles or stalls its body holds neither a connection nor budget for ever.
async fn read_body<S, B>(
    body: S,
    headers: &HeaderMap,
) -> Result<(Bytes, tokio::sync::SemaphorePermit<'static>), EtcdError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    match tokio::time::timeout(body::BODY_READ_TIMEOUT, read_budgeted(body, headers)).await {
        Ok(r) => r,
        Err(_) => Err(EtcdError::new(
            ErrorCode::InvalidForm,
            body::BodyError::TimedOut(body::BODY_READ_TIMEOUT).to_string(),
            0,
        )),
    }
}

async fn read_budgeted<S, B>(
    body: S,
    headers: &HeaderMap,
) -> Result<(Bytes, tokio::sync::SemaphorePermit<'static>), EtcdError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let too_big = || {
        EtcdError::new(
            ErrorCode::InvalidForm,
            format!(
                "request body is larger than {} bytes",
                params::MAX_BODY_BYTES
            ),
            0,
        )
    };
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > params::MAX_BODY_BYTES) {
        return Err(too_big());
    }
    let mut permit = BODY_BUDGET
        .acquire_many(declared.unwrap_or(0).saturating_sub(SMALL_BODY_BYTES) as u32)
        .await
        .map_err(|_| EtcdError::new(ErrorCode::RaftInternal, "server is stopping", 0))?;
    let mut body = body;
    let mut out = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|e| EtcdError::new(ErrorCode::InvalidForm, e.to_string(), 0))?;
        if out.len() + chunk.remaining() > params::MAX_BODY_BYTES {
            return Err(too_big());
        }
        let held = permit.num_permits() + SMALL_BODY_BYTES;
        if out.len() + chunk.remaining() > held {
            let more = BODY_BUDGET
                .try_acquire_many((out.len() + chunk.remaining() - held) as u32)
                .map_err(|_| {
                    EtcdError::new(
                        ErrorCode::RaftInternal,
                        "server is busy: too many request bytes in flight",
                        0,
                    )
                })?;
            permit.merge(more);
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok((out.freeze(), permit))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

async fn dispatch(
    st: AppState,
    method: Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    cert: Option<&ClientCertificate>,
    body: Bytes,
) -> Response {
    // `None` while auth is off: nothing is checked, as in etcd.
    let caller = auth::identify(&st, headers, cert).await;
    if let Some(rest) = path.strip_prefix("/v2/auth") {
        if rest.is_empty() || rest.starts_with('/') {
            return auth::handle(&st, &method, rest, caller.as_ref(), &body).await;
        }
    }
    if let Some(rest) = path.strip_prefix("/v2/keys") {
        if rest.is_empty() || rest.starts_with('/') {
            // Go parses a form body only for PUT and POST, and only urlencoded ones.
            let form_body = if (method == Method::PUT || method == Method::POST) && is_form(headers)
            {
                match std::str::from_utf8(&body) {
                    Ok(s) => Some(s.to_string()),
                    Err(_) => {
                        return reply::error(&EtcdError::new(
                            ErrorCode::InvalidForm,
                            "body is not valid UTF-8",
                            0,
                        ))
                    }
                }
            } else {
                None
            };
            return keys::handle(st, method, rest, query, form_body.as_deref(), caller).await;
        }
    }
    if method == Method::OPTIONS {
        return reply::with_body(200, "text/plain; charset=utf-8", String::new());
    }
    if let Some(rest) = path.strip_prefix("/v2/members") {
        if rest.is_empty() || rest.starts_with('/') {
            // Anyone may list the members; changing them takes the root role (etcd's
            // hasWriteRootAccess).
            let reads = method == Method::GET || method == Method::HEAD;
            if let Some(c) = caller.as_ref().filter(|_| !reads) {
                if !st.raft.state.is_root(c.name()) {
                    return auth::insufficient();
                }
            }
            let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
            return admin::members(&st, &method, rest, ct, &body).await;
        }
    }
    // These answer from the store or the member table, which a catching-up member lacks.
    if matches!(
        path,
        "/v2/machines" | "/v2/peers" | "/v2/leader" | "/v2/stats/store"
    ) {
        if let Err(e) = st.raft.wait_serving().await {
            return reply::error(&e);
        }
    }
    let get_only = |f: fn(&AppState) -> Response| {
        if method == Method::GET || method == Method::HEAD {
            f(&st)
        } else {
            reply::method_not_allowed("GET")
        }
    };
    match path {
        "/version" => get_only(|_| admin::version()),
        "/metrics" => get_only(admin::metrics),
        "/health" => get_only(admin::health),
        "/v2/machines" | "/v2/peers" => get_only(admin::machines_list),
        "/v2/leader" => get_only(admin::leader),
        "/v2/stats/self" => get_only(admin::stats_self),
        "/v2/stats/leader" => get_only(admin::stats_leader),
        "/v2/stats/store" => get_only(admin::stats_store),
        _ => reply::not_found(),
    }
}

fn add_cors(st: &AppState, headers: &HeaderMap, resp: &mut Response) {
    if st.info.cors.is_empty() {
        return;
    }
    let origin = headers.get("origin").and_then(|v| v.to_str().ok());
    let allowed = if st.info.cors.iter().any(|o| o == "*") {
        Some("*".to_string())
    } else {
        origin
            .filter(|o| st.info.cors.iter().any(|c| c == o))
            .map(str::to_string)
    };
    if let Some(a) = allowed.and_then(|a| HeaderValue::from_str(&a).ok()) {
        let h = resp.headers_mut();
        h.insert("access-control-allow-origin", a);
        h.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("POST, GET, OPTIONS, PUT, DELETE"),
        );
        h.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("accept, content-type, authorization"),
        );
    }
}
