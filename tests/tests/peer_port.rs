//! The peer port serves member traffic only (issue 11, item 6): not the client API (which
//! would bypass the client port's `-ca-file`), and raft messages only from current members of
//! this cluster. A stranger's `MsgHeartbeat` with term+1 and commit 2^40, which used to panic
//! the raft thread, is refused and the server keeps committing writes.

use std::time::{Duration, Instant};

use etcd_integration::cluster::Cluster;
use etcd_integration::{ca_fixture, get, request, EtcdProcess, Options};

/// Upper bound for a server to come up; a hang is a failure.
const DEADLINE: Duration = Duration::from_secs(60);

/// `MsgHeartbeat` in raft's `eraftpb.MessageType`.
const MSG_HEARTBEAT: u64 = 8;

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A raft `Message` (protobuf fields 1 type, 2 to, 3 from, 4 term, 8 commit) framed as the
/// transport frames it: a 4-byte big-endian length, then the message.
fn framed_message(msg_type: u64, to: u64, from: u64, term: u64, commit: u64) -> Vec<u8> {
    let mut m = Vec::new();
    for (field, value) in [(1u64, msg_type), (2, to), (3, from), (4, term), (8, commit)] {
        varint(field << 3, &mut m);
        varint(value, &mut m);
    }
    let mut out = (m.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&m);
    out
}

/// Request headers as (name, value).
type Headers = Vec<(&'static str, String)>;

/// POSTs `body` to `url` with `headers`; the status and body (any status).
fn post(url: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
    let mut req = ureq::post(url).timeout(Duration::from_secs(10));
    for (name, value) in headers {
        req = req.set(name, value);
    }
    match req.send_bytes(body) {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

fn hex_header(reply: &etcd_integration::Reply, name: &str) -> u64 {
    let v = reply
        .header(name)
        .unwrap_or_else(|| panic!("no {name} header"));
    u64::from_str_radix(v, 16).unwrap_or_else(|_| panic!("{name} is not hex: {v}"))
}

/// (this member's id, the cluster id, the current term), as any client can read them.
fn ids(s: &EtcdProcess) -> (u64, u64, u64) {
    let stats = get(&s.url("/v2/stats/self")).expect("stats").json();
    let id = u64::from_str_radix(stats["id"].as_str().expect("id"), 16).expect("hex id");
    let r = get(&s.keys("")).expect("GET /v2/keys/");
    let cluster = hex_header(&r, "x-etcd-cluster-id");
    let term: u64 = r
        .header("x-raft-term")
        .expect("term")
        .parse()
        .expect("term");
    (id, cluster, term)
}

/// Asserts a write still commits on `s` and it still says it is healthy.
fn assert_serving(s: &EtcdProcess, key: &str) {
    let r = request("PUT", &s.keys(key), Some("value=still")).expect("PUT");
    assert!(
        r.is_written(),
        "write after hostile peer traffic: {} {}\n{}",
        r.status,
        r.body,
        s.log()
    );
    let h = get(&s.url("/health")).expect("health");
    assert_eq!(h.status, 200, "{}", h.body);
    assert!(
        !s.log().contains("out of range"),
        "raft panicked:\n{}",
        s.log()
    );
}

fn assert_not_served(url: &str, method: &str) {
    let r = request(method, url, Some("value=x")).expect("request to the peer port");
    assert_eq!(r.status, 404, "{method} {url}: {}", r.body);
    let body = r.json();
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("peer port"), "{method} {url}: {}", r.body);
}

#[test]
fn client_api_is_not_served_on_the_peer_port() {
    let s = EtcdProcess::start();
    let peer = s.peer_url();
    for path in [
        "/v2/keys/",
        "/v2/keys/k",
        "/v2/members",
        "/health",
        "/v2/stats/self",
    ] {
        assert_not_served(&format!("{peer}{path}"), "GET");
    }
    assert_not_served(&format!("{peer}/v2/keys/k"), "PUT");
    assert_not_served(&format!("{peer}/v2/keys/q"), "POST");
    // The PUT above did not write either.
    assert_eq!(get(&s.keys("/k")).expect("GET").status, 404);
    // What etcd serves on both ports stays.
    let v = get(&format!("{peer}/version")).expect("version");
    assert_eq!(v.status, 200, "{}", v.body);
    assert!(v.json()["etcdserver"].is_string(), "{}", v.body);
    assert_serving(&s, "/k2");
}

#[test]
fn peer_port_does_not_bypass_client_certificates() {
    // The client port requires a client certificate; the plain-HTTP peer port must not be a
    // way around it.
    let s = EtcdProcess::start_unready(Options {
        extra: vec![
            "-cert-file".into(),
            ca_fixture("server.crt"),
            "-key-file".into(),
            ca_fixture("server.key.insecure"),
            "-ca-file".into(),
            ca_fixture("ca.crt"),
        ],
        ..Options::default()
    });
    let peer = s.peer_url();
    let started = Instant::now();
    loop {
        if get(&format!("{peer}/version")).is_ok_and(|r| r.status == 200) {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "never came up:\n{}", s.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_not_served(&format!("{peer}/v2/keys/"), "GET");
    assert_not_served(&format!("{peer}/v2/keys/secret"), "PUT");
    assert_not_served(&format!("{peer}/v2/members"), "GET");
}

#[test]
fn raft_messages_from_strangers_are_refused() {
    let s = EtcdProcess::start();
    let (me, cluster, term) = ids(&s);
    let url = format!("{}/raft", s.peer_url());
    let stranger = 0x5eed_u64;
    let hostile = |from: u64| framed_message(MSG_HEARTBEAT, me, from, term + 1, 1 << 40);
    let cases: Vec<(&str, Headers, Vec<u8>)> = vec![
        ("no headers", vec![], hostile(stranger)),
        (
            "no cluster id",
            vec![("X-Raft-From", format!("{stranger:x}"))],
            hostile(stranger),
        ),
        (
            "wrong cluster id",
            vec![
                ("X-Etcd-Cluster-Id", format!("{:x}", cluster ^ 1)),
                ("X-Raft-From", format!("{stranger:x}")),
            ],
            hostile(stranger),
        ),
        (
            "no sender",
            vec![("X-Etcd-Cluster-Id", format!("{cluster:x}"))],
            hostile(stranger),
        ),
        (
            "unknown sender",
            vec![
                ("X-Etcd-Cluster-Id", format!("{cluster:x}")),
                ("X-Raft-From", format!("{stranger:x}")),
            ],
            hostile(stranger),
        ),
        (
            "sender posing as this member",
            vec![
                ("X-Etcd-Cluster-Id", format!("{cluster:x}")),
                ("X-Raft-From", format!("{me:x}")),
            ],
            hostile(me),
        ),
    ];
    let stream = format!("{}/raft/stream", s.peer_url());
    for ((what, headers, body), url) in cases
        .iter()
        .flat_map(|case| [(case, &url), (case, &stream)])
    {
        let (status, text) = post(url, headers, body);
        assert!(
            (400..500).contains(&status),
            "{what} on {url}: answered {status} {text}"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(&text)
                .is_ok_and(|v| v["message"].as_str().is_some_and(|m| !m.is_empty())),
            "{what}: no JSON reason: {text}"
        );
    }
    // The same for snapshots: refused before anything is stored.
    let (status, text) = post(
        &format!("{}/raft/snapshot", s.peer_url()),
        &[("X-Etcd-Cluster-Id", format!("{cluster:x}"))],
        &hostile(stranger),
    );
    assert!((400..500).contains(&status), "snapshot: {status} {text}");
    // Give a raft thread that took the bait time to die, then check it did not.
    std::thread::sleep(Duration::from_millis(500));
    assert_serving(&s, "/after-strangers");
}

#[test]
fn members_cannot_forge_each_other_or_misaddress() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let target = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    let (me, cluster, term) = ids(&c.members[target]);
    let other_id = u64::from_str_radix(&c.id_of(other), 16).expect("hex id");
    let url = format!("{}/raft", c.members[target].peer_url());
    let headers = vec![
        ("X-Etcd-Cluster-Id", format!("{cluster:x}")),
        ("X-Raft-From", format!("{other_id:x}")),
    ];
    let stream = format!("{}/raft/stream", c.members[target].peer_url());
    for url in [&url, &stream] {
        // The header names a member, the message another sender: refused.
        let forged = framed_message(MSG_HEARTBEAT, me, 0x5eed, term + 1, 1 << 40);
        let (status, text) = post(url, &headers, &forged);
        assert_eq!(status, 400, "forged sender on {url}: {text}");
        // Addressed to another member: refused.
        let misaddressed = framed_message(MSG_HEARTBEAT, 0x5eed, other_id, term + 1, 1 << 40);
        let (status, text) = post(url, &headers, &misaddressed);
        assert_eq!(status, 400, "misaddressed on {url}: {text}");
    }
    // A stream of garbage (a frame that does not decode) is refused too; a keep-alive is not
    // a message.
    let mut garbage = vec![0, 0, 0, 0];
    garbage.extend([0, 0, 0, 2, 0xff, 0xff]);
    let (status, text) = post(&stream, &headers, &garbage);
    assert_eq!(status, 400, "garbage on the stream: {text}");
    std::thread::sleep(Duration::from_millis(500));
    c.put_acked(leader, "/after-forgeries", "v");
    c.wait_converged();
    assert_serving(&c.members[target], "/on-the-target");
}

/// Without peer TLS a stranger can copy a member's id and the cluster id: such a heartbeat
/// committing far beyond the log used to panic raft-rs. It is dropped, and the member serves on.
#[test]
fn a_heartbeat_posing_as_a_member_cannot_commit_beyond_the_log() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let target = (leader + 1) % 3;
    let (me, cluster, term) = ids(&c.members[target]);
    let leader_id = u64::from_str_radix(&c.id_of(leader), 16).expect("hex id");
    let url = format!("{}/raft", c.members[target].peer_url());
    let headers = vec![
        ("X-Etcd-Cluster-Id", format!("{cluster:x}")),
        ("X-Raft-From", format!("{leader_id:x}")),
    ];
    let hostile = framed_message(MSG_HEARTBEAT, me, leader_id, term, 1 << 40);
    let (status, text) = post(&url, &headers, &hostile);
    assert!(status < 300, "it passes the sender checks: {status} {text}");
    std::thread::sleep(Duration::from_millis(500));
    c.put_acked(leader, "/after-the-heartbeat", "v");
    c.wait_converged();
    assert_serving(&c.members[target], "/on-the-target");
    assert!(
        c.members[target].log().contains("dropping a heartbeat"),
        "{}",
        c.members[target].log()
    );
}

/// Members send each other raft messages on one long-lived stream per peer, and the leader
/// still knows each follower's latency (probed) and message counts.
#[test]
fn members_stream_messages_and_the_leader_times_its_followers() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    for i in 0..20 {
        c.put_acked(leader, &format!("/streamed/k{i}"), "v");
    }
    c.wait_converged();
    let ids: Vec<u64> = (0..3)
        .map(|i| u64::from_str_radix(&c.id_of(i), 16).expect("hex id"))
        .collect();
    for (i, m) in c.members.iter().enumerate() {
        let log = m.log();
        for (j, id) in ids.iter().enumerate() {
            // Followers talk to the leader and the leader to each; followers need not talk
            // to each other.
            if i == j || (i != leader && j != leader) {
                continue;
            }
            assert!(
                log.lines()
                    .any(|l| l.contains("peer opened a message stream")
                        && l.contains(&format!("from={id:x}"))),
                "member {i} has no stream from member {j}:\n{log}"
            );
        }
    }
    // Probes run every second.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let stats = get(&c.members[leader].url("/v2/stats/leader"))
            .unwrap()
            .json();
        let timed = (0..3).filter(|j| *j != leader).all(|j| {
            let f = &stats["followers"][c.id_of(j)];
            f["latency"]["current"].as_f64().is_some_and(|ms| ms > 0.0)
                && f["counts"]["success"].as_u64().is_some_and(|n| n >= 20)
        });
        if timed {
            break;
        }
        assert!(Instant::now() < deadline, "followers never timed: {stats}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
