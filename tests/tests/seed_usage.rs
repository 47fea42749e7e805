//! The "Usage" section of etcd 0.2's README, every curl example in order, verbatim but for
//! the port, against the real binary with the real curl.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etcd_integration::{curl_json, watchers, EtcdProcess};
use serde_json::{json, Value};

fn curl_background(url: &str) -> Child {
    Command::new("curl")
        .args(["-sL", url])
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl is installed")
}

fn index(v: &Value) -> u64 {
    v["node"]["modifiedIndex"].as_u64().expect("modifiedIndex")
}

#[test]
fn seed_usage_section_in_order() {
    let s = EtcdProcess::start();
    let k = |p: &str| s.keys(p);

    // Setting the value to a key: index 2, the machine registration being index 1.
    let v = curl_json(&[&k("/message"), "-X", "PUT", "-d", "value=Hello world"]);
    assert_eq!(
        v,
        json!({"action":"set","node":{"createdIndex":2,"key":"/message","modifiedIndex":2,"value":"Hello world"}})
    );
    // Get the value of a key.
    let v = curl_json(&[&k("/message")]);
    assert_eq!(
        v,
        json!({"action":"get","node":{"createdIndex":2,"key":"/message","modifiedIndex":2,"value":"Hello world"}})
    );
    // Changing the value of a key: node.prevValue (seed) and prevNode (2.x).
    let v = curl_json(&[&k("/message"), "-XPUT", "-d", "value=Hello etcd"]);
    assert_eq!(
        v["node"],
        json!({"createdIndex":3,"key":"/message","modifiedIndex":3,"prevValue":"Hello world","value":"Hello etcd"})
    );
    assert_eq!(v["prevNode"]["value"], "Hello world");
    // Deleting a key.
    let v = curl_json(&[&k("/message"), "-XDELETE"]);
    assert_eq!(v["action"], "delete");
    assert_eq!(
        v["node"],
        json!({"createdIndex":3,"key":"/message","modifiedIndex":4,"prevValue":"Hello etcd"})
    );
    // Using key TTL.
    let v = curl_json(&[&k("/foo"), "-XPUT", "-d", "value=bar", "-d", "ttl=5"]);
    assert_eq!(v["node"]["ttl"], 5);
    assert_eq!(v["node"]["createdIndex"], 5);
    assert!(v["node"]["expiration"].as_str().unwrap().ends_with('Z'));
    assert_eq!(curl_json(&[&k("/foo")])["node"]["value"], "bar");
    let deadline = Instant::now() + Duration::from_secs(30);
    let expired = loop {
        let v = curl_json(&[&k("/foo")]);
        if v["errorCode"] == 100 {
            break v;
        }
        assert!(Instant::now() < deadline, "ttl key never expired");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        expired,
        json!({"cause":"/foo","errorCode":100,"index":6,"message":"Key Not Found"})
    );
    // Waiting for a change.
    let mut watcher = curl_background(&format!("{}?wait=true", k("/foo")));
    watchers::wait_for(&s, 1);
    let set = curl_json(&[&k("/foo"), "-XPUT", "-d", "value=bar"]);
    assert_eq!(set["node"]["modifiedIndex"], 7);
    let out = watcher.stdout.take().map(|mut o| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut o, &mut s).unwrap();
        s
    });
    watcher.wait().unwrap();
    let fired: Value = serde_json::from_str(&out.unwrap()).unwrap();
    assert_eq!(
        fired,
        json!({"action":"set","node":{"createdIndex":7,"key":"/foo","modifiedIndex":7,"value":"bar"}})
    );
    // Watch for the set command of index 7 again: answered at once.
    let again = curl_json(&[&format!("{}?wait=true&waitIndex=7", k("/foo"))]);
    assert_eq!(again, fired);
    // Atomic compare-and-swap.
    let one = curl_json(&[&k("/foo"), "-XPUT", "-d", "value=one"]);
    let i = index(&one);
    let v = curl_json(&[
        &format!("{}?prevExist=false", k("/foo")),
        "-XPUT",
        "-d",
        "value=three",
    ]);
    assert_eq!(
        v,
        json!({"cause":"/foo","errorCode":105,"index":i,"message":"Already exists"})
    );
    let v = curl_json(&[
        &format!("{}?prevValue=two", k("/foo")),
        "-XPUT",
        "-d",
        "value=three",
    ]);
    assert_eq!(
        v,
        json!({"cause":format!("[two != one] [0 != {i}]"),"errorCode":101,"index":i,"message":"Test Failed"})
    );
    let v = curl_json(&[
        &format!("{}?prevValue=one", k("/foo")),
        "-XPUT",
        "-d",
        "value=two",
    ]);
    assert_eq!(v["action"], "compareAndSwap");
    assert_eq!(
        v["node"],
        json!({"createdIndex":i,"key":"/foo","modifiedIndex":i+1,"prevValue":"one","value":"two"})
    );
    // Listing a directory.
    let v = curl_json(&[&k("/foo_dir/foo"), "-XPUT", "-d", "value=bar"]);
    let d = index(&v);
    let v = curl_json(&[&k("/")]);
    assert_eq!(v["node"]["key"], "/");
    assert_eq!(v["node"]["dir"], true);
    assert_eq!(
        v["node"]["nodes"],
        json!([
            {"createdIndex":i,"key":"/foo","modifiedIndex":i+1,"value":"two"},
            {"createdIndex":d,"dir":true,"key":"/foo_dir","modifiedIndex":d}
        ])
    );
    let v = curl_json(&[&format!("{}?recursive=true", k("/"))]);
    assert_eq!(
        v["node"]["nodes"][1]["nodes"],
        json!([{"createdIndex":d,"key":"/foo_dir/foo","modifiedIndex":d,"value":"bar"}])
    );
    // Deleting a directory.
    let v = curl_json(&[&format!("{}?recursive=true", k("/foo_dir")), "-XDELETE"]);
    assert_eq!(v["action"], "delete");
    assert_eq!(
        v["node"],
        json!({"createdIndex":d,"dir":true,"key":"/foo_dir","modifiedIndex":d+1})
    );
    // Creating a hidden node.
    let v = curl_json(&[&k("/_message"), "-XPUT", "-d", "value=Hello hidden world"]);
    assert_eq!(v["node"]["key"], "/_message");
    let v = curl_json(&[&k("/message"), "-XPUT", "-d", "value=Hello world"]);
    let m = index(&v);
    let v = curl_json(&[&k("/")]);
    assert_eq!(
        v["node"]["nodes"],
        json!([
            {"createdIndex":i,"key":"/foo","modifiedIndex":i+1,"value":"two"},
            {"createdIndex":m,"key":"/message","modifiedIndex":m,"value":"Hello world"}
        ])
    );
    assert_eq!(
        curl_json(&[&k("/_message")])["node"]["value"],
        "Hello hidden world"
    );
    // Versioning.
    let v = curl_json(&[&s.url("/version")]);
    assert!(v["etcdserver"].is_string());
}
