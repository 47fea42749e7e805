//! v2 auth (`/v2/auth`, HTTP Basic credentials, key permissions) against ours and etcd 3.4
//! side by side, and what the reference cannot show: users and roles surviving restart and
//! snapshot, enforced by every member of a cluster, and listings that hide what the caller may
//! not read.

use etcd_integration::auth::{self, normalise};
use etcd_integration::cluster::Cluster;
use etcd_integration::{EtcdProcess, Options, Reply};

/// `method url` with optional `user:password` credentials and body (see [`auth::call_with`]).
fn call(method: &str, url: &str, creds: Option<&str>, body: Option<&str>) -> Reply {
    auth::call_with(&auth::plain_agent(), method, url, creds, body)
}

/// The script: every `/v2/auth` operation, its refusals, and key access as root, a user with a
/// role, a wrong password, and a guest with and without the default guest role.
const SCRIPT: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    ("GET", "/v2/auth/enable", None, None),
    ("PUT", "/v2/auth/enable", None, None),
    (
        "PUT",
        "/v2/auth/users/root",
        None,
        Some(r#"{"user":"root","password":"rootpw"}"#),
    ),
    ("GET", "/v2/auth/users/root", None, None),
    (
        "PUT",
        "/v2/auth/users/root",
        None,
        Some(r#"{"user":"root","password":"rootpw"}"#),
    ),
    ("PUT", "/v2/auth/roles/app", None, Some(r#"{"role":"app"}"#)),
    ("GET", "/v2/auth/roles/app", None, None),
    (
        "PUT",
        "/v2/auth/roles/app",
        None,
        Some(r#"{"role":"app","grant":{"kv":{"read":["/app/*"],"write":["/app/conf"]}}}"#),
    ),
    (
        "PUT",
        "/v2/auth/roles/app",
        None,
        Some(r#"{"role":"app","grant":{"kv":{"read":["/app/*"]}}}"#),
    ),
    (
        "PUT",
        "/v2/auth/roles/app",
        None,
        Some(r#"{"role":"app","revoke":{"kv":{"read":["/nope"]}}}"#),
    ),
    (
        "PUT",
        "/v2/auth/roles/app",
        None,
        Some(
            r#"{"role":"app","permissions":{"kv":{"read":["/x"]}},"grant":{"kv":{"read":["/y"]}}}"#,
        ),
    ),
    (
        "PUT",
        "/v2/auth/users/alice",
        None,
        Some(r#"{"user":"alice","password":"apw","roles":["app"]}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/bob",
        None,
        Some(r#"{"user":"bob","password":"bpw"}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/bob",
        None,
        Some(r#"{"user":"bob","grant":["app"]}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/bob",
        None,
        Some(r#"{"user":"bob","grant":["app"]}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/bob",
        None,
        Some(r#"{"user":"bob","revoke":["ops"]}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/bob",
        None,
        Some(r#"{"user":"bob","roles":["x"],"grant":["y"]}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/carol",
        None,
        Some(r#"{"user":"carol"}"#),
    ),
    ("GET", "/v2/auth/users", None, None),
    ("GET", "/v2/auth/roles", None, None),
    ("PUT", "/v2/keys/app/conf", None, Some("value=1")),
    ("PUT", "/v2/keys/app/other", None, Some("value=o")),
    ("PUT", "/v2/keys/secret", None, Some("value=s")),
    ("PUT", "/v2/auth/enable", None, None),
    ("PUT", "/v2/auth/enable", Some("root:rootpw"), None),
    ("GET", "/v2/auth/enable", None, None),
    ("GET", "/v2/keys/app/conf", None, None),
    (
        "PUT",
        "/v2/auth/roles/guest",
        Some("root:rootpw"),
        Some(r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#),
    ),
    ("GET", "/v2/auth/roles/guest", Some("root:rootpw"), None),
    ("GET", "/v2/keys/app/conf", None, None),
    ("GET", "/v2/keys/app/conf", Some("alice:apw"), None),
    ("GET", "/v2/keys/app/conf", Some("alice:wrong"), None),
    ("GET", "/v2/keys/app/conf", Some("nobody:pw"), None),
    (
        "PUT",
        "/v2/keys/app/conf",
        Some("alice:apw"),
        Some("value=2"),
    ),
    (
        "PUT",
        "/v2/keys/app/other",
        Some("alice:apw"),
        Some("value=2"),
    ),
    ("GET", "/v2/keys/secret", Some("alice:apw"), None),
    (
        "GET",
        "/v2/keys/app/?recursive=true",
        Some("alice:apw"),
        None,
    ),
    (
        "GET",
        "/v2/keys/app?recursive=true",
        Some("alice:apw"),
        None,
    ),
    (
        "GET",
        "/v2/keys/app/conf?wait=true&waitIndex=1",
        Some("alice:apw"),
        None,
    ),
    (
        "GET",
        "/v2/keys/secret?wait=true&waitIndex=1",
        Some("alice:apw"),
        None,
    ),
    ("GET", "/v2/keys/secret", Some("root:rootpw"), None),
    ("GET", "/v2/auth/users", Some("alice:apw"), None),
    ("GET", "/v2/members", None, None),
    ("DELETE", "/v2/auth/users/root", Some("root:rootpw"), None),
    (
        "PUT",
        "/v2/auth/roles/root",
        Some("root:rootpw"),
        Some(r#"{"role":"root"}"#),
    ),
    ("DELETE", "/v2/auth/roles/nope", Some("root:rootpw"), None),
    ("GET", "/v2/auth/users/nope", Some("root:rootpw"), None),
    ("GET", "/v2/auth/roles/nope", Some("root:rootpw"), None),
    (
        "PUT",
        "/v2/auth/users/x",
        Some("root:rootpw"),
        Some("notjson"),
    ),
    (
        "PUT",
        "/v2/auth/users/x",
        Some("root:rootpw"),
        Some(r#"{"user":"y"}"#),
    ),
    (
        "PUT",
        "/v2/auth/roles/x",
        Some("root:rootpw"),
        Some(r#"{"role":"y"}"#),
    ),
    ("POST", "/v2/auth/users/x", Some("root:rootpw"), None),
    ("GET", "/v2/auth/users/a/b", Some("root:rootpw"), None),
    (
        "PUT",
        "/v2/auth/users/alice",
        Some("root:rootpw"),
        Some(r#"{"user":"alice","password":"apw2"}"#),
    ),
    ("GET", "/v2/keys/app/conf", Some("alice:apw"), None),
    ("GET", "/v2/keys/app/conf", Some("alice:apw2"), None),
    ("DELETE", "/v2/auth/users/bob", Some("root:rootpw"), None),
    ("DELETE", "/v2/auth/roles/app", Some("root:rootpw"), None),
    ("GET", "/v2/auth/users/alice", Some("root:rootpw"), None),
    ("DELETE", "/v2/auth/enable", Some("alice:apw2"), None),
    ("DELETE", "/v2/auth/enable", Some("root:rootpw"), None),
    ("DELETE", "/v2/auth/enable", Some("root:rootpw"), None),
    ("GET", "/v2/keys/secret", None, None),
];

fn run(server: &EtcdProcess) -> Vec<String> {
    SCRIPT
        .iter()
        .map(|(method, path, creds, body)| {
            let r = call(method, &server.url(path), *creds, *body);
            format!("{method} {path} {creds:?}: {}", normalise(&r))
        })
        .collect()
}

#[test]
fn the_auth_script_answers_as_etcd_3_4_does() {
    let Some(reference) = EtcdProcess::start_reference() else {
        return;
    };
    let ours = EtcdProcess::start();
    let (a, b) = (run(&ours), run(&reference));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "ours, then etcd 3.4");
    }
    assert_eq!(a.len(), b.len());
}

/// Sets up root, a role reading `/app/*` and a user with it, and turns auth on.
fn secure(url: impl Fn(&str) -> String) {
    let put = |path: &str, creds: Option<&str>, body: &str| {
        let r = call("PUT", &url(path), creds, Some(body));
        assert!(r.status < 300, "{path}: {r:?}");
    };
    put(
        "/v2/auth/users/root",
        None,
        r#"{"user":"root","password":"rootpw"}"#,
    );
    put(
        "/v2/auth/roles/app",
        None,
        r#"{"role":"app","permissions":{"kv":{"read":["/app/*"],"write":["/app/*"]}}}"#,
    );
    put(
        "/v2/auth/users/alice",
        None,
        r#"{"user":"alice","password":"apw","roles":["app"]}"#,
    );
    put("/v2/keys/app/conf", None, "value=1");
    put("/v2/keys/secret", None, "value=s");
    put("/v2/auth/enable", None, "");
    put(
        "/v2/auth/roles/guest",
        Some("root:rootpw"),
        r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
    );
}

fn assert_enforced(server: &EtcdProcess) {
    let r = call("GET", &server.keys("/app/conf"), Some("alice:apw"), None);
    assert_eq!(r.status, 200, "{r:?}");
    let r = call("GET", &server.keys("/secret"), Some("alice:apw"), None);
    assert_eq!(r.status, 401, "{r:?}");
    let r = call("GET", &server.keys("/app/conf"), None, None);
    assert_eq!(r.status, 401, "guest: {r:?}");
    let r = call("GET", &server.url("/v2/auth/enable"), None, None);
    assert_eq!(r.body.trim(), r#"{"enabled":true}"#);
}

#[test]
fn users_and_roles_survive_restart_and_snapshots() {
    let mut s = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "5".into()],
        ..Options::default()
    });
    secure(|p| s.url(p));
    // Enough writes for snapshots that carry the users and roles, and a compacted log.
    for i in 0..20 {
        let r = call(
            "PUT",
            &s.keys(&format!("/app/k{i}")),
            Some("root:rootpw"),
            Some("value=v"),
        );
        assert!(r.status < 300, "{r:?}");
    }
    assert_enforced(&s);
    s.restart();
    assert_enforced(&s);
}

#[test]
fn every_member_enforces_and_a_joining_member_learns_the_users() {
    let mut c = Cluster::start(2, &["-snapshot-count", "5"]);
    let first = c.members[0].url("");
    secure(|p| format!("{first}{p}"));
    for i in 0..20 {
        let r = call(
            "PUT",
            &c.members[0].keys(&format!("/app/k{i}")),
            Some("root:rootpw"),
            Some("value=v"),
        );
        assert!(r.status < 300, "{r:?}");
    }
    // The third member joins after snapshots: it gets the users and roles in one.
    let third = c.add_member();
    c.wait_converged();
    for m in &c.members {
        assert_enforced(m);
    }
    // A write on a follower by a user without the permission is refused there.
    let r = call(
        "PUT",
        &c.members[third].keys("/secret"),
        Some("alice:apw"),
        Some("value=x"),
    );
    assert_eq!(r.status, 401, "{r:?}");
    // Members may be listed by anyone, changed only by root.
    let r = call("GET", &c.members[third].url("/v2/members"), None, None);
    assert_eq!(r.status, 200, "{r:?}");
    let r = call(
        "POST",
        &c.members[third].url("/v2/members"),
        Some("alice:apw"),
        Some(r#"{"peerURLs":["http://127.0.0.1:1"]}"#),
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (401, r#"{"message":"Insufficient credentials"}"#)
    );
}

#[test]
fn a_listing_never_shows_what_the_caller_may_not_read() {
    let s = EtcdProcess::start();
    let put = |path: &str, body: &str| {
        let r = call("PUT", &s.url(path), Some("root:rootpw"), Some(body));
        assert!(r.status < 300, "{path}: {r:?}");
    };
    put(
        "/v2/auth/users/root",
        r#"{"user":"root","password":"rootpw"}"#,
    );
    // Read of the directory itself and of one child, by exact key.
    put(
        "/v2/auth/roles/peek",
        r#"{"role":"peek","permissions":{"kv":{"read":["/cfg","/cfg/public"],"write":[]}}}"#,
    );
    put(
        "/v2/auth/users/eve",
        r#"{"user":"eve","password":"epw","roles":["peek"]}"#,
    );
    put("/v2/keys/cfg/public", "value=p");
    put("/v2/keys/cfg/private", "value=secret");
    put("/v2/auth/enable", "");
    let r = call("GET", &s.keys("/cfg"), Some("eve:epw"), None);
    assert_eq!(r.status, 200, "{r:?}");
    let keys: Vec<String> = r.json()["node"]["nodes"]
        .as_array()
        .expect("a listing")
        .iter()
        .map(|n| n["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, vec!["/cfg/public"], "{}", r.body);
    assert!(!r.body.contains("secret"));
    // Root sees both.
    let r = call("GET", &s.keys("/cfg"), Some("root:rootpw"), None);
    assert_eq!(r.json()["node"]["nodes"].as_array().unwrap().len(), 2);
}

/// `-force-new-cluster` replays the log into the new state: auth changes in the log (not yet in
/// a snapshot) are replayed too, so the recovered member still enforces them.
#[test]
fn a_member_recovered_with_force_new_cluster_keeps_its_users() {
    let mut s = EtcdProcess::start();
    secure(|p| s.url(p));
    assert!(s.stop(), "clean stop");
    let mut args = s.args().to_vec();
    args.push("-force-new-cluster".into());
    s.restart_with_args(args);
    assert_enforced(&s);
}
