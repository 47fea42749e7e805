//! Serving a warp filter on a listener: capped connections and graceful shutdown.
//!
//! We drive hyper ourselves (as warp's own server does) so that the same loop can later serve
//! TLS streams, and so that shutdown and the connection cap are ours.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use warp::reply::Response;
use warp::Filter;

/// Most client connections served at once; further ones wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 10_000;

/// How long open connections (watches above all) may take to finish after shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Serves `filter` on `listener` until `shutdown` turns true, then lets open requests finish
/// for up to [`SHUTDOWN_GRACE`].
pub async fn serve<F>(listener: TcpListener, filter: F, mut shutdown: watch::Receiver<bool>)
where
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
        let svc = TowerToHyperService::new(warp::service(filter.clone()));
        let builder = Builder::new(TokioExecutor::new());
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}
