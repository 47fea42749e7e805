//! Client-certificate users of v2 auth, against ours and etcd 3.4 side by side: with
//! `--client-cert-auth` (ours: the CA of `--trusted-ca-file` requires certificates anyway), a
//! request without `Authorization` is the user its certificate's CN names, or the first user
//! named along its verified chain, else the guest; Basic credentials, when sent, decide alone.
//!
//! Both servers serve HTTPS on loopback with `fixtures/ca`'s server certificate; every client
//! presents one of its client certificates (`fixtures/ca/regenerate.sh` makes them).

use etcd_integration::auth::{call_with, client_cert_agent, normalise};
use etcd_integration::{ca_fixture, EtcdProcess, Options};

/// The certificates a script step may present, by the name the steps use.
const CERTS: &[(&str, &str, &str)] = &[
    ("alice", "client-alice.crt", "client-alice.key.insecure"),
    ("root", "client-root.crt", "client-root.key.insecure"),
    ("nobody", "client-nobody.crt", "client-nobody.key.insecure"),
    // CN=nobody, signed by an intermediate CA whose CN is `alice`.
    (
        "chain",
        "client-via-intermediate-chain.pem",
        "client-via-intermediate.key.insecure",
    ),
];

fn agent(cert: &str) -> ureq::Agent {
    let (_, chain, key) = CERTS
        .iter()
        .find(|(name, _, _)| *name == cert)
        .unwrap_or_else(|| panic!("no certificate {cert}"));
    client_cert_agent(chain, key)
}

/// One step: method, path, the certificate presented, Basic credentials, body.
type Step = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// Set-up (auth off), then reads and writes by certificate, with and without credentials.
const SCRIPT: &[Step] = &[
    (
        "PUT",
        "/v2/auth/users/root",
        "nobody",
        None,
        Some(r#"{"user":"root","password":"rootpw"}"#),
    ),
    (
        "PUT",
        "/v2/auth/roles/app",
        "nobody",
        None,
        Some(r#"{"role":"app","permissions":{"kv":{"read":["/a/*"],"write":["/a/*"]}}}"#),
    ),
    (
        "PUT",
        "/v2/auth/users/alice",
        "nobody",
        None,
        Some(r#"{"user":"alice","password":"apw","roles":["app"]}"#),
    ),
    ("PUT", "/v2/keys/a/x", "nobody", None, Some("value=1")),
    ("PUT", "/v2/keys/b/x", "nobody", None, Some("value=2")),
    // Anyone may turn auth on while it is off; then only root may try again (409: already
    // on), and a certificate naming root is root.
    ("PUT", "/v2/auth/enable", "nobody", None, None),
    ("PUT", "/v2/auth/enable", "alice", None, None),
    ("PUT", "/v2/auth/enable", "root", None, None),
    // The guest keeps its default rights until root revokes them.
    ("GET", "/v2/keys/b/x", "nobody", None, None),
    (
        "PUT",
        "/v2/auth/roles/guest",
        "nobody",
        Some("root:rootpw"),
        Some(r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#),
    ),
    // CN=alice: alice's role, no password.
    ("GET", "/v2/keys/a/x", "alice", None, None),
    ("GET", "/v2/keys/b/x", "alice", None, None),
    ("PUT", "/v2/keys/a/y", "alice", None, Some("value=3")),
    ("PUT", "/v2/keys/b/y", "alice", None, Some("value=3")),
    ("GET", "/v2/keys/a?recursive=true", "alice", None, None),
    (
        "GET",
        "/v2/keys/a/x?wait=true&waitIndex=1",
        "alice",
        None,
        None,
    ),
    ("GET", "/v2/auth/users", "alice", None, None),
    // CN=root: root's rights.
    ("GET", "/v2/keys/b/x", "root", None, None),
    ("GET", "/v2/auth/users", "root", None, None),
    ("GET", "/v2/auth/roles/app", "root", None, None),
    // A CN naming no user: the guest (whose rights are gone), never root.
    ("GET", "/v2/keys/a/x", "nobody", None, None),
    ("GET", "/v2/auth/users", "nobody", None, None),
    ("GET", "/v2/auth/enable", "nobody", None, None),
    // The leaf names nobody; the intermediate it chains through is CN=alice.
    ("GET", "/v2/keys/a/x", "chain", None, None),
    ("GET", "/v2/keys/b/x", "chain", None, None),
    // Basic credentials decide when sent, whatever the certificate names.
    ("GET", "/v2/keys/b/x", "alice", Some("root:rootpw"), None),
    ("GET", "/v2/keys/b/x", "root", Some("alice:apw"), None),
    ("GET", "/v2/keys/a/x", "root", Some("alice:apw"), None),
    ("GET", "/v2/keys/a/x", "alice", Some("alice:wrong"), None),
    ("GET", "/v2/auth/users", "root", Some("nobody:pw"), None),
    // An empty Authorization header counts as none: the certificate decides.
    ("GET", "/v2/keys/a/x", "alice", Some(""), None),
    // Give the guest /a/* back: a CN naming no user reads it again.
    (
        "PUT",
        "/v2/auth/roles/guest",
        "root",
        None,
        Some(r#"{"role":"guest","grant":{"kv":{"read":["/a/*"]}}}"#),
    ),
    ("GET", "/v2/keys/a/x", "nobody", None, None),
    ("GET", "/v2/keys/b/x", "nobody", None, None),
    // Deleting the user alice: her certificate is a guest now.
    ("DELETE", "/v2/auth/users/alice", "root", None, None),
    ("PUT", "/v2/keys/a/z", "alice", None, Some("value=4")),
    ("GET", "/v2/keys/a/x", "alice", None, None),
    ("DELETE", "/v2/auth/enable", "alice", None, None),
    ("DELETE", "/v2/auth/enable", "root", None, None),
    ("GET", "/v2/keys/b/x", "nobody", None, None),
];

/// The same flags for both servers: etcd 3.4's names, which ours accepts.
fn tls_flags() -> Vec<String> {
    vec![
        "--cert-file".into(),
        ca_fixture("server.crt"),
        "--key-file".into(),
        ca_fixture("server.key.insecure"),
        "--trusted-ca-file".into(),
        ca_fixture("ca.crt"),
        "--client-cert-auth".into(),
    ]
}

fn https(server: &EtcdProcess, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", server.client_port)
}

/// Waits until `/health` answers over HTTPS to a client certificate.
fn wait_https(server: &mut EtcdProcess) {
    let probe = agent("nobody");
    server.wait_ready_by(|s| {
        probe
            .get(&https(s, "/health"))
            .call()
            .is_ok_and(|r| r.into_string().is_ok_and(|b| b.contains("true")))
    });
}

fn ours() -> EtcdProcess {
    let mut s = EtcdProcess::start_unready(Options {
        extra: tls_flags(),
        ..Options::default()
    });
    wait_https(&mut s);
    s
}

/// Each step's status and its normalised answer, named by the step.
fn run(server: &EtcdProcess) -> Vec<(u16, String)> {
    SCRIPT
        .iter()
        .map(|(method, path, cert, creds, body)| {
            let r = call_with(&agent(cert), method, &https(server, path), *creds, *body);
            let line = format!("{method} {path} cert={cert} {creds:?}: {}", normalise(&r));
            (r.status, line)
        })
        .collect()
}

/// What the script must show on ours, whatever the reference does: the certificate's user,
/// its rights and their limits, checked by status.
#[test]
fn a_certificate_is_the_user_its_common_name_names() {
    let s = ours();
    let answers = run(&s);
    let status = |method: &str, path: &str, cert: &str, creds: Option<&str>| -> u16 {
        let i = SCRIPT
            .iter()
            .position(|st| (st.0, st.1, st.2, st.3) == (method, path, cert, creds))
            .unwrap_or_else(|| panic!("no step {method} {path} {cert}"));
        answers[i].0
    };
    assert_eq!(status("PUT", "/v2/auth/enable", "alice", None), 401);
    assert_eq!(status("PUT", "/v2/auth/enable", "root", None), 409);
    assert_eq!(status("GET", "/v2/keys/a/x", "alice", None), 200);
    assert_eq!(status("GET", "/v2/keys/b/x", "alice", None), 401);
    assert_eq!(status("PUT", "/v2/keys/a/y", "alice", None), 201);
    assert_eq!(status("GET", "/v2/keys/b/x", "root", None), 200);
    assert_eq!(status("GET", "/v2/auth/users", "root", None), 200);
    assert_eq!(status("GET", "/v2/keys/a/x", "nobody", None), 401);
    assert_eq!(status("GET", "/v2/auth/users", "nobody", None), 401);
    assert_eq!(status("GET", "/v2/keys/a/x", "chain", None), 200);
    assert_eq!(
        status("GET", "/v2/keys/b/x", "alice", Some("root:rootpw")),
        200
    );
    assert_eq!(
        status("GET", "/v2/keys/b/x", "root", Some("alice:apw")),
        401
    );
    assert_eq!(
        status("GET", "/v2/keys/a/x", "alice", Some("alice:wrong")),
        401
    );
    assert_eq!(status("GET", "/v2/keys/a/x", "alice", Some("")), 200);
    assert_eq!(status("PUT", "/v2/keys/a/z", "alice", None), 401);
    assert_eq!(status("DELETE", "/v2/auth/enable", "root", None), 200);
}

#[test]
fn the_certificate_script_answers_as_etcd_3_4_does() {
    let flags = tls_flags();
    let extra: Vec<&str> = flags.iter().map(String::as_str).collect();
    let Some(mut reference) = EtcdProcess::start_reference_unready(&extra, "https") else {
        return;
    };
    wait_https(&mut reference);
    let ours = ours();
    let (a, b) = (run(&ours), run(&reference));
    for ((_, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x, y, "ours, then etcd 3.4");
    }
    assert_eq!(a.len(), b.len());
}
