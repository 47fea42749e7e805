//! Clusters of real `etcd` processes on loopback: the seed's clustering walkthrough, joins that
//! need a snapshot, partitions through a fault-injecting proxy, leader crashes under load,
//! member removal and re-add, and clusters of every size.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use etcd_integration::cluster::Cluster;
use etcd_integration::ctl::{stdout, Ctl};
use etcd_integration::{ca_fixture, free_port, get, request, wait_until, EtcdProcess, Options};
use serde_json::{json, Value};

fn value_on(p: &EtcdProcess, key: &str) -> Option<String> {
    get(&p.keys(key))
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| r.json()["node"]["value"].as_str().map(str::to_string))
}

/// The seed README's "Clustering" section, command for command.
#[test]
fn seed_clustering_walkthrough() {
    let dir = tempfile::tempdir().unwrap();
    let mut machines: Vec<EtcdProcess> = Vec::new();
    for i in 0..3 {
        let mut extra = Vec::new();
        if let Some(first) = machines.first() {
            extra = vec!["-peers".into(), format!("127.0.0.1:{}", first.peer_port)];
        }
        let mut m = EtcdProcess::start_unready(Options {
            name: format!("machine{}", i + 1),
            extra,
            data_dir: Some(dir.path().join(format!("machines/machine{}", i + 1))),
            ..Options::default()
        });
        m.wait_ready();
        machines.push(m);
    }
    let ports: Vec<(u16, u16)> = machines
        .iter()
        .map(|m| (m.client_port, m.peer_port))
        .collect();
    let client = |i: usize| format!("http://127.0.0.1:{}", ports[i].0);
    let peer = |i: usize| format!("http://127.0.0.1:{}", ports[i].1);

    let list = get(&machines[0].url("/v2/machines")).unwrap().body;
    assert_eq!(list, format!("{}, {}, {}", client(0), client(1), client(2)));

    let reg = get(&machines[0].keys("/_etcd/machines")).unwrap().json();
    let expected_nodes: Vec<Value> = (0..3)
        .map(|i| {
            json!({
                "createdIndex": i + 1,
                "key": format!("/_etcd/machines/machine{}", i + 1),
                "modifiedIndex": i + 1,
                "value": format!("raft={}&etcd={}", peer(i), client(i)),
            })
        })
        .collect();
    assert_eq!(
        reg,
        json!({"action": "get", "node": {"createdIndex": 1, "dir": true,
            "key": "/_etcd/machines", "modifiedIndex": 1, "nodes": expected_nodes}})
    );
    assert_eq!(get(&machines[0].url("/v2/leader")).unwrap().body, peer(0));

    let set = request("PUT", &machines[0].keys("/foo"), Some("value=bar")).unwrap();
    assert_eq!(
        set.json(),
        json!({"action": "set", "node": {"createdIndex": 4, "key": "/foo",
            "modifiedIndex": 4, "value": "bar"}})
    );

    // Killing the leader: the others still answer, and elect one of themselves.
    machines[0].kill9();
    assert_eq!(value_on(&machines[1], "/foo").as_deref(), Some("bar"));
    wait_until("a new leader after the first one died", || {
        let l = get(&machines[1].url("/v2/leader"))
            .map(|r| r.body)
            .unwrap_or_default();
        l == peer(1) || l == peer(2)
    });

    // Persistence: stop everything, start the same commands again.
    for m in machines.iter_mut() {
        m.stop();
    }
    for m in machines.iter_mut() {
        m.restart_unready();
    }
    for m in machines.iter_mut() {
        m.wait_ready();
    }
    let got = get(&machines[1].keys("/foo")).unwrap().json();
    assert_eq!(
        got,
        json!({"action": "get", "node": {"createdIndex": 4, "key": "/foo",
            "modifiedIndex": 4, "value": "bar"}})
    );
}

/// A fourth machine joins after the others compacted their logs: it can only catch up from a
/// snapshot, streamed to it, and then holds everything.
#[test]
fn a_late_member_catches_up_from_a_snapshot() {
    let mut c = Cluster::start(3, &["-snapshot-count", "50"]);
    for n in 0..300 {
        c.put(n % 3, &format!("/bulk/{n}"), &format!("v{n}"))
            .unwrap();
    }
    let leader = c.wait_for_leader(None);
    let snap_dir = c.members[leader].data_dir.join("snap");
    assert!(
        std::fs::read_dir(&snap_dir).unwrap().count() > 1,
        "the leader saved a snapshot"
    );
    let late = c.add_member();
    wait_until("the late member has the last key", || {
        value_on(&c.members[late], "/bulk/299").as_deref() == Some("v299")
    });
    assert!(
        c.members[late].log().contains("installed snapshot"),
        "the late member installed a snapshot; log:\n{}",
        c.members[late].log()
    );
    assert_eq!(value_on(&c.members[late], "/bulk/0").as_deref(), Some("v0"));
    // It votes now: with one of the original three down, writes still commit.
    c.wait_converged();
    let victim = (0..3).find(|i| *i != leader).unwrap();
    c.members[victim].kill9();
    c.put(leader, "/after", "x").unwrap();
    assert_eq!(c.put(late, "/after2", "y").unwrap().status, 201);
}

/// A member cut off from the others cannot write; the majority goes on; once healed the cut
/// member catches up.
#[test]
fn a_partitioned_minority_cannot_write_and_catches_up() {
    let c = Cluster::start_with_proxies(3, &[]);
    let faults = c.faults.clone().unwrap();
    let leader = c.wait_for_leader(None);
    c.put(leader, "/before", "1").unwrap();
    c.wait_converged();

    // Cut the leader off: it must not acknowledge anything from now on, nor answer a
    // linearizable read from its possibly stale state.
    faults.isolate(&c.id_of(leader));
    let minority = c.put(leader, "/minority", "lost").unwrap();
    assert_ne!(minority.status / 100, 2, "{}", minority.body);
    assert_eq!(minority.json()["errorCode"].as_u64().unwrap() / 100, 3);
    let stale = get(&format!(
        "{}?quorum=true",
        c.members[leader].keys("/before")
    ))
    .unwrap();
    assert_eq!(
        stale.json()["errorCode"].as_u64().unwrap() / 100,
        3,
        "{}",
        stale.body
    );

    let others: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    wait_until("the majority elects a new leader and writes", || {
        c.put(others[0], "/majority", "2")
            .map(|r| r.is_written())
            .unwrap_or(false)
    });
    wait_until("the other majority member applies the write", || {
        value_on(&c.members[others[1]], "/majority").as_deref() == Some("2")
    });
    assert_eq!(value_on(&c.members[leader], "/majority"), None);

    faults.heal();
    wait_until("the healed member catches up", || {
        value_on(&c.members[leader], "/majority").as_deref() == Some("2")
    });
    c.wait_converged();
    for m in &c.members {
        assert_eq!(
            value_on(m, "/minority"),
            None,
            "an unacknowledged write appeared"
        );
    }
}

/// The leader is killed again and again while clients write through every member: each
/// acknowledged write is on every member afterwards, at the same index everywhere.
#[test]
fn acknowledged_writes_survive_repeated_leader_crashes() {
    const WRITERS: usize = 4;
    const KILLS: usize = 3;
    let c = Arc::new(Mutex::new(Cluster::start(3, &[])));
    let urls: Vec<String> = {
        let c = c.lock().unwrap();
        c.members.iter().map(|m| m.keys("/load")).collect()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<BTreeMap<String, (String, u64)>>> = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (urls, stop, acked) = (urls.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                // Bounded: at most 2000 writes per writer, and the main thread stops them.
                for n in 0..2000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("/{w}-{n}");
                    let value = format!("{w}.{n}");
                    let url = format!("{}{key}", urls[n % urls.len()]);
                    if let Ok(r) = request("PUT", &url, Some(&format!("value={value}"))) {
                        if r.is_written() {
                            let index = r.json()["node"]["modifiedIndex"].as_u64().unwrap();
                            acked
                                .lock()
                                .unwrap()
                                .insert(format!("/load{key}"), (value, index));
                        }
                    }
                }
            })
        })
        .collect();
    for _ in 0..KILLS {
        std::thread::sleep(Duration::from_millis(700));
        let leader = c.lock().unwrap().wait_for_leader(None);
        c.lock().unwrap().members[leader].kill9();
        c.lock().unwrap().wait_for_leader(Some(leader));
        let mut guard = c.lock().unwrap();
        guard.members[leader].restart_unready();
        guard.members[leader].wait_ready();
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let c = c.lock().unwrap();
    c.wait_converged();
    let acked = acked.lock().unwrap();
    assert!(
        acked.len() > 50,
        "too few writes got through: {}",
        acked.len()
    );
    for m in &c.members {
        let listing = get(&format!("{}?recursive=true", m.keys("/load")))
            .unwrap()
            .json();
        let held: BTreeMap<String, (String, u64)> = listing["node"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["key"].as_str().unwrap().to_string(),
                    (
                        n["value"].as_str().unwrap().to_string(),
                        n["modifiedIndex"].as_u64().unwrap(),
                    ),
                )
            })
            .collect();
        for (key, want) in acked.iter() {
            assert_eq!(
                held.get(key),
                Some(want),
                "{} lost or changed {key}",
                m.name
            );
        }
    }
}

/// A member removed through the members API stops and leaves the registry; the cluster goes
/// on; the same machine started afresh with -f and -peers joins again under a new id.
#[test]
fn members_are_removed_and_added_again() {
    let mut c = Cluster::start(3, &[]);
    let old_id = c.id_of(2);
    let del = request(
        "DELETE",
        &c.members[0].url(&format!("/v2/members/{old_id}")),
        None,
    )
    .unwrap();
    assert_eq!(del.status, 204, "{}", del.body);
    wait_until("the removed member exits", || c.members[2].has_exited());
    let members = get(&c.members[0].url("/v2/members")).unwrap().json();
    assert_eq!(members["members"].as_array().unwrap().len(), 2);
    assert!(
        get(&c.members[0].keys("/_etcd/machines/machine3"))
            .unwrap()
            .status
            == 404
    );
    c.put(0, "/while-away", "1").unwrap();

    // Its data dir now refuses to serve.
    c.members[2].restart_unready();
    wait_until("a removed member refuses to start again", || {
        c.members[2].has_exited()
    });
    assert!(c.members[2].log().contains("removed"));

    // Afresh: -f discards the old state, and the -peers it was started with joins again.
    let mut args = c.members[2].args().to_vec();
    assert!(args.iter().any(|a| a == "-peers"));
    args.push("-f".into());
    c.members[2].restart_with_args(args);
    let new_id = c.id_of(2);
    assert_ne!(new_id, old_id, "a removed id is never reused");
    wait_until("the re-added member catches up", || {
        value_on(&c.members[2], "/while-away").as_deref() == Some("1")
    });
    let members = get(&c.members[0].url("/v2/members")).unwrap().json();
    assert_eq!(members["members"].as_array().unwrap().len(), 3);
    // Removing an unknown member is a 404, as in etcd.
    let none = request(
        "DELETE",
        &c.members[0].url("/v2/members/00000000000000ff"),
        None,
    )
    .unwrap();
    assert_eq!(none.status, 404);
}

/// Two and five members work; five survive two crashes; two need both.
#[test]
fn even_and_larger_clusters_work() {
    let five = Cluster::start(5, &[]);
    let mut five = five;
    let leader = five.wait_for_leader(None);
    let down: Vec<usize> = (0..5).filter(|i| *i != leader).take(2).collect();
    for i in &down {
        five.members[*i].kill9();
    }
    let up = (0..5).find(|i| !down.contains(i) && *i != leader).unwrap();
    assert_eq!(five.put(up, "/five", "ok").unwrap().status, 201);

    let mut two = Cluster::start(2, &[]);
    assert_eq!(two.put(1, "/two", "ok").unwrap().status, 201);
    assert_eq!(value_on(&two.members[0], "/two").as_deref(), Some("ok"));
    two.members[0].kill9();
    // One of two is a minority: the write fails with a 300-series error, never succeeds.
    let r = two.put(1, "/two", "no").unwrap();
    assert_eq!(
        r.json()["errorCode"].as_u64().unwrap() / 100,
        3,
        "{}",
        r.body
    );
}

/// Peer links over mutual TLS: the cluster works and advertises https; a machine whose
/// certificate another CA signed cannot join.
#[test]
fn members_talk_over_mutual_tls_and_refuse_a_foreign_certificate() {
    let (cert, key, ca) = (
        ca_fixture("server.crt"),
        ca_fixture("server.key.insecure"),
        ca_fixture("ca.crt"),
    );
    let tls = [
        "-peer-cert-file",
        cert.as_str(),
        "-peer-key-file",
        key.as_str(),
        "-peer-ca-file",
        ca.as_str(),
    ];
    let c = Cluster::start(3, &tls);
    let leader = c.wait_for_leader(None);
    let follower = (0..3).find(|i| *i != leader).unwrap();
    assert_eq!(c.put(follower, "/secure", "yes").unwrap().status, 201);
    wait_until("every member has the write", || {
        c.members
            .iter()
            .all(|m| value_on(m, "/secure").as_deref() == Some("yes"))
    });
    let reg = value_on(&c.members[0], "/_etcd/machines/machine2").unwrap();
    assert!(reg.starts_with("raft=https://127.0.0.1:"), "{reg}");
    assert!(get(&c.members[0].url("/v2/leader"))
        .unwrap()
        .body
        .starts_with("https://"));

    let (foreign, foreign_key) = (
        ca_fixture("foreign.crt"),
        ca_fixture("foreign.key.insecure"),
    );
    let mut intruder = EtcdProcess::start_unready(Options {
        name: "intruder".into(),
        extra: vec![
            "-peer-cert-file".into(),
            foreign,
            "-peer-key-file".into(),
            foreign_key,
            "-peer-ca-file".into(),
            ca.clone(),
            "-peers".into(),
            format!("127.0.0.1:{}", c.members[0].peer_port),
        ],
        ..Options::default()
    });
    wait_until("the intruder gives up", || intruder.has_exited());
    assert!(
        intruder.log().contains("TLS handshake failed"),
        "{}",
        intruder.log()
    );
    let members = get(&c.members[0].url("/v2/members")).unwrap().json();
    assert_eq!(members["members"].as_array().unwrap().len(), 3);
}

/// Followers serve everything: a write through one, a linearizable read through another, and
/// a watch on a third that hears a write made through the leader.
#[test]
fn followers_serve_writes_quorum_reads_and_watches() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let f: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    // From the next index on, so the watch cannot miss the write however late it registers.
    let next = get(&c.members[f[1]].keys("/")).unwrap().etcd_index() + 1;
    let watch_url = format!(
        "{}?wait=true&waitIndex={next}",
        c.members[f[1]].keys("/watched")
    );
    let watcher = std::thread::spawn(move || get(&watch_url).unwrap().json());
    let w = c.put(f[0], "/k", "through-a-follower").unwrap();
    assert_eq!(w.status, 201, "{}", w.body);
    let read = get(&format!("{}?quorum=true", c.members[f[1]].keys("/k"))).unwrap();
    assert_eq!(read.json()["node"]["value"], "through-a-follower");
    c.put(leader, "/watched", "seen").unwrap();
    let event = watcher.join().unwrap();
    assert_eq!(event["action"], "set");
    assert_eq!(event["node"]["value"], "seen");
}

/// Our `etcdctl member add` announces a member; the machine started under that peer URL
/// becomes it (named, voting); `etcdctl member remove` takes it out and it stops.
#[test]
fn etcdctl_adds_a_member_that_then_starts_and_removes_it() {
    let c = Cluster::start(1, &[]);
    let ctl = |args: &[&str]| stdout(&Ctl::on(&c.members[0]).args(args).success());
    // Named before the member starts (`member add` takes its URL), so picked here.
    let peer_port = free_port();
    let peer = format!("http://127.0.0.1:{peer_port}");
    let added = ctl(&["member", "add", "machine2", &peer]);
    assert!(added.contains("Added member named machine2"), "{added}");
    assert!(ctl(&["member", "list"]).contains("[unstarted]"));

    let mut second = EtcdProcess::start_with(Options {
        name: "machine2".into(),
        extra: vec![
            "-peers".into(),
            format!("127.0.0.1:{}", c.members[0].peer_port),
        ],
        ports: Some((0, peer_port)),
        ..Options::default()
    });
    let list = ctl(&["member", "list"]);
    assert!(!list.contains("unstarted"), "{list}");
    let line = list
        .lines()
        .find(|l| l.contains("name=machine2"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains(&peer), "{line}");
    assert!(value_on(&second, "/_etcd/machines/machine2").is_some());

    let id = line.split(':').next().unwrap().to_string();
    assert!(ctl(&["member", "remove", &id]).contains("Removed member"));
    wait_until("the removed machine stops", || second.has_exited());
    assert_eq!(ctl(&["member", "list"]).lines().count(), 1);
}
