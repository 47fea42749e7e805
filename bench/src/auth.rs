//! Turning auth on in a fresh server the same way on ours and on etcd 3.4: root, a `reader`
//! role for `/bench/*`, a `writer` role for everything, users alice (reader) and bob (writer),
//! and the guest role locked out, so every request must carry credentials.

/// `Basic` credentials for `alice:alicepw` (may read `/bench/*`).
pub const ALICE: &str = "Basic YWxpY2U6YWxpY2Vwdw==";
/// `Basic` credentials for `bob:bobpw` (may read and write every key).
pub const BOB: &str = "Basic Ym9iOmJvYnB3";
/// `Basic` credentials for `root:rootpw`.
const ROOT: &str = "Basic cm9vdDpyb290cHc=";

fn put_json(agent: &ureq::Agent, url: &str, body: &str, auth: Option<&str>) {
    let mut req = agent.put(url).set("Content-Type", "application/json");
    if let Some(a) = auth {
        req = req.set("Authorization", a);
    }
    if let Err(e) = req.send_string(body) {
        panic!("PUT {url}: {e}");
    }
}

/// Sets up the users and roles above on the server at `base` (`http://host:port`) and
/// enables auth.
pub fn enable(base: &str) {
    let agent = ureq::agent();
    let setup = [
        ("users/root", r#"{"user":"root","password":"rootpw"}"#),
        (
            "roles/reader",
            r#"{"role":"reader","permissions":{"kv":{"read":["/bench/*"],"write":[]}}}"#,
        ),
        (
            "roles/writer",
            r#"{"role":"writer","permissions":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
        ),
        (
            "users/alice",
            r#"{"user":"alice","password":"alicepw","roles":["reader"]}"#,
        ),
        (
            "users/bob",
            r#"{"user":"bob","password":"bobpw","roles":["writer"]}"#,
        ),
    ];
    for (path, body) in setup {
        put_json(&agent, &format!("{base}/v2/auth/{path}"), body, None);
    }
    put_json(&agent, &format!("{base}/v2/auth/enable"), "", None);
    put_json(
        &agent,
        &format!("{base}/v2/auth/roles/guest"),
        r#"{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}"#,
        Some(ROOT),
    );
}
