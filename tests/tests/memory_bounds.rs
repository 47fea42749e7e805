//! Memory is bounded in bytes: request bodies in flight share one budget, so many concurrent
//! big uploads cannot make the server buffer them all; small writes go on meanwhile.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_integration::{request, EtcdProcess};

/// Resident memory of a process, from /proc.
fn rss_bytes(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// 300 clients each announce a 1.5 MiB body and send 1.4 MiB of it, then stall: buffered in
/// full that is 400 MiB or more (0.3.0 grew by ~130 MiB with 200 clients sending 1 MiB);
/// within the 64 MiB budget the server's memory grows far less.
#[test]
fn stalled_big_uploads_are_held_within_the_body_budget() {
    let p = EtcdProcess::start();
    let pid = p.pid().unwrap();
    assert_eq!(
        request("PUT", &p.keys("/warm"), Some("value=1"))
            .unwrap()
            .status,
        201
    );
    let before = rss_bytes(pid);
    const CLIENTS: usize = 300;
    let sent = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicUsize::new(0));
    let port = p.client_port;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (sent, release) = (sent.clone(), release.clone());
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
                let head = format!(
                    "PUT /v2/keys/up/{i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\n\
                     Content-Length: {}\r\n\r\nvalue=",
                    1536 * 1024
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&vec![b'v'; 1400 * 1024]);
                sent.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(120);
                while release.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                drop(s);
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while sent.load(Ordering::SeqCst) < CLIENTS {
        assert!(Instant::now() < deadline, "clients did not send");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A small write is not queued behind the stalled uploads.
    let small = request("PUT", &p.keys("/small"), Some("value=ok")).unwrap();
    assert_eq!(small.status, 201, "{}", small.body);
    let grown = rss_bytes(pid).saturating_sub(before);
    release.store(1, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    assert!(
        grown < 120 * 1024 * 1024,
        "the server grew by {} MiB holding stalled uploads",
        grown / (1024 * 1024)
    );
}
