//! Connections that never send a request, or send it a byte a second, must not take a port
//! away from real clients and members (issue 11, item 7): the server times out request
//! heads (and idle keep-alive connections) and, at its connection cap, closes the
//! longest-idle connections to admit new ones. A long watch, silent after its request was
//! read, is not cut by those timeouts.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use etcd_integration::cluster::Cluster;
use etcd_integration::{http, request, EtcdProcess};

/// More idle connections than the client port's cap (10,000), so that the cap is reached.
const IDLE_CONNECTIONS: usize = 10_500;
/// Connections trickling a request head, a byte a second.
const SLOW_CONNECTIONS: usize = 300;
/// How long the server may take to close what it should close (its header timeout is
/// 10 s); a generous bound, not a timing assertion.
const CLOSE_DEADLINE: Duration = Duration::from_secs(90);
/// Parallel connectors opening the flood.
const CONNECTORS: usize = 8;
/// Failed connects in a row after which a connector gives up.
const CONNECT_FAILURES: usize = 10;

/// Raises this process's soft open-file limit to the hard one (the servers it starts inherit
/// it) and returns it.
fn raise_fd_limit() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur as usize
}

/// How many idle connections this process can hold beside everything else.
fn idle_budget() -> usize {
    let limit = raise_fd_limit();
    let n = IDLE_CONNECTIONS.min(limit.saturating_sub(SLOW_CONNECTIONS + 1_000));
    if n < IDLE_CONNECTIONS {
        eprintln!("open-file limit {limit}: opening only {n} idle connections");
    }
    n
}

/// Opens up to `n` TCP connections to `addr` from [`CONNECTORS`] threads; a thread stops
/// after [`CONNECT_FAILURES`] connects in a row fail (a server whose backlog stays full
/// stops answering; a busy one that accepts slowly only drops a few).
fn open_flood(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let out = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let threads: Vec<_> = (0..CONNECTORS)
        .map(|t| {
            let out = out.clone();
            let share = n / CONNECTORS + usize::from(t < n % CONNECTORS);
            thread::spawn(move || {
                let mut failures = 0;
                for _ in 0..share {
                    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                        Ok(s) => {
                            failures = 0;
                            out.lock().unwrap().push(s);
                        }
                        Err(_) => {
                            failures += 1;
                            if failures >= CONNECT_FAILURES {
                                return;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("connector thread");
    }
    Arc::try_unwrap(out).unwrap().into_inner().unwrap()
}

/// Connections that send a request head one byte a second until the server closes them (or
/// the test ends); reports how many are still open.
struct SlowLoris {
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<usize>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl SlowLoris {
    fn start(addr: SocketAddr, n: usize) -> SlowLoris {
        let mut socks = Vec::with_capacity(n);
        let mut failures = 0;
        while socks.len() < n && failures < CONNECT_FAILURES {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                Ok(s) => socks.push(s),
                Err(_) => failures += 1,
            }
        }
        for s in &socks {
            s.set_nonblocking(true).expect("nonblocking");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(socks.len()));
        let (stop2, open2) = (stop.clone(), open.clone());
        let head = b"GET /v2/keys/ HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        let thread = thread::spawn(move || {
            let mut sent = 0usize;
            while !stop2.load(Ordering::Relaxed) && !socks.is_empty() {
                let byte = [head.get(sent).copied().unwrap_or(b'a')];
                socks.retain_mut(|s| s.write(&byte).is_ok() && still_open(s));
                *open2.lock().unwrap() = socks.len();
                sent += 1;
                thread::sleep(Duration::from_secs(1));
            }
        });
        SlowLoris {
            stop,
            open,
            thread: Some(thread),
        }
    }

    fn open(&self) -> usize {
        *self.open.lock().unwrap()
    }
}

impl Drop for SlowLoris {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether a non-blocking socket is still open (no EOF, no reset).
fn still_open(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    match s.read(&mut buf) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::WouldBlock => true,
        Err(_) => false,
    }
}

/// Waits until the server closed every socket in `socks`; panics with the count left.
fn wait_all_closed(mut socks: Vec<TcpStream>, what: &str, log: impl Fn() -> String) {
    for s in &socks {
        s.set_nonblocking(true).expect("nonblocking");
    }
    let started = Instant::now();
    while !socks.is_empty() {
        socks.retain_mut(still_open);
        assert!(
            started.elapsed() < CLOSE_DEADLINE,
            "{} {what} connections still open after {:?}\n{}",
            socks.len(),
            CLOSE_DEADLINE,
            log()
        );
        thread::sleep(Duration::from_millis(500));
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Sends `method url` on a fresh connection with a bound on the whole exchange (a server
/// that left the connection in its backlog would otherwise hang the test); the status.
fn bounded(method: &str, url: &str, form: Option<&str>) -> Result<u16, String> {
    let req = ureq::request(method, url).timeout(Duration::from_secs(30));
    let res = match form {
        Some(f) => req
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(f),
        None => req.call(),
    };
    match res {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(s, _)) => Ok(s),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes and reads on fresh connections, as a new client would.
fn assert_clients_served(s: &EtcdProcess, round: usize) {
    for i in 0..10 {
        let key = format!("/flood/{round}-{i}");
        let status = bounded("PUT", &s.keys(&key), Some("value=v"))
            .unwrap_or_else(|e| panic!("PUT {key} during the flood: {e}\n{}", s.log()));
        assert!(status == 200 || status == 201, "PUT {key}: {status}");
        let status = bounded("GET", &s.keys(&key), None)
            .unwrap_or_else(|e| panic!("GET {key} during the flood: {e}"));
        assert_eq!(status, 200, "GET {key}");
    }
}

#[test]
fn idle_and_slow_connections_do_not_starve_clients() {
    let n = idle_budget();
    let s = EtcdProcess::start();
    let idle = open_flood(addr(s.client_port), n);
    eprintln!("{} idle connections open", idle.len());
    let slow = SlowLoris::start(addr(s.client_port), SLOW_CONNECTIONS);
    assert_clients_served(&s, 0);
    // The peer port stays reachable meanwhile.
    let v = bounded("GET", &format!("{}/version", s.peer_url()), None).expect("peer /version");
    assert_eq!(v, 200);
    // Idle connections and head tricklers are closed by the server once they time out.
    wait_all_closed(idle, "idle", || s.log());
    let started = Instant::now();
    while slow.open() > 0 {
        assert!(
            started.elapsed() < CLOSE_DEADLINE,
            "{} slow-loris connections still open\n{}",
            slow.open(),
            s.log()
        );
        thread::sleep(Duration::from_millis(500));
    }
    assert_clients_served(&s, 1);
}

#[test]
fn a_machine_joins_through_a_flooded_peer_port() {
    let n = idle_budget();
    let mut c = Cluster::start(1, &[]);
    let peer = addr(c.members[0].peer_port);
    let idle = open_flood(peer, n);
    let slow = SlowLoris::start(peer, SLOW_CONNECTIONS);
    // Joining needs new peer connections: to the flooded port and back.
    let joined = c.add_member();
    c.put_acked(joined, "/after-join", "v");
    c.wait_converged();
    wait_all_closed(idle, "idle peer", || c.members[0].log());
    drop(slow);
}

#[test]
fn long_watches_outlive_the_idle_timeout() {
    let s = EtcdProcess::start();
    let url = s.keys("/watched?wait=true");
    let waiter = thread::spawn(move || http::open("GET", &url).map(|r| r.into_string()));
    let stream_url = s.keys("/watched?wait=true&stream=true");
    let streamer = thread::spawn(move || {
        let r = http::open("GET", &stream_url).expect("stream watch");
        let mut reader = std::io::BufReader::new(r.into_reader());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).map(|_| line)
    });
    // Longer than the server's header/idle timeout (10 s): the watches were read and wait.
    thread::sleep(Duration::from_secs(13));
    let r = request("PUT", &s.keys("/watched"), Some("value=late")).expect("PUT");
    assert_eq!(r.status, 201, "{}", r.body);
    let body = waiter
        .join()
        .expect("waiter")
        .expect("watch answered")
        .expect("watch body");
    assert!(body.contains("\"late\""), "long-poll watch got: {body}");
    let line = streamer.join().expect("streamer").expect("stream event");
    assert!(line.contains("\"late\""), "stream watch got: {line}");
}
