//! `-addr 127.0.0.1:0` and `-peer-addr 127.0.0.1:0`: the server listens on ports the OS picks,
//! advertises those (in `/v2/machines`, `/v2/leader` and the member table, also when it joins a
//! cluster), writes them to `<data-dir>/ports.json`, and a restart on the same ports keeps
//! the member's URLs.

use etcd_integration::cluster::Cluster;
use etcd_integration::{get, EtcdProcess, Options};

/// The member named `name` in `/v2/members` as `s` lists it.
fn member(s: &EtcdProcess, name: &str) -> serde_json::Value {
    let v = get(&s.url("/v2/members")).expect("GET /v2/members").json();
    v["members"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no member {name} in {v}"))
}

#[test]
fn port_zero_binds_reports_and_advertises_the_real_ports() {
    let mut s = EtcdProcess::start_with(Options {
        ports: Some((0, 0)),
        ..Options::default()
    });
    let text = std::fs::read_to_string(s.data_dir.join("ports.json")).expect("ports.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("ports.json is JSON");
    let (client, peer) = (s.client_port, s.peer_port);
    assert!(client != 0 && peer != 0 && client != peer, "{text}");
    assert_eq!(v, serde_json::json!({"client": client, "peer": peer}));
    assert!(
        s.args().iter().all(|a| !a.ends_with(":0")),
        "{:?}",
        s.args()
    );
    let machines = get(&s.url("/v2/machines")).unwrap().body;
    assert_eq!(machines.trim(), format!("http://127.0.0.1:{client}"));
    let leader = get(&s.url("/v2/leader")).unwrap().body;
    assert_eq!(leader.trim(), format!("http://127.0.0.1:{peer}"));
    let me = member(&s, "machine0");
    assert_eq!(me["peerURLs"][0], format!("http://127.0.0.1:{peer}"));
    assert_eq!(me["clientURLs"][0], format!("http://127.0.0.1:{client}"));
    assert!(s.log().contains("listening"), "{}", s.log());

    // A restart on the learnt ports: the same URLs, a fresh ports.json.
    s.restart();
    assert_eq!((s.client_port, s.peer_port), (client, peer));
    let again = std::fs::read_to_string(s.data_dir.join("ports.json")).expect("ports.json");
    assert_eq!(again, text);
    assert_eq!(member(&s, "machine0"), me);
}

#[test]
fn members_joining_on_port_zero_enter_the_member_table_with_their_real_urls() {
    let c = Cluster::start(3, &[]);
    for m in &c.members {
        assert_ne!(m.peer_port, 0);
        for other in &c.members {
            let listed = member(other, &m.name);
            assert_eq!(listed["peerURLs"][0], m.peer_url(), "{listed}");
            assert_eq!(listed["clientURLs"][0], m.client_url(), "{listed}");
        }
    }
    let machines = get(&c.members[0].url("/v2/machines")).unwrap().body;
    for m in &c.members {
        assert!(machines.contains(&m.client_url()), "{machines}");
    }
}
