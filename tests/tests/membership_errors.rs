//! The answers to refused membership changes, byte for byte: the members API
//! (`/v2/members`) answers `{"message": ...}` with 400, 404 or 409, and `/join` on the peer
//! port answers the same with the `errorCode` it has always carried. Pinned here so that how
//! the server types membership errors inside can change without a client seeing it.

use etcd_integration::{free_port, request, request_json, EtcdProcess, Reply};

/// `r` is `status` with exactly `body` (plus the newline every JSON answer ends with, as
/// etcd's do).
fn assert_answer(r: &Reply, status: u16, body: &str) {
    assert_eq!((r.status, r.body.as_str()), (status, &*format!("{body}\n")));
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
}

#[test]
fn refused_membership_changes_answer_status_and_json_as_before() {
    let p = EtcdProcess::start();
    let id = p.sole_member_id();
    let own_peer = p.peer_url();
    let members = p.url("/v2/members");
    let me = p.url(&format!("/v2/members/{id}"));
    let post = |body: &str| request_json("POST", &members, body).unwrap();

    // Unusable peer URLs: 400.
    assert_answer(
        &post(r#"{"peerURLs":["127.0.0.1:7001"]}"#),
        400,
        r#"{"message":"URL scheme must be http or https: 127.0.0.1:7001"}"#,
    );
    assert_answer(
        &post(r#"{"peerURLs":[]}"#),
        400,
        r#"{"message":"at least one peer URL is needed"}"#,
    );
    assert_answer(
        &request_json("PUT", &me, r#"{"peerURLs":["http://127.0.0.1"]}"#).unwrap(),
        400,
        r#"{"message":"URL must name a host and port: http://127.0.0.1"}"#,
    );
    // Conflicts with the member table: 409.
    assert_answer(
        &post(&format!(r#"{{"peerURLs":["{own_peer}"]}}"#)),
        409,
        &format!(
            r#"{{"message":"peer URL {own_peer} belongs to member {id} (machine0); remove it first"}}"#
        ),
    );
    assert_answer(
        &request("DELETE", &me, None).unwrap(),
        409,
        &format!(
            r#"{{"message":"member {id} is the cluster's last voting member; removing it would leave no member able to lead (add another member first)"}}"#
        ),
    );

    // A machine joining through the peer port: the same refusals, with their errorCode.
    let join = format!("{own_peer}/join");
    let join_as = |name: &str, peer: &str| {
        let body = format!(
            r#"{{"name":"{name}","peerURLs":["{peer}"],"clientURLs":["http://127.0.0.1:2"]}}"#
        );
        request_json("POST", &join, &body).unwrap()
    };
    assert_answer(
        &join_as("machine1", "ftp://127.0.0.1:1"),
        400,
        r#"{"errorCode":209,"message":"URL scheme must be http or https: ftp://127.0.0.1:1"}"#,
    );
    let fresh = format!("http://127.0.0.1:{}", free_port());
    assert_answer(
        &join_as("machine0", &fresh),
        409,
        &format!(
            r#"{{"errorCode":105,"message":"a member named \"machine0\" already exists ({id}); remove it first"}}"#
        ),
    );
    assert_answer(
        &join_as("machine1", &own_peer),
        409,
        &format!(
            r#"{{"errorCode":105,"message":"peer URL {own_peer} belongs to member {id} (machine0); remove it first"}}"#
        ),
    );

    // A peer URL another member holds (one added, never started): 409; once it is removed,
    // its id is unknown: 404.
    let added = post(&format!(r#"{{"peerURLs":["{fresh}"]}}"#));
    assert_eq!(added.status, 201, "{}", added.body);
    let other = added.json()["id"].as_str().unwrap().to_string();
    assert_answer(
        &request_json("PUT", &me, &format!(r#"{{"peerURLs":["{fresh}"]}}"#)).unwrap(),
        409,
        &format!(r#"{{"message":"peer URL {fresh} belongs to another member"}}"#),
    );
    let gone = p.url(&format!("/v2/members/{other}"));
    let removed = request("DELETE", &gone, None).unwrap();
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_answer(
        &request("DELETE", &gone, None).unwrap(),
        404,
        &format!(r#"{{"message":"No such member: {other}"}}"#),
    );
}
