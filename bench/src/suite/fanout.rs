//! Watch fan-out: `--watchers` long-poll watchers (`?wait=true`) on one key, spread over the
//! members, then one write to the leader; the figure is the time from sending the write to
//! the last watcher having read its event. Repeated `--watch-repeats` times (a long poll ends
//! with its event, so every repeat registers them all again); the table shows the median.

use std::time::{Duration, Instant};

use super::servers::{Deployment, Setup};
use super::{fresh, Measurement, Recorder, Settings};
use crate::load::{median, put_form};

/// Milliseconds the poller waits for readable watchers at a time.
const POLL_MS: i32 = 100;
/// How long the watchers may wait for their event in all.
const NOTIFY_DEADLINE: Duration = Duration::from_secs(120);

/// `127.0.0.1:<port>` of a base URL `http://127.0.0.1:<port>`.
fn port_of(base: &str) -> u16 {
    base.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {base}"))
}

/// Long-poll watchers on plain kept-open sockets, all read by one thread with `epoll(7)`:
/// with a thread and a general HTTP client per watcher, the load generator's own wake-ups
/// and parsing of 1,000 answers on two cores were a good part of what the figure measured.
struct Watchers {
    conns: Vec<std::net::TcpStream>,
}

impl Watchers {
    /// Opens `n` watches of `key`, spread over `ports` in turn; each has sent its request.
    fn open(n: usize, ports: &[u16], key: &str) -> Watchers {
        use std::io::Write;
        let conns = (0..n)
            .map(|w| {
                let port = ports[w % ports.len()];
                let mut c = std::net::TcpStream::connect(("127.0.0.1", port))
                    .unwrap_or_else(|e| panic!("watch on port {port}: {e}"));
                let req = format!(
                    "GET /v2/keys{key}?wait=true HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                );
                c.write_all(req.as_bytes()).expect("send the watch");
                c.set_nonblocking(true).expect("non-blocking watch");
                c
            })
            .collect();
        Watchers { conns }
    }

    /// Reads every watch until its answer holds the `set` event; returns when each did.
    /// `epoll(7)`: a `poll(2)` of all 1,000 descriptors costs the whole set on every call,
    /// and the answers trickle in over milliseconds, so the poller's own scans were part of
    /// what was timed.
    fn notified(self) -> Vec<Instant> {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let n = self.conns.len();
        // SAFETY: plain syscalls on descriptors this function owns or borrows for its length.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(
            epoll >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        for (i, c) in self.conns.iter().enumerate() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: as above; `ev` lives across the call.
            let r = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, c.as_raw_fd(), &mut ev) };
            assert_eq!(r, 0, "epoll_ctl: {}", std::io::Error::last_os_error());
        }
        let mut got: Vec<Vec<u8>> = vec![Vec::new(); n];
        let mut when: Vec<Option<Instant>> = vec![None; n];
        let mut left = n;
        let mut buf = [0u8; 4096];
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let until = Instant::now() + NOTIFY_DEADLINE;
        while left > 0 {
            assert!(Instant::now() < until, "{left} watchers never notified");
            // SAFETY: `events` is a live array of its length for the duration of the call.
            let ready = unsafe {
                libc::epoll_wait(epoll, events.as_mut_ptr(), events.len() as i32, POLL_MS)
            };
            if ready <= 0 {
                continue;
            }
            let now = Instant::now();
            for ev in &events[..ready as usize] {
                let (i, flags) = (ev.u64 as usize, ev.events);
                let mut conn = &self.conns[i];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) => break,
                        Ok(k) => got[i].extend_from_slice(&buf[..k]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("watcher {i}: {e}"),
                    }
                }
                if when[i].is_none() && contains(&got[i], b"\"set\"") {
                    when[i] = Some(now);
                    // SAFETY: as above.
                    unsafe {
                        libc::epoll_ctl(
                            epoll,
                            libc::EPOLL_CTL_DEL,
                            conn.as_raw_fd(),
                            std::ptr::null_mut(),
                        )
                    };
                    left -= 1;
                } else if flags & (libc::EPOLLHUP | libc::EPOLLERR) as u32 != 0 {
                    panic!(
                        "watcher {i} closed without its event: {:?}",
                        String::from_utf8_lossy(&got[i])
                    );
                }
            }
        }
        // SAFETY: the descriptor was made above and is closed once.
        unsafe { libc::close(epoll) };
        when.into_iter()
            .map(|t| t.expect("every watcher notified"))
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Watchers registered on every member, from `/v2/stats/store` (both servers count them).
fn registered(d: &Deployment, agent: &ureq::Agent) -> u64 {
    d.bases
        .iter()
        .filter_map(|b| agent.get(&format!("{b}/v2/stats/store")).call().ok())
        .filter_map(crate::load::json_body)
        .filter_map(|v| v["watchers"].as_u64())
        .sum()
}

/// One repeat: (ms from the write to the last watcher notified, ms to the write's answer,
/// median ms to a watcher notified).
fn once(s: &Settings, d: &Deployment, repeat: usize) -> (f64, f64, f64) {
    let key = "/fanout";
    let ports: Vec<u16> = d.bases.iter().map(|b| port_of(b)).collect();
    let watchers = Watchers::open(s.watchers, &ports, key);
    let poller = std::thread::spawn(move || watchers.notified());
    let agent = d.agent(Duration::from_secs(10));
    // Bounded: 60 s at 10 ms; a watcher that never registers fails the benchmark.
    let mut seen = 0;
    for _ in 0..6000 {
        seen = registered(d, &agent);
        if seen >= s.watchers as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        seen >= s.watchers as u64,
        "only {seen} of {} watchers registered",
        s.watchers
    );
    let url = format!("{}{key}", d.leader_keys());
    let sent = Instant::now();
    let acked = put_form(&agent, &url, &format!("value={repeat}"), None)
        .expect("the fan-out write")
        .then(|| sent.elapsed())
        .expect("the fan-out write accepted");
    let mut notified: Vec<f64> = poller
        .join()
        .expect("the watchers' poller")
        .into_iter()
        .map(|t| t.duration_since(sent))
        .map(|t| t.as_secs_f64() * 1e3)
        .collect();
    notified.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let last = *notified.last().expect("at least one watcher");
    (last, acked.as_secs_f64() * 1e3, median(notified))
}

/// The fan-out benchmark on a fresh deployment.
pub fn watch(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    let name = format!("watch fan-out, {} watchers", s.watchers);
    rec.progress.start(&name);
    let Some(d) = fresh(setup, rec) else { return };
    let runs: Vec<(f64, f64, f64)> = (0..s.watch_repeats).map(|r| once(s, &d, r)).collect();
    rec.record(
        Measurement::new(&name, setup, round)
            .with(
                "last notified ms",
                median(runs.iter().map(|r| r.0).collect()),
            )
            .with(
                "write answered ms",
                median(runs.iter().map(|r| r.1).collect()),
            )
            .with(
                "median notified ms",
                median(runs.iter().map(|r| r.2).collect()),
            ),
    );
}
