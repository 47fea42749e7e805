//! Fitting the connection caps to the file-descriptor limit: a cap above it would never
//! make room (accept would fail first, and connections would pile up in the backlog).

/// Descriptors kept for everything but served connections: the data dir, raft-engine's
/// files, snapshot transfers, connections to peers, the listeners.
pub const FD_RESERVE: u64 = 256;

/// Raises the soft `RLIMIT_NOFILE` to the hard one (as Go's runtime does) and returns the
/// soft limit now in force (`None` when it cannot be read).
fn raise_nofile_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    Some(lim.rlim_cur)
}

/// The client and peer connection caps that fit this process's descriptor limit: the
/// wanted ones, or both scaled down (with a warning) when the limit is lower.
pub fn fit_caps(client: usize, peer: usize) -> (usize, usize) {
    let Some(limit) = raise_nofile_limit() else {
        return (client, peer);
    };
    scale(client, peer, limit)
}

fn scale(client: usize, peer: usize, limit: u64) -> (usize, usize) {
    let budget = limit.saturating_sub(FD_RESERVE);
    let wanted = (client + peer) as u64;
    if budget >= wanted {
        return (client, peer);
    }
    let fit = |cap: usize| ((cap as u64 * budget / wanted) as usize).max(16);
    let (c, p) = (fit(client), fit(peer));
    tracing::warn!(
        nofile = limit,
        client_connections = c,
        peer_connections = p,
        "the open-file limit is low: serving fewer connections at once (raise ulimit -n)"
    );
    (c, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_fit_the_limit() {
        assert_eq!(scale(10_000, 1_024, 1 << 20), (10_000, 1_024));
        let (c, p) = scale(10_000, 1_024, 1_024);
        assert!(c + p <= 1_024 - FD_RESERVE as usize + 1, "{c} {p}");
        assert!(p >= 16 && c > p);
        assert_eq!(scale(10_000, 1_024, 0), (16, 16));
    }
}
