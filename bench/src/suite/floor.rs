//! The floor of a one-connection write on three members: a write is committed once a follower
//! has it on disk and the leader heard so, which is one fsync on the follower plus one round
//! trip between members (the leader's own fsync runs beside them). Both are measured here,
//! right after the write load, on the same machine and file system, so the write's p50 can be
//! set against them.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::load::median;
use crate::rawhttp::RawHttp;

/// Median milliseconds of one 4 KiB append and `fdatasync` in `dir`, over `n` tries.
pub fn fsync_p50_ms(dir: &Path, n: usize) -> Result<f64, String> {
    let path = dir.join(format!("fsync-probe-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let block = vec![0x5au8; 4096];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&block).map_err(|e| format!("write: {e}"))?;
        f.sync_data().map_err(|e| format!("fdatasync: {e}"))?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(median(times))
}

/// Median milliseconds of one HTTP round trip to a member's peer port (`GET /version` on a
/// kept-alive connection), over `n` tries: what one raft message and its answer cost on the
/// wire, without the raft loops at either end.
pub fn peer_round_trip_p50_ms(peer_port: u16, n: usize) -> Result<f64, String> {
    let mut conn = RawHttp::connect(peer_port)?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let status = conn.get("/version")?;
        if status != 200 {
            return Err(format!("GET /version on the peer port: {status}"));
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(times))
}
