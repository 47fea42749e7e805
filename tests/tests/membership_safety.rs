//! Membership changes that must not brick a member or a cluster, and requests that must not
//! outlive their callers: the last voter cannot be removed; a stranger answering 410 at a peer
//! URL removes nobody; concurrent conf changes each get a definite answer; a write whose
//! caller timed out while there was no leader is never applied later.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use etcd_integration::cluster::Cluster;
use etcd_integration::{free_port, get, request, wait_until, EtcdProcess};
use serde_json::Value;

/// `method url` with a JSON body, as the members API wants it; returns status and body.
fn json_request(method: &str, url: &str, body: &str) -> (u16, String) {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build();
    let res = agent
        .request(method, url)
        .set("Content-Type", "application/json")
        .send_string(body);
    match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => {
            let status = r.status();
            (status, r.into_string().unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// A write through member `p` succeeded.
fn writes(p: &EtcdProcess, key: &str) -> bool {
    request("PUT", &p.keys(key), Some("value=1"))
        .map(|r| r.is_written())
        .unwrap_or(false)
}

/// `DELETE /v2/members/<own id>` on a single member is refused before anything is written:
/// the member keeps serving and restarts.
#[test]
fn removing_the_only_member_is_refused() {
    let mut p = EtcdProcess::start();
    assert!(writes(&p, "/before"));
    let id = p.sole_member_id();
    let index_before = get(&p.keys("/")).unwrap().etcd_index();
    let del = request("DELETE", &p.url(&format!("/v2/members/{id}")), None).unwrap();
    assert_eq!(del.status, 409, "{}", del.body);
    let cause = del.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(cause.contains("last voting member"), "{cause}");
    // Nothing was written, and the member still serves.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!p.has_exited(), "the member exited:\n{}", p.log());
    assert_eq!(get(&p.keys("/")).unwrap().etcd_index(), index_before);
    assert!(writes(&p, "/after"));
    let members = get(&p.url("/v2/members")).unwrap().json();
    assert_eq!(members["members"].as_array().unwrap().len(), 1);
    p.restart();
    assert!(writes(&p, "/after-restart"));
    assert_eq!(p.sole_member_id(), id);
}

/// A tiny HTTP server on loopback that answers every request with 410 Gone, naming a
/// different (forged) removal index each time; stops when dropped.
struct Gone {
    port: u16,
    answered: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Gone {
    fn start() -> Gone {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (answered.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                        let mut buf = [0u8; 64 * 1024];
                        let _ = s.read(&mut buf);
                        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
                        let body = r#"{"message":"this member was removed from the cluster"}"#;
                        let resp = format!(
                            "HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\n\
                             X-Etcd-Removed-At: {}\r\nContent-Length: {}\r\n\
                             Connection: close\r\n\r\n{body}",
                            n % 64,
                            body.len()
                        );
                        let _ = s.write_all(resp.as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Gone {
            port,
            answered,
            stop,
        }
    }
}

impl Drop for Gone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Pointing a follower's peer URL at something that answers 410 (with a forged removal index)
/// makes no member remove itself: the leader and the other follower keep serving writes and
/// restart; the follower, pointed back at its real URL, catches up.
#[test]
fn a_stranger_answering_410_at_a_peer_url_removes_nobody() {
    let mut c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let other = (0..3).find(|i| *i != leader && *i != follower).unwrap();
    let follower_id = c.id_of(follower);
    let gone = Gone::start();
    let (status, body) = json_request(
        "PUT",
        &c.members[leader].url(&format!("/v2/members/{follower_id}")),
        &format!(r#"{{"peerURLs":["http://127.0.0.1:{}"]}}"#, gone.port),
    );
    assert_eq!(status, 204, "{body}");
    wait_until("the leader talks to the stranger", || {
        gone.answered.load(Ordering::Relaxed) > 0
    });
    // The old code's members exited within 3 s of the first 410.
    std::thread::sleep(Duration::from_secs(5));
    for i in [leader, other] {
        assert!(
            !c.members[i].has_exited(),
            "{} exited:\n{}",
            c.members[i].name,
            c.members[i].log()
        );
        assert!(
            writes(&c.members[i], "/still-here"),
            "{}",
            c.members[i].name
        );
    }
    for i in [leader, other] {
        c.members[i].restart();
        c.wait_for_leader(None);
        assert!(
            writes(&c.members[i], "/after-restart"),
            "{}",
            c.members[i].name
        );
    }
    assert!(!c.members[follower].has_exited());

    // Pointed back at its real peer URL, the follower catches up.
    let real = format!(
        r#"{{"peerURLs":["http://127.0.0.1:{}"]}}"#,
        c.advertised_peer_port(follower)
    );
    let leader = c.wait_for_leader(None);
    let (status, body) = json_request(
        "PUT",
        &c.members[leader].url(&format!("/v2/members/{follower_id}")),
        &real,
    );
    assert_eq!(status, 204, "{body}");
    assert!(writes(&c.members[leader], "/back"));
    wait_until("the follower catches up", || {
        get(&c.members[follower].keys("/back")).is_ok_and(|r| r.status == 200)
    });
    drop(gone);
}

/// Concurrent `POST /v2/members`, on the leader and on a follower: raft-rs keeps one conf change
/// in flight and drops the others (the old code then answered 500 after 5 s for a change that
/// did not happen); each caller hears a definite answer (201, or 409 once its bounded retries
/// are used up), and every member ends with the same table holding exactly the accepted.
#[test]
fn concurrent_member_adds_each_get_a_definite_answer() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let per_member = 3;
    let barrier = Arc::new(Barrier::new(2 * per_member));
    let threads: Vec<_> = [leader, follower]
        .into_iter()
        .flat_map(|i| std::iter::repeat_n(i, per_member))
        .map(|i| {
            let url = c.members[i].url("/v2/members");
            let body = format!(r#"{{"peerURLs":["http://127.0.0.1:{}"]}}"#, free_port());
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                json_request("POST", &url, &body)
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (status, body) in &answers {
        assert!(
            *status == 201 || *status == 409,
            "not a definite answer: {status} {body}"
        );
        if *status == 409 {
            assert!(body.contains("in progress"), "{body}");
        }
    }
    eprintln!("answers: {answers:?}");
    let accepted = answers.iter().filter(|(s, _)| *s == 201).count();
    assert!(accepted >= 1, "{answers:?}");
    c.wait_converged();
    let table = |i: usize| -> Vec<Value> {
        let mut ms = get(&c.members[i].url("/v2/members")).unwrap().json()["members"]
            .as_array()
            .unwrap()
            .clone();
        ms.sort_by_key(|m| m["id"].as_str().unwrap_or_default().to_string());
        ms
    };
    wait_until("every member holds the same table", || {
        let t0 = table(0);
        t0.len() == 3 + accepted && (1..3).all(|i| table(i) == t0)
    });
}

/// Three members, two killed: a write on the survivor fails after the request timeout; when
/// the two come back and a leader is elected, that write is never applied.
#[test]
fn a_write_whose_caller_timed_out_without_a_leader_is_never_applied() {
    let mut c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let survivor = (0..3).find(|i| *i != leader).unwrap();
    for i in (0..3).filter(|i| *i != survivor) {
        c.members[i].kill9();
    }
    wait_until("the survivor knows no leader", || {
        get(&c.members[survivor].url("/v2/leader")).is_ok_and(|r| r.status != 200)
    });
    let put = request(
        "PUT",
        &c.members[survivor].keys("/given-up"),
        Some("value=late"),
    )
    .unwrap();
    assert!(put.status >= 500, "{} {}", put.status, put.body);
    for i in (0..3).filter(|i| *i != survivor) {
        c.members[i].restart_unready();
    }
    for i in (0..3).filter(|i| *i != survivor) {
        c.members[i].wait_ready();
    }
    let leader = c.wait_for_leader(None);
    // Written after the survivor saw a leader again: once it is applied everywhere, anything
    // the survivor would have proposed from its queue would be applied too.
    assert!(writes(&c.members[leader], "/marker"));
    for i in 0..3 {
        wait_until("the marker is applied", || {
            get(&c.members[i].keys("/marker")).is_ok_and(|r| r.status == 200)
        });
    }
    c.wait_converged();
    for i in 0..3 {
        let r = get(&c.members[i].keys("/given-up")).unwrap();
        assert_eq!(r.status, 404, "{}: {}", c.members[i].name, r.body);
    }
}

/// The leader removed through itself answers the removal (the orderly exit lets the reply go
/// out), exits, and refuses to start on its data dir; the other two go on.
#[test]
fn a_leader_removed_through_itself_answers_exits_and_stays_removed() {
    let mut c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let id = c.id_of(leader);
    let del = request(
        "DELETE",
        &c.members[leader].url(&format!("/v2/members/{id}")),
        None,
    )
    .unwrap();
    assert_eq!(del.status, 204, "{}", del.body);
    wait_until("the removed leader exits", || {
        c.members[leader].has_exited()
    });
    let next = c.wait_for_leader(Some(leader));
    assert!(writes(&c.members[next], "/after-removal"));
    let members = get(&c.members[next].url("/v2/members")).unwrap().json();
    assert_eq!(members["members"].as_array().unwrap().len(), 2);

    c.members[leader].restart_unready();
    wait_until("the removed member refuses to start", || {
        c.members[leader].has_exited()
    });
    assert!(c.members[leader].log().contains("removed"));
}
