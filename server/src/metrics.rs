//! `GET /metrics`: what the server counts, in Prometheus' text format.
//!
//! Built on the `prometheus` crate, which raft-engine already uses: its own figures (log
//! writes, fsync durations, purges) are in the same default registry and come out with ours.
//! Names follow etcd's where etcd has the figure (`etcd_server_has_leader`,
//! `etcd_server_leader_changes_seen_total`, `etcd_disk_wal_fsync_duration_seconds`,
//! `etcd_network_peer_sent_bytes_total`, …), so dashboards made for etcd read them.
//!
//! The metrics are process-wide: a simulation that runs several members in one process adds
//! their figures up, which only observation sees.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    register_histogram, register_histogram_vec, register_int_counter, register_int_counter_vec,
    register_int_gauge, Encoder, Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    TextEncoder,
};

/// Buckets for request, proposal and apply latencies: 0.5 ms to about 8 s.
fn latency_buckets() -> Vec<f64> {
    prometheus::exponential_buckets(0.0005, 2.0, 15).expect("valid buckets")
}

/// Every figure the server keeps.
pub struct Metrics {
    /// Client requests answered, by method and status code.
    pub http_requests: IntCounterVec,
    /// Time to answer a client request, by method (watches excluded: they wait on purpose).
    pub http_duration: HistogramVec,
    /// Proposals (client writes, expiries, member records) applied.
    pub proposals_applied: IntCounter,
    /// Proposals that failed (dropped by raft, timed out, refused).
    pub proposals_failed: IntCounter,
    /// Proposals waiting for their entry to be applied.
    pub proposals_pending: IntGauge,
    /// From a proposal to its answer.
    pub proposal_duration: Histogram,
    /// Applying one Ready's committed entries.
    pub apply_duration: Histogram,
    /// Writing (and syncing) one Ready's entries and hard state.
    pub fsync_duration: Histogram,
    /// 1 when this member knows a leader.
    pub has_leader: IntGauge,
    /// 1 while the log cannot be written for want of space.
    pub disk_full: IntGauge,
    /// Leader changes seen since start.
    pub leader_changes: IntCounter,
    /// Snapshots saved.
    pub snapshots: IntCounter,
    /// Time to save one snapshot.
    pub snapshot_duration: Histogram,
    /// Watchers waiting.
    pub watchers: IntGauge,
    /// Keys in the store, hidden ones included (set at scrape time from the store's count).
    pub store_keys: IntGauge,
    /// Directories in the store, the root excepted.
    pub store_dirs: IntGauge,
    /// Bytes sent to peers, by peer id.
    pub peer_sent_bytes: IntCounterVec,
    /// Bytes received from peers, by peer id.
    pub peer_received_bytes: IntCounterVec,
    /// Round trip of a probe to a peer every second, by peer id, as etcd 3.4 measures it (to a
    /// peer of a version without message streams: of each batch's request).
    pub peer_round_trip: HistogramVec,
    /// ReadIndex rounds handed to raft (each costs one heartbeat to a quorum on a leader).
    pub read_rounds: IntCounter,
    /// Linearizable readers in those rounds: their ratio is how well reads share rounds.
    pub read_round_readers: IntCounter,
}

/// The process's figures.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    http_requests: register_int_counter_vec!(
        "etcd_http_requests_total",
        "Client requests answered, by method and status code.",
        &["method", "code"]
    )
    .expect("metric registers once"),
    http_duration: register_histogram_vec!(
        "etcd_http_request_duration_seconds",
        "Time to answer a client request (watches excluded), by method.",
        &["method"],
        latency_buckets()
    )
    .expect("metric registers once"),
    proposals_applied: register_int_counter!(
        "etcd_server_proposals_applied_total",
        "Proposals applied."
    )
    .expect("metric registers once"),
    proposals_failed: register_int_counter!(
        "etcd_server_proposals_failed_total",
        "Proposals that failed (dropped, timed out or refused)."
    )
    .expect("metric registers once"),
    proposals_pending: register_int_gauge!(
        "etcd_server_proposals_pending",
        "Proposals waiting to be applied."
    )
    .expect("metric registers once"),
    proposal_duration: register_histogram!(
        "etcd_server_proposal_duration_seconds",
        "From a proposal to its answer.",
        latency_buckets()
    )
    .expect("metric registers once"),
    apply_duration: register_histogram!(
        "etcd_server_apply_duration_seconds",
        "Applying the committed entries of one raft Ready.",
        latency_buckets()
    )
    .expect("metric registers once"),
    fsync_duration: register_histogram!(
        "etcd_disk_wal_fsync_duration_seconds",
        "Writing and syncing one raft Ready's entries and hard state.",
        latency_buckets()
    )
    .expect("metric registers once"),
    disk_full: register_int_gauge!(
        "etcd_disk_full",
        "1 while the raft log cannot be written for want of space (writes fail), else 0."
    )
    .expect("metric"),
    has_leader: register_int_gauge!(
        "etcd_server_has_leader",
        "1 when this member knows a leader, else 0."
    )
    .expect("metric registers once"),
    leader_changes: register_int_counter!(
        "etcd_server_leader_changes_seen_total",
        "Leader changes seen since start."
    )
    .expect("metric registers once"),
    snapshots: register_int_counter!("etcd_snap_saves_total", "Snapshots saved.")
        .expect("metric registers once"),
    snapshot_duration: register_histogram!(
        "etcd_snap_save_duration_seconds",
        "Time to save one snapshot.",
        latency_buckets()
    )
    .expect("metric registers once"),
    watchers: register_int_gauge!("etcd_debugging_store_watchers", "Watchers waiting.")
        .expect("metric registers once"),
    read_rounds: register_int_counter!(
        "etcd_server_read_index_rounds_total",
        "ReadIndex rounds handed to raft."
    )
    .expect("metric registers once"),
    read_round_readers: register_int_counter!(
        "etcd_server_read_index_readers_total",
        "Linearizable readers in the ReadIndex rounds handed to raft."
    )
    .expect("metric registers once"),
    // etcd 3.4's v2 store counts no keys; its v3 store's gauge is `etcd_debugging_mvcc_keys_total`
    // (which counts v3 keys only). The same shape in the v2 store's namespace (its metrics are
    // `etcd_debugging_store_*`) names ours without claiming to be the v3 figure.
    store_keys: register_int_gauge!(
        "etcd_debugging_store_keys_total",
        "Keys in the v2 store (hidden keys included)."
    )
    .expect("metric registers once"),
    store_dirs: register_int_gauge!(
        "etcd_debugging_store_dirs_total",
        "Directories in the v2 store (the root excepted)."
    )
    .expect("metric registers once"),
    peer_sent_bytes: register_int_counter_vec!(
        "etcd_network_peer_sent_bytes_total",
        "Bytes sent to peers.",
        &["To"]
    )
    .expect("metric registers once"),
    peer_received_bytes: register_int_counter_vec!(
        "etcd_network_peer_received_bytes_total",
        "Bytes received from peers.",
        &["From"]
    )
    .expect("metric registers once"),
    peer_round_trip: register_histogram_vec!(
        "etcd_network_peer_round_trip_time_seconds",
        "Round trip of a probe to a peer (of a batch of raft messages to a peer without streams).",
        &["To"],
        latency_buckets()
    )
    .expect("metric registers once"),
});

/// Counts one answered client request.
pub fn record_request(method: &str, status: u16, elapsed: Duration, watch: bool) {
    let m = &*METRICS;
    m.http_requests
        .with_label_values(&[method, &status.to_string()])
        .inc();
    if !watch {
        m.http_duration
            .with_label_values(&[method])
            .observe(elapsed.as_secs_f64());
    }
}

/// Every figure of the process (ours and raft-engine's), in the text exposition format.
pub fn render() -> String {
    LazyLock::force(&METRICS);
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&prometheus::gather(), &mut out)
        .expect("text encoding writes to a Vec");
    String::from_utf8(out).expect("the text format is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_render_in_the_text_format() {
        record_request("GET", 200, Duration::from_millis(3), false);
        METRICS.has_leader.set(1);
        let text = render();
        assert!(
            text.contains("# TYPE etcd_http_requests_total counter"),
            "{text}"
        );
        assert!(text.contains("etcd_http_requests_total{code=\"200\",method=\"GET\"}"));
        assert!(text.contains("etcd_server_has_leader 1"));
        assert!(
            text.contains("etcd_http_request_duration_seconds_bucket{method=\"GET\",le=\"0.004\"}")
        );
    }
}
