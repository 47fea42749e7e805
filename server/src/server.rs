//! Wiring: data dir, raft, listeners, signals. The only place that knows every part.

use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, ApiCounters, AppState, ServerInfo};
use crate::config::Config;
use crate::member::{cluster_id, member_id};
use crate::raft::{self, RaftConfig};
use crate::time::Timestamp;
use crate::tls::{ServerTls, Side};

/// Runs the server until SIGINT or SIGTERM; errors are start-up failures, worded for humans.
pub fn run(cfg: Config) -> Result<(), String> {
    if !cfg.peers.is_empty() {
        return Err("joining a cluster with -peers is not supported by this build yet".into());
    }
    // TLS files are checked before anything touches the data dir; with TLS asked for we never
    // fall back to plain HTTP.
    let client_tls =
        ServerTls::from_files(&cfg.client_tls, Side::Client).map_err(|e| e.to_string())?;
    let peer_tls = ServerTls::from_files(&cfg.peer_tls, Side::Peer).map_err(|e| e.to_string())?;
    if cfg.force && cfg.data_dir.exists() {
        tracing::warn!(dir = %cfg.data_dir.display(), "-f: discarding existing state");
        std::fs::remove_dir_all(&cfg.data_dir)
            .map_err(|e| format!("cannot clear data dir {}: {e}", cfg.data_dir.display()))?;
    }
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", cfg.data_dir.display()))?;

    let id = member_id(&cfg.name);
    let election_ticks =
        (cfg.election_timeout.as_millis() / cfg.heartbeat.as_millis().max(1)).max(2) as usize;
    let (handle, raft_thread) = raft::start(RaftConfig {
        id,
        name: cfg.name.clone(),
        peer_url: cfg.peer_url.clone(),
        client_url: cfg.client_url.clone(),
        data_dir: cfg.data_dir.clone(),
        snapshot_count: cfg.snapshot_count,
        tick: cfg.heartbeat,
        election_ticks,
        history_size: cfg.history_size,
    })
    .map_err(|e| format!("cannot start raft in {}: {e}", cfg.data_dir.display()))?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let state = AppState {
        raft: handle,
        info: Arc::new(ServerInfo {
            name: cfg.name.clone(),
            id,
            cluster_id: cluster_id(&cfg.name),
            client_url: cfg.client_url.clone(),
            peer_url: cfg.peer_url.clone(),
            start_time: Timestamp::now(),
            started: Instant::now(),
            cors: cfg.cors.clone(),
        }),
        counters: Arc::new(ApiCounters::default()),
    };
    let result = runtime.block_on(async move {
        let client = TcpListener::bind(&cfg.bind_addr)
            .await
            .map_err(|e| format!("cannot listen for clients on {}: {e}", cfg.bind_addr))?;
        let peer = TcpListener::bind(&cfg.peer_bind_addr)
            .await
            .map_err(|e| format!("cannot listen for peers on {}: {e}", cfg.peer_bind_addr))?;
        tracing::info!(
            name = %cfg.name,
            client = %cfg.client_url,
            peer = %cfg.peer_url,
            data_dir = %cfg.data_dir.display(),
            "etcd is serving"
        );
        let (stop_tx, stop_rx) = watch::channel(false);
        for tls in client_tls.iter().chain(peer_tls.iter()) {
            tls.spawn_reloader(stop_rx.clone());
        }
        let client_task = tokio::spawn(crate::http::serve(
            client,
            api::routes(state.clone()),
            stop_rx.clone(),
            client_tls.map(|t| t.acceptor()),
        ));
        let peer_task = tokio::spawn(crate::http::serve(
            peer,
            api::routes(state),
            stop_rx,
            peer_tls.map(|t| t.acceptor()),
        ));
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        let _ = client_task.await;
        let _ = peer_task.await;
        Ok::<(), String>(())
    });
    // Dropping the runtime drops the last raft handles; the raft loop then stops and its
    // storage closes cleanly.
    drop(runtime);
    let _ = raft_thread.join();
    result
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
