//! Every GET is linearizable by default (issue 14, part 4): a member cut off from the others
//! never answers from its stale store, with or without `quorum=true`; `-local-reads` brings
//! back etcd's local reads for those who want availability over freshness.

use etcd_integration::cluster::Cluster;
use etcd_integration::{get, wait_until, Reply};

/// A follower isolated from the others while the majority overwrites `/k`; returns the
/// cluster and the follower.
fn stale_follower(extra: &[&str]) -> (Cluster, usize) {
    let (c, follower, _) = Cluster::with_stale_follower(extra);
    (c, follower)
}

fn value(r: &Reply) -> Option<String> {
    (r.status == 200).then(|| r.json()["node"]["value"].as_str().map(str::to_string))?
}

#[test]
fn a_cut_off_member_never_answers_a_stale_default_read() {
    let (c, follower) = stale_follower(&[]);
    for query in ["", "?quorum=true", "?quorum=false"] {
        let r = get(&format!("{}{query}", c.members[follower].keys("/k"))).unwrap();
        assert_ne!(
            value(&r).as_deref(),
            Some("old"),
            "GET{query}: a stale answer"
        );
        assert_eq!(
            r.json()["errorCode"].as_u64().map(|code| code / 100),
            Some(3),
            "GET{query} on a member without a quorum: {} {}",
            r.status,
            r.body
        );
    }
    // Once it hears the others again, the same GET answers the newest value at once: the read
    // waits for the member to apply what the leader has committed.
    c.faults.as_ref().unwrap().heal();
    wait_until("the healed member answers reads", || {
        get(&c.members[follower].keys("/k")).is_ok_and(|r| r.status == 200)
    });
    let r = get(&c.members[follower].keys("/k")).unwrap();
    assert_eq!(value(&r).as_deref(), Some("new"), "{}", r.body);
}

#[test]
fn local_reads_answer_from_the_members_own_store() {
    let (c, follower) = stale_follower(&["-local-reads"]);
    let r = get(&c.members[follower].keys("/k")).unwrap();
    assert_eq!(
        value(&r).as_deref(),
        Some("old"),
        "a local read answers at once, stale: {}",
        r.body
    );
    let r = get(&format!("{}?quorum=true", c.members[follower].keys("/k"))).unwrap();
    assert_ne!(
        value(&r).as_deref(),
        Some("old"),
        "quorum=true stays linearizable"
    );
}
