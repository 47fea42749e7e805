//! Wiring: data dir, raft, listeners, signals. The only place that knows every part.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, ApiCounters, AppState, ServerInfo};
use crate::cluster::member_id;
use crate::config::Config;
use crate::raft::{self, RaftConfig, StartMode};
use crate::storage::RaftStorage;
use crate::time::{SystemClock, Timestamp};
use crate::tls::{self, ServerTls, Side};
use crate::transport::join::{self, JoinRequest};
use crate::transport::Transport;

/// Runs the server until SIGINT or SIGTERM, or until the raft loop ends (this member was
/// removed, storage failed, a panic); returns why the loop ended. Errors are start-up
/// failures, worded for humans.
pub fn run(cfg: Config) -> Result<raft::LoopExit, String> {
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

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let storage = RaftStorage::open(&cfg.data_dir)
        .map_err(|e| format!("cannot open data dir {}: {e}", cfg.data_dir.display()))?;
    // Members present their peer certificate and trust -peer-ca-file on every peer link.
    let mut peer_client = reqwest::Client::builder();
    if cfg.peer_tls.enabled() {
        let tls = tls::client_config(&cfg.peer_tls, Side::Peer).map_err(|e| e.to_string())?;
        peer_client = peer_client.use_preconfigured_tls(tls);
    }
    let peer_client = peer_client
        .connect_timeout(Duration::from_secs(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("cannot build the peer client: {e}"))?;

    // A data dir that already holds a member restarts it; -peers only matters for a new one.
    let (id, mode, joined) = match storage.member() {
        Some(me) => {
            if !cfg.peers.is_empty() {
                tracing::info!("data dir holds member {:?}; -peers is not needed", me.name);
            }
            (me.id, StartMode::NewCluster, None)
        }
        None if !cfg.peers.is_empty() && !storage.is_removed() => {
            let request = JoinRequest {
                name: cfg.name.clone(),
                peer_urls: vec![cfg.peer_url.clone()],
                client_urls: vec![cfg.client_url.clone()],
            };
            let joined = runtime.block_on(join::join(
                &peer_client,
                &cfg.peers,
                &request,
                cfg.peer_tls.enabled(),
            ))?;
            (joined.id, StartMode::Joined { id: joined.id }, Some(joined))
        }
        None => (member_id(&cfg.name), StartMode::NewCluster, None),
    };
    let snapshots = storage.snapshot_files().clone();
    // The transport hands what it receives to the raft loop's mailbox; the loop sends through
    // the transport: each is given the other's end, neither reaches for it.
    let (mailbox, inbox) = raft::mailbox();
    let transport = Transport::new(
        id,
        runtime.handle().clone(),
        peer_client,
        snapshots,
        Arc::new(mailbox),
    );
    if let Some(j) = &joined {
        transport.set_cluster_id(j.cluster_id);
        for (peer, url) in &j.peers {
            transport.hint(*peer, url.clone());
        }
    }

    let election_ticks =
        (cfg.election_timeout.as_millis() / cfg.heartbeat.as_millis().max(1)).max(2) as usize;
    let (handle, raft_thread) = raft::start(
        RaftConfig {
            id,
            name: cfg.name.clone(),
            peer_url: cfg.peer_url.clone(),
            client_url: cfg.client_url.clone(),
            data_dir: cfg.data_dir.clone(),
            snapshot_count: cfg.snapshot_count,
            tick: cfg.heartbeat,
            election_ticks,
            history_size: cfg.history_size,
            mode,
        },
        storage,
        raft::Env {
            clock: Arc::new(SystemClock),
            network: transport.clone(),
            seed: Timestamp::now().0 as u64,
            snapshots: Arc::new(raft::ThreadRunner),
        },
        inbox,
    )
    .map_err(|e| format!("cannot start raft in {}: {e}", cfg.data_dir.display()))?;

    let raft_handle = handle.clone();
    let raft_stopped = raft_thread.stopped();
    let state = AppState {
        raft: handle,
        info: Arc::new(ServerInfo {
            name: cfg.name.clone(),
            id,
            client_url: cfg.client_url.clone(),
            peer_url: cfg.peer_url.clone(),
            start_time: Timestamp::now(),
            started: Instant::now(),
            cors: cfg.cors.clone(),
        }),
        counters: Arc::new(ApiCounters::default()),
        transport,
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
            id = %format!("{id:016x}"),
            client = %cfg.client_url,
            peer = %cfg.peer_url,
            data_dir = %cfg.data_dir.display(),
            "etcd is serving"
        );
        if cfg.peer_tls.ca.is_none() {
            tracing::warn!(
                peer = %cfg.peer_bind_addr,
                "peer traffic is not authenticated: without -peer-ca-file anyone who can reach \
                 the peer port can join this cluster as a learner, and anyone who copies a \
                 member's id and the cluster id can send raft messages; set -peer-cert-file, \
                 -peer-key-file and -peer-ca-file, or keep the peer port on a trusted network"
            );
        }
        let (client_cap, peer_cap) = crate::http::fit_caps(
            crate::http::MAX_CLIENT_CONNECTIONS,
            crate::http::MAX_PEER_CONNECTIONS,
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
            client_cap,
        ));
        let peer_task = tokio::spawn(crate::http::serve(
            peer,
            api::peer::routes(state),
            stop_rx,
            peer_tls.map(|t| t.acceptor()),
            peer_cap,
        ));
        tokio::select! {
            _ = wait_for_signal() => tracing::info!("shutting down"),
            _ = raft_stopped => tracing::warn!("raft loop ended; shutting down"),
        }
        let _ = stop_tx.send(true);
        let _ = client_task.await;
        let _ = peer_task.await;
        Ok::<(), String>(())
    });
    // The raft loop finishes its turn and closes its storage cleanly.
    raft_handle.shutdown();
    let exit = raft_thread.join();
    drop(runtime);
    result.map(|()| exit)
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
