//! `--ttl 0` means "never expire", as in the Go etcdctl, for every command that takes `--ttl`
//! and for `import` of a node whose `ttl` is 0: etcd itself takes `ttl=0` as "expire now", so
//! sending it deleted the key a moment later.

use std::time::Duration;

use etcd_integration::ctl::Ctl;
use etcd_integration::{get, EtcdProcess};

/// The node at `key`, which must exist and have no TTL.
fn assert_lasting(server: &EtcdProcess, key: &str) {
    let r = get(&server.keys(key)).expect("GET");
    assert_eq!(r.status, 200, "{key} is gone: {r:?}");
    let node = &r.json()["node"];
    assert!(
        node.get("ttl").is_none() && node.get("expiration").is_none(),
        "{key} has a TTL: {node}"
    );
}

#[test]
fn ttl_zero_never_expires() {
    let server = EtcdProcess::start();
    for args in [
        &["set", "--ttl", "0", "/set", "v"][..],
        &["mk", "--ttl", "0", "/mk", "v"],
        &["mk", "--in-order", "--ttl", "0", "/queue", "job"],
        &["mkdir", "--ttl", "0", "/mkdir"],
        &["setdir", "--ttl", "0", "/setdir"],
        // Keys that had a TTL lose it, as with the Go etcdctl.
        &["set", "--ttl", "100", "/update", "v"],
        &["update", "--ttl", "0", "/update", "w"],
        &["mkdir", "--ttl", "100", "/updatedir"],
        &["updatedir", "--ttl", "0", "/updatedir"],
    ] {
        Ctl::on(&server).args(args).success();
    }

    let dump = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        dump.path(),
        r#"{"format":"etcdctl-export/1","root":"/","nodes":[
            {"key":"/imported","value":"v","ttl":0},
            {"key":"/imported-dir","dir":true,"ttl":0}]}"#,
    )
    .unwrap();
    Ctl::on(&server)
        .args(["import", dump.path().to_str().unwrap()])
        .success();

    // A key sent with ttl=0 is expired by the next tick of the leader; give it several.
    std::thread::sleep(Duration::from_millis(2500));
    for key in [
        "/set",
        "/mk",
        "/mkdir",
        "/setdir",
        "/update",
        "/updatedir",
        "/imported",
        "/imported-dir",
    ] {
        assert_lasting(&server, key);
    }
    let queue = get(&server.keys("/queue")).expect("GET").json();
    let job = &queue["node"]["nodes"][0];
    assert_eq!(job["value"], "job", "{queue}");
    assert!(job.get("ttl").is_none(), "{queue}");
}
