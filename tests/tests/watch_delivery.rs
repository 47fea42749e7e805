//! Watch delivery with real processes: a stream watch from an old index replays every event
//! from the history and goes on live; a follower that installs a snapshot ends its watchers
//! with error 400; thousands of long-poll watchers of one key all get the event while writes
//! keep committing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use etcd_integration::cluster::Cluster;
use etcd_integration::{get, request, EtcdProcess};
use serde_json::Value;

/// Generous bound on any wait (a missing event fails the test instead of hanging it).
const DEADLINE: Duration = Duration::from_secs(60);

fn put(p: &EtcdProcess, key: &str, value: &str) -> u64 {
    let r = request("PUT", &p.keys(key), Some(&format!("value={value}"))).unwrap();
    assert!(r.is_written(), "PUT {key}: {}", r.body);
    r.json()["node"]["modifiedIndex"].as_u64().unwrap()
}

/// Opens a watch and returns its body as lines (the headers have arrived: it is registered).
fn open_lines(url: &str) -> std::io::Lines<BufReader<Box<dyn Read + Send + Sync>>> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout_read(DEADLINE)
        .build();
    let resp = agent.get(url).call().expect("watch request");
    assert_eq!(resp.status(), 200);
    BufReader::new(resp.into_reader()).lines()
}

fn next_json(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> Value {
    loop {
        let line = lines.next().expect("the stream ended").expect("read");
        if !line.trim().is_empty() {
            return serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        }
    }
}

/// Issue 11 item 8 (a): three changes since `waitIndex` are all replayed, in order, then the
/// live one follows, with no gap and no duplicate.
#[test]
fn stream_watch_from_history_replays_every_event_then_goes_live() {
    let p = EtcdProcess::start();
    let i1 = put(&p, "/k", "one");
    put(&p, "/other", "x");
    let i2 = put(&p, "/k", "two");
    let i3 = put(&p, "/k", "three");
    let mut lines = open_lines(&p.keys(&format!("/k?wait=true&stream=true&waitIndex={i1}")));
    for (index, value) in [(i1, "one"), (i2, "two"), (i3, "three")] {
        let ev = next_json(&mut lines);
        assert_eq!(ev["action"], "set", "{ev}");
        assert_eq!(ev["node"]["value"], value, "{ev}");
        assert_eq!(ev["node"]["modifiedIndex"].as_u64(), Some(index), "{ev}");
    }
    let i4 = put(&p, "/k", "four");
    let ev = next_json(&mut lines);
    assert_eq!(ev["node"]["value"], "four", "{ev}");
    assert_eq!(ev["node"]["modifiedIndex"].as_u64(), Some(i4), "{ev}");
    // A one-shot watch from the same index still answers the first change only.
    let once = get(&p.keys(&format!("/k?wait=true&waitIndex={i1}"))).unwrap();
    assert_eq!(once.json()["node"]["value"], "one");
}

/// The same for a recursive stream watch of a directory: hidden children (and everything
/// below a hidden name) are skipped, as etcd does.
#[test]
fn recursive_stream_watch_from_history_skips_hidden_children() {
    let p = EtcdProcess::start();
    let first = put(&p, "/d/a", "1");
    put(&p, "/d/_hidden", "h");
    let b = put(&p, "/d/b", "2");
    put(&p, "/d/_h/x", "h");
    let deep = put(&p, "/d/e/f", "3");
    put(&p, "/elsewhere", "x");
    let mut lines = open_lines(&p.keys(&format!(
        "/d?wait=true&stream=true&recursive=true&waitIndex={first}"
    )));
    for (key, index) in [("/d/a", first), ("/d/b", b), ("/d/e/f", deep)] {
        let ev = next_json(&mut lines);
        assert_eq!(ev["node"]["key"], key, "{ev}");
        assert_eq!(ev["node"]["modifiedIndex"].as_u64(), Some(index), "{ev}");
    }
    put(&p, "/d/_z", "hidden");
    let c = put(&p, "/d/c", "4");
    let ev = next_json(&mut lines);
    assert_eq!(ev["node"]["key"], "/d/c", "{ev}");
    assert_eq!(ev["node"]["modifiedIndex"].as_u64(), Some(c), "{ev}");
}

fn signal(p: &EtcdProcess, sig: i32) {
    let pid = p.pid().expect("running") as i32;
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

/// Issue 11 item 8 (b): a follower stopped while the others write far past its log (small
/// snapshot count) installs a snapshot when it resumes; its watchers end with error 400
/// instead of silently missing the events inside the snapshot.
#[test]
fn watchers_on_a_follower_that_installs_a_snapshot_get_400() {
    let c = Cluster::start(3, &["-snapshot-count", "20"]);
    let leader = c.wait_for_leader(None);
    let f = (0..3).find(|i| *i != leader).unwrap();
    let follower = &c.members[f];
    let mut stream = open_lines(&follower.keys("/w?wait=true&stream=true&recursive=true"));
    let first = put(&c.members[leader], "/w/first", "1");
    let ev = next_json(&mut stream);
    assert_eq!(
        ev["node"]["modifiedIndex"].as_u64(),
        Some(first),
        "live before: {ev}"
    );
    // A one-shot watcher of a key nobody writes, read on its own thread.
    let once_url = follower.keys("/never?wait=true");
    let mut once = open_lines(&once_url);
    let once_thread = std::thread::spawn(move || next_json(&mut once));

    signal(follower, libc::SIGSTOP);
    for n in 0..100 {
        put(&c.members[leader], &format!("/w/k{n}"), &format!("v{n}"));
    }
    // Once the leader's sends to the stopped follower time out, it probes it from its last
    // known index, which the writes below compact away: only a snapshot can catch it up.
    let fid = c.id_of(f);
    let deadline = Instant::now() + DEADLINE;
    loop {
        let stats = get(&c.members[leader].url("/v2/stats/leader"))
            .unwrap()
            .json();
        if stats["followers"][&fid]["counts"]["fail"]
            .as_u64()
            .unwrap_or(0)
            > 0
        {
            break;
        }
        assert!(Instant::now() < deadline, "sends never failed: {stats}");
        put(&c.members[leader], "/w/tick", "t");
        std::thread::sleep(Duration::from_millis(100));
    }
    for n in 100..200 {
        put(&c.members[leader], &format!("/w/k{n}"), &format!("v{n}"));
    }
    signal(follower, libc::SIGCONT);
    let deadline = Instant::now() + DEADLINE;
    while !follower
        .log()
        .contains("installed snapshot from the leader")
    {
        assert!(
            Instant::now() < deadline,
            "the follower had to install a snapshot; log:\n{}",
            follower.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Whatever the follower applied from its log before the snapshot arrives in order, then
    // the stream ends with 400.
    let mut last = first;
    let end = loop {
        let ev = next_json(&mut stream);
        if ev.get("errorCode").is_some() {
            break ev;
        }
        let index = ev["node"]["modifiedIndex"].as_u64().unwrap();
        assert!(index > last, "out of order or duplicate: {ev} after {last}");
        last = index;
    };
    assert_eq!(end["errorCode"], 400, "{end}");
    assert_eq!(end["message"], "watcher is cleared due to etcd recovery");
    assert!(
        end["index"].as_u64().unwrap() > last,
        "the error names the store's index after the snapshot: {end}"
    );
    assert!(
        stream.next().is_none(),
        "the error is the stream's last chunk"
    );
    let once = once_thread.join().expect("one-shot watcher");
    assert_eq!(once["errorCode"], 400, "{once}");
    // After the 400 a client re-reads and re-watches: the data is all there.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let r = get(&follower.keys("/w/k199")).unwrap();
        if r.status == 200 {
            assert_eq!(r.json()["node"]["value"], "v199");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "follower never caught up: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut again = open_lines(&follower.keys("/w?wait=true&stream=true&recursive=true"));
    let next = put(&c.members[leader], "/w/after", "x");
    let ev = next_json(&mut again);
    assert_eq!(ev["node"]["modifiedIndex"].as_u64(), Some(next), "{ev}");
}

/// Long-poll watchers as raw HTTP/1.1 connections (thousands of threads would be too many).
/// Within the client port's connection cap (10,000) and the file-descriptor limit.
const LONG_POLL_WATCHERS: usize = 5_000;

/// Issue 11 item 8 (c): thousands of one-shot watchers of one key all get the event, and
/// writes keep committing meanwhile.
#[test]
fn thousands_of_long_poll_watchers_of_one_key_all_get_the_event() {
    let p = EtcdProcess::start();
    put(&p, "/hot", "before");
    let request = format!(
        "GET /v2/keys/hot?wait=true HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        p.client_port
    );
    let mut conns = Vec::with_capacity(LONG_POLL_WATCHERS);
    for _ in 0..LONG_POLL_WATCHERS {
        let mut s = TcpStream::connect(("127.0.0.1", p.client_port)).expect("connect");
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        conns.push(s);
    }
    // Every watch registered (its headers arrived) before the write.
    for s in conns.iter_mut() {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(s.read(&mut byte).unwrap(), 1, "connection closed early");
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head)
        );
    }
    let stats = get(&p.url("/v2/stats/store")).unwrap().json();
    assert_eq!(stats["watchers"].as_u64(), Some(LONG_POLL_WATCHERS as u64));
    let fired = put(&p, "/hot", "now");
    // Writes keep committing while the watchers are answered.
    for n in 0..50 {
        put(&p, &format!("/busy/{n}"), "x");
    }
    let wanted = format!("\"modifiedIndex\":{fired}");
    for s in conns.iter_mut() {
        let mut body = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&body).contains("\"value\":\"now\"") {
            let n = s.read(&mut buf).expect("read the event");
            assert!(
                n > 0,
                "closed before the event: {}",
                String::from_utf8_lossy(&body)
            );
            body.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&body).contains(&wanted));
    }
    let stats = get(&p.url("/v2/stats/store")).unwrap().json();
    assert_eq!(stats["watchers"].as_u64(), Some(0), "{stats}");
}
