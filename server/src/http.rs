//! Serving a warp filter on a listener, over plain TCP or TLS: HTTP/1.1 with timeouts,
//! a connection cap per port that makes room by closing idle connections, and graceful
//! shutdown.
//!
//! We drive hyper ourselves (as warp's own server does) so that the same loop serves TLS
//! streams, and so that shutdown, timeouts and the connection cap are ours. HTTP/2 is off:
//! etcd's v2 clients speak HTTP/1.1 (Go's server never offered h2c, and our TLS offers only
//! `http/1.1` by ALPN), and one HTTP/2 connection would multiplex streams past the cap.
//!
//! A TLS connection's verified client certificate goes into every request's extensions as a
//! [`ClientCertificate`] (the api reads it with `warp::ext::optional`): hyper's extensions are
//! the per-request side channel meant for this, and they leave the filter, its types and the
//! routing untouched, where a filter built per connection would be rebuilt for each one.

mod conns;
mod fds;

pub use fds::fit_caps;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use warp::reply::Response;
use warp::Filter;

use crate::tls::{Acceptor, ClientCertificate};
use conns::{BusyGuard, Registry, Slot};

/// Most client connections open at once. At the cap, the longest-idle ones are closed to
/// admit new ones; when all are busy with requests, new ones are refused at once.
pub const MAX_CLIENT_CONNECTIONS: usize = 10_000;

/// Most peer connections open at once (members keep one or two each; the rest is strangers).
pub const MAX_PEER_CONNECTIONS: usize = 1_024;

/// How long a connection may take to send a whole request head: from its accept, and again
/// from the end of each response (so it is also the keep-alive idle timeout). Once a request
/// was read, nothing times out while it is answered: long-poll and stream watches are silent
/// for as long as they wait.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long open connections (watches above all) may take to finish after shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a client may take to complete the TLS handshake before its connection is
/// dropped (an idle connection meanwhile, closed first when the port is full).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Refused connections are logged at most this often (a flood must not flood the log).
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// Serves `filter` on `listener` until `shutdown` turns true, then lets open requests finish
/// for up to [`SHUTDOWN_GRACE`]. At most `max_connections` are open at once. With `tls`,
/// every connection is HTTPS: the handshake runs in the connection's own task, so a slow
/// client never holds up the accept loop.
pub async fn serve<F>(
    listener: TcpListener,
    filter: F,
    mut shutdown: watch::Receiver<bool>,
    tls: Option<Acceptor>,
    max_connections: usize,
) where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let registry = Registry::new(max_connections);
    // Every connection task holds a sender; `recv` ends once all are gone.
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    let mut refused = 0u64;
    let mut last_refusal_log: Option<Instant> = None;
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Some(admitted) = registry.admit() else {
            // Full of requests in flight: closing now tells the client at once, where the
            // backlog would keep it waiting for nothing.
            refused += 1;
            if last_refusal_log.is_none_or(|t| t.elapsed() >= REFUSAL_LOG_EVERY) {
                tracing::warn!(
                    refused,
                    max_connections,
                    "every connection is busy with a request; refusing new connections"
                );
                last_refusal_log = Some(Instant::now());
                refused = 0;
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let filter = filter.clone();
        let tls = tls.clone();
        let stop = shutdown.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let slot = admitted.slot.clone();
            match tls {
                None => serve_connection(stream, filter, &slot, stop, None).await,
                Some(acceptor) => {
                    let mut early_stop = stop.clone();
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.tls.accept(stream));
                    let stream = tokio::select! {
                        r = handshake => match r {
                            Ok(Ok(s)) => s,
                            // Refused client certificates end here: rustls has sent the alert.
                            Ok(Err(e)) => {
                                tracing::debug!("TLS handshake failed: {e}");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!("TLS handshake timed out");
                                return;
                            }
                        },
                        // Shutting down: a half-open handshake is not worth the grace period.
                        _ = early_stop.wait_for(|stopping| *stopping) => return,
                        _ = slot.shed_requested() => return,
                    };
                    let cert = acceptor.client_certificate(stream.get_ref().1);
                    serve_connection(stream, filter, &slot, stop, cert).await;
                }
            }
            drop(admitted);
            drop(alive);
        });
    }
    drop(listener);
    drop(alive);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, all_done.recv()).await;
}

/// Serves HTTP/1.1 on one established stream (TCP or TLS) until the client, the header
/// timeout, shutdown or the registry (making room) ends it. `cert`, the client's verified
/// certificate, goes with each of its requests.
async fn serve_connection<S, F>(
    stream: S,
    filter: F,
    slot: &Arc<Slot>,
    mut stop: watch::Receiver<bool>,
    cert: Option<ClientCertificate>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let svc = Tracked {
        inner: TowerToHyperService::new(warp::service(filter)),
        slot: slot.clone(),
        cert,
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = stop.wait_for(|stopping| *stopping), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = slot.shed_requested(), if !closing => {
                // Same task as the connection: nothing started a request since this check.
                if slot.is_idle() {
                    tracing::debug!("closing an idle connection to make room");
                    return;
                }
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// The service, marking its connection busy from a request's head until its response was
/// sent in full (a watch's streamed body included), and handing each request the
/// connection's client certificate.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    slot: Arc<Slot>,
    cert: Option<ClientCertificate>,
}

impl<S, T, B> hyper::service::Service<hyper::Request<T>> for Tracked<S>
where
    S: hyper::service::Service<hyper::Request<T>, Response = warp::http::Response<B>>,
    S::Future: Send + 'static,
{
    type Response = warp::http::Response<Guarded<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn call(&self, mut req: hyper::Request<T>) -> Self::Future {
        let guard = self.slot.busy();
        if let Some(cert) = &self.cert {
            req.extensions_mut().insert(cert.clone());
        }
        // One span per request, around everything its handler does (the raft proposal or
        // read included). The path only: a query string may carry a value.
        let span =
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path());
        let fut = self.inner.call(req).instrument(span);
        Box::pin(async move {
            let resp = fut.await?;
            Ok(resp.map(|body| Guarded {
                body,
                _guard: guard,
            }))
        })
    }
}

/// A response body that keeps its connection marked busy until hyper is done with it.
struct Guarded<B> {
    body: B,
    _guard: BusyGuard,
}

impl<B: Body + Unpin> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
