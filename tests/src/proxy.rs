//! A fault-injecting TCP proxy for peer links.
//!
//! Each member advertises a proxy's port as its peer address and listens behind it, so every
//! raft message to that member crosses its proxy. Members send their raft id in an
//! `X-Raft-From` header on kept-alive connections that each belong to one sender, so the proxy
//! reads the first request's headers and knows, per connection, who talks to whom. Cutting a
//! link drops its open connections and refuses new ones; healing lets them through again.
//!
//! A proxy starts before its member, whose port it must advertise, and learns where to forward
//! once the member has bound its own port ([`Proxy::set_target`]); until then it drops what
//! arrives, and raft's senders retry.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

/// Largest request head the proxy reads before deciding.
const MAX_HEAD: usize = 64 * 1024;

/// Which links are cut, shared by every proxy of a test.
#[derive(Default)]
pub struct Faults {
    /// Members (by raft id) whose inbound and outbound peer traffic is dropped.
    isolated: Mutex<HashSet<u64>>,
    /// Open connections, to drop when a link is cut: (sender id, target id, stream).
    open: Mutex<Vec<(u64, u64, TcpStream)>>,
}

impl Faults {
    /// Cuts every peer link of member `id` (hex raft id, as `/v2/members` shows), both ways.
    pub fn isolate(&self, id: &str) {
        let id = parse_id(id);
        self.isolated.lock().unwrap().insert(id);
        // Every open connection goes, not only this member's: one accepted before the target's
        // id was known is not labelled; the others reconnect at once and are judged afresh.
        for (_, _, stream) in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.isolated.lock().unwrap().clear();
    }

    fn allows(&self, from: u64, to: u64) -> bool {
        let cut = self.isolated.lock().unwrap();
        !cut.contains(&from) && !cut.contains(&to)
    }
}

/// One member's proxy: listens on `port`, forwards to its target once set.
pub struct Proxy {
    /// The port members reach the target through.
    pub port: u16,
    target: Arc<OnceLock<SocketAddr>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Starts a proxy whose target's address becomes known through [`Proxy::set_target`] and
    /// whose target's raft id (hex) through `target_id` (empty until set).
    pub fn start(target_id: Arc<Mutex<String>>, faults: Arc<Faults>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let target = Arc::new(OnceLock::new());
        let (stopping, forward_to) = (stop.clone(), target.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                // Not known yet: the connection closes and its sender tries again later.
                let Some(target) = forward_to.get().copied() else {
                    continue;
                };
                let faults = faults.clone();
                let to = parse_id(&target_id.lock().unwrap());
                thread::spawn(move || relay(conn, target, to, &faults));
            }
        });
        Proxy { port, target, stop }
    }

    /// Where to forward from now on: the port the member behind the proxy bound. Set once; a
    /// restarted member listens on the same port.
    pub fn set_target(&self, target: SocketAddr) {
        let current = *self.target.get_or_init(|| target);
        assert_eq!(current, target, "a proxy's target never moves");
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads the request head, finds the sender, and relays both ways unless the link is cut.
fn relay(mut client: TcpStream, target: SocketAddr, to: u64, faults: &Faults) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > MAX_HEAD {
            return;
        }
    }
    let _ = client.set_read_timeout(None);
    let from = parse_id(&sender(&head));
    if !faults.allows(from, to) {
        return; // dropped: the sender sees the connection close
    }
    let Ok(mut server) = TcpStream::connect(target) else {
        return;
    };
    if server.write_all(&head).is_err() {
        return;
    }
    if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
        let mut open = faults.open.lock().unwrap();
        open.push((from, to, c));
        open.push((from, to, s));
    }
    let (Ok(mut client_read), Ok(mut server_write)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    let upstream = thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.join();
}

/// A hex raft id; 0 when absent or malformed (joins carry none).
fn parse_id(hex: &str) -> u64 {
    u64::from_str_radix(hex.trim(), 16).unwrap_or(0)
}

/// The `X-Raft-From` value of a request head, lowercase, or empty.
fn sender(head: &[u8]) -> String {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("x-raft-from")
                .then(|| value.trim().to_ascii_lowercase())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sender() {
        let head = b"POST /raft HTTP/1.1\r\nhost: x\r\nX-Raft-From: AB12\r\n\r\n";
        assert_eq!(sender(head), "ab12");
        assert_eq!(sender(b"GET / HTTP/1.1\r\n\r\n"), "");
    }
}
