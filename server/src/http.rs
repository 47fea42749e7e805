//! Serving a warp filter on a listener, over plain TCP or TLS: capped connections and
//! graceful shutdown.
//!
//! We drive hyper ourselves (as warp's own server does) so that the same loop serves TLS
//! streams, and so that shutdown and the connection cap are ours.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use warp::reply::Response;
use warp::Filter;

/// Most client connections served at once; further ones wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 10_000;

/// How long open connections (watches above all) may take to finish after shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a client may take to complete the TLS handshake before its connection is
/// dropped; it holds one of the [`MAX_CONNECTIONS`] permits meanwhile.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `filter` on `listener` until `shutdown` turns true, then lets open requests finish
/// for up to [`SHUTDOWN_GRACE`]. With `tls`, every connection is HTTPS: the handshake runs in
/// the connection's own task, so a slow client never holds up the accept loop.
pub async fn serve<F>(
    listener: TcpListener,
    filter: F,
    mut shutdown: watch::Receiver<bool>,
    tls: Option<TlsAcceptor>,
) where
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
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
        let _ = stream.set_nodelay(true);
        let filter = filter.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, filter, watcher).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
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
                        _ = stop.wait_for(|stopping| *stopping) => return,
                    };
                    serve_connection(stream, filter, watcher).await;
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// Serves HTTP on one established stream (TCP or TLS) until the client or shutdown ends it.
async fn serve_connection<S, F>(stream: S, filter: F, watcher: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Filter<Extract = (Response,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let svc = TowerToHyperService::new(warp::service(filter));
    let builder = Builder::new(TokioExecutor::new());
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), svc)
        .into_owned();
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!("connection ended: {e}");
    }
}
