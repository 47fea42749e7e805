//! Wiring: data dir, raft, listeners, signals. The only place that knows every part.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{BoundPorts, PORTS_FILE};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, ApiCounters, AppState, ServerInfo};
use crate::cluster::member_id;
use crate::config::Config;
use crate::raft::{self, RaftConfig, Recovery, Standalone, StartMode};
use crate::storage::RaftStorage;
use crate::time::{SystemClock, Timestamp};
use crate::tls::{self, ServerTls, Side};
use crate::transport::join::{self, JoinRequest};
use crate::transport::Transport;

/// The file `etcdctl backup` leaves in the copy it makes.
pub const BACKUP_MARKER: &str = "backup";

/// Runs the server until SIGINT or SIGTERM, or until the raft loop ends (this member was
/// removed, storage failed, a panic); returns why the loop ended. Errors are start-up
/// failures, worded for humans.
pub fn run(mut cfg: Config) -> Result<raft::LoopExit, String> {
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
    // A copy made by `etcdctl backup` holds its member's identity: started as is, it would be
    // a second instance of that member. It starts only as a new cluster.
    let backup_marker = cfg.data_dir.join(BACKUP_MARKER);
    if backup_marker.exists() && !cfg.force_new_cluster {
        return Err(format!(
            "data dir {} is a backup made by 'etcdctl backup'; start it with -force-new-cluster, \
             as a new one-member cluster holding its keys",
            cfg.data_dir.display()
        ));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let mut storage = RaftStorage::open(&cfg.data_dir)
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

    // Both ports are bound before the join and before raft starts: with `-addr host:0` the
    // advertised URLs (sent to the cluster when joining, written into the member table when
    // bootstrapping) must carry the ports the OS gave us.
    let (client, peer) = runtime.block_on(listen(&mut cfg))?;
    if cfg.force_new_cluster {
        // After the ports are bound: the member table records the URLs this member serves.
        let me = Standalone {
            name: cfg.name.clone(),
            peer_url: cfg.peer_url.clone(),
            client_url: cfg.client_url.clone(),
            history_size: cfg.history_size,
            backup_marker: backup_marker.exists().then_some(backup_marker),
        };
        force_new_cluster(&mut storage, &me, &cfg.data_dir)?;
    }

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
            log_sync: raft::LogSyncMode::Thread,
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
            local_reads: cfg.local_reads,
        }),
        counters: Arc::new(ApiCounters::default()),
        transport,
        verifier: Arc::default(),
    };
    let result = runtime.block_on(async move {
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
        let transport = state.transport.clone();
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
        // Peers' message streams never end by themselves: end them, or shutdown would wait
        // out its grace period for them.
        transport.close_streams();
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

/// `-force-new-cluster`: rewrites the data dir as a new one-member cluster of `me`, and says
/// what it did.
fn force_new_cluster(
    storage: &mut RaftStorage,
    me: &Standalone,
    data_dir: &std::path::Path,
) -> Result<(), String> {
    let done = raft::force_new_cluster(storage, me, Timestamp::now())
        .map_err(|e| format!("cannot recover data dir {}: {e}", data_dir.display()))?;
    match done {
        Recovery::AlreadyAlone => tracing::info!(
            "-force-new-cluster: the data dir already is a one-member cluster of this member; \
             nothing to do (the flag may be removed)"
        ),
        Recovery::Recovered {
            index,
            etcd_index,
            dropped_entries,
            dropped_members,
            cluster_id,
        } => tracing::warn!(
            raft_index = index,
            etcd_index,
            dropped_uncommitted_entries = dropped_entries,
            removed_members = ?dropped_members,
            cluster_id = %format!("{cluster_id:016x}"),
            "-force-new-cluster: started over as a new one-member cluster holding every \
             committed key; remove the flag for later restarts"
        ),
    }
    Ok(())
}

/// Binds the client and peer ports, advertises the bound ports where `-addr`/`-peer-addr` asked
/// for port 0, and writes both ports to `<data-dir>/ports.json` for whoever started us.
async fn listen(cfg: &mut Config) -> Result<(TcpListener, TcpListener), String> {
    let client = TcpListener::bind(&cfg.bind_addr)
        .await
        .map_err(|e| format!("cannot listen for clients on {}: {e}", cfg.bind_addr))?;
    let peer = TcpListener::bind(&cfg.peer_bind_addr)
        .await
        .map_err(|e| format!("cannot listen for peers on {}: {e}", cfg.peer_bind_addr))?;
    let port = |l: &TcpListener| {
        l.local_addr()
            .map(|a| a.port())
            .map_err(|e| format!("cannot read a listening port: {e}"))
    };
    let (client_port, peer_port) = (port(&client)?, port(&peer)?);
    cfg.advertise_bound_ports(client_port, peer_port);
    write_ports(&cfg.data_dir, client_port, peer_port)?;
    tracing::info!(
        client_port,
        peer_port,
        client = %cfg.client_url,
        peer = %cfg.peer_url,
        "listening"
    );
    Ok((client, peer))
}

/// `<data-dir>/ports.json` ([`BoundPorts`]), written to a temporary file and renamed so a reader
/// never sees half of it. Not fsynced: it describes this run only, and a restart rewrites it.
fn write_ports(data_dir: &std::path::Path, client: u16, peer: u16) -> Result<(), String> {
    let path = data_dir.join(PORTS_FILE);
    let tmp = data_dir.join(format!("{PORTS_FILE}.tmp"));
    let text = serde_json::to_string(&BoundPorts { client, peer })
        .map_err(|e| format!("cannot encode the ports: {e}"))?;
    std::fs::write(&tmp, text + "\n")
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
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
