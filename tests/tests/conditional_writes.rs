//! Conditional writes are decided by the state they apply to, never by a member's stale copy:
//! a compare-and-swap on one member sees a write acknowledged on another, and a member cut off
//! from the others answers one with a cluster error, not with a comparison against what it
//! still holds. A write bound to fail is answered without a log entry, from the member's store
//! once a ReadIndex round has shown it holds every write committed before the request (see
//! `Store::refusal`): these guard that shortcut.

use etcd_integration::cluster::Cluster;
use etcd_integration::{get, request, EtcdProcess, Reply};

fn error_code(r: &Reply) -> Option<u64> {
    r.json()["errorCode"].as_u64()
}

/// A swap acknowledged on one member is seen by a conditional write on another at once: the
/// old condition fails there with the new index, and the new one succeeds.
#[test]
fn a_conditional_write_on_another_member_sees_the_latest_write() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let first = c.put_acked(leader, "/k", "one");
    let mut old = first.etcd_index();
    for i in 0..3 {
        let value = format!("v{i}");
        let r = c.put_acked(i, "/k", &value);
        let newest = r.etcd_index();
        let other = (i + 1) % 3;
        let stale = request(
            "PUT",
            &c.members[other].keys("/k"),
            Some(&format!("value=x&prevIndex={old}")),
        )
        .unwrap();
        assert_eq!(error_code(&stale), Some(101), "{}", stale.body);
        assert!(
            stale.json()["index"].as_u64() >= Some(newest),
            "member {other} failed the swap from a store older than the write acknowledged \
             on member {i}: {}",
            stale.body
        );
        let fresh = request(
            "PUT",
            &c.members[other].keys("/k"),
            Some(&format!("value=y{i}&prevValue={value}")),
        )
        .unwrap();
        assert_eq!(fresh.status, 200, "member {other}: {}", fresh.body);
        old = fresh.etcd_index();
    }
}

/// Cut off from the others, a member answers a conditional write with a cluster error, never
/// with a comparison against the value it still holds; with `-local-reads` too.
#[test]
fn a_cut_off_member_never_fails_a_conditional_write_from_its_stale_store() {
    for extra in [&[][..], &["-local-reads"][..]] {
        let (c, follower, missed) = Cluster::with_stale_follower(extra);
        let new = missed.etcd_index();
        // Both hold against the cluster's state and fail against the cut-off member's.
        for form in [
            "value=x&prevValue=new".to_string(),
            format!("value=x&prevIndex={new}"),
        ] {
            let r = request("PUT", &c.members[follower].keys("/k"), Some(&form)).unwrap();
            assert_eq!(
                error_code(&r).map(|code| code / 100),
                Some(3),
                "{extra:?} {form} on a member without a quorum: {} {}",
                r.status,
                r.body
            );
        }
    }
}

/// Writes bound to fail (a lost compare-and-swap or compare-and-delete, a create of a key that
/// exists, an update or delete of a missing key) answer etcd's errors, are counted in
/// `/v2/stats/store`, and add nothing to the raft log: thirty clients swapping one key lose
/// nearly every race, and each loss used to be an entry written, replicated and applied by
/// every member.
#[test]
fn writes_bound_to_fail_are_answered_without_a_log_entry() {
    let s = EtcdProcess::start();
    let set = request("PUT", &s.keys("/k"), Some("value=one")).unwrap();
    assert_eq!(set.status, 201, "{}", set.body);
    let index = set.etcd_index();
    let raft_index = |r: &Reply| -> u64 { r.header("X-Raft-Index").unwrap().parse().unwrap() };
    let before = raft_index(&get(&s.keys("/k")).unwrap());
    let stale = index - 1;
    let refused = [
        ("PUT", "/k", format!("value=x&prevIndex={stale}"), 101),
        ("PUT", "/k", "value=x&prevValue=two".to_string(), 101),
        ("PUT", "/k", "value=x&prevExist=false".to_string(), 105),
        ("PUT", "/missing", "value=x&prevExist=true".to_string(), 100),
        ("DELETE", "/k", format!("prevIndex={stale}"), 101),
        ("DELETE", "/missing", String::new(), 100),
    ];
    for (method, key, form, code) in &refused {
        for _ in 0..3 {
            let url = match method {
                &"DELETE" => format!("{}?{form}", s.keys(key)),
                _ => s.keys(key),
            };
            let body = (*method != "DELETE").then_some(form.as_str());
            let r = request(method, &url, body).unwrap();
            assert_eq!(
                error_code(&r),
                Some(*code),
                "{method} {key} {form}: {}",
                r.body
            );
            assert_eq!(r.json()["index"].as_u64(), Some(index), "{}", r.body);
            assert_eq!(
                r.etcd_index(),
                index,
                "X-Etcd-Index of {method} {key} {form}"
            );
        }
    }
    let after = get(&s.keys("/k")).unwrap();
    assert_eq!(after.json()["node"]["value"], "one");
    assert_eq!(
        raft_index(&after),
        before,
        "refused writes went through the raft log"
    );
    let stats = get(&s.url("/v2/stats/store")).unwrap().json();
    for (counter, n) in [
        ("compareAndSwapFail", 6),
        ("createFail", 3),
        ("updateFail", 3),
        ("compareAndDeleteFail", 3),
        ("deleteFail", 3),
    ] {
        assert_eq!(stats[counter], n, "{counter} in {stats}");
    }
    // A write that holds still goes through the log and applies.
    let swap = request(
        "PUT",
        &s.keys("/k"),
        Some(&format!("value=two&prevIndex={index}")),
    )
    .unwrap();
    assert_eq!(swap.status, 200, "{}", swap.body);
    assert!(raft_index(&get(&s.keys("/k")).unwrap()) > before);
}

/// A compare-and-swap sent to a follower right after the write it names was acknowledged by
/// the leader succeeds, though the follower may not have applied that write yet: its own
/// store's refusal is only a hint to confirm after a ReadIndex round, never the answer.
#[test]
fn a_swap_on_a_follower_that_has_not_applied_its_index_yet_succeeds() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    let follower = (leader + 1) % 3;
    for i in 0..20 {
        let written = c.put_acked(leader, "/k", &format!("v{i}"));
        let index = written.json()["node"]["modifiedIndex"].as_u64().unwrap();
        let r = request(
            "PUT",
            &c.members[follower].keys("/k"),
            Some(&format!("value=w{i}&prevIndex={index}")),
        )
        .unwrap();
        assert_eq!(r.status, 200, "swap {i} on the follower: {}", r.body);
    }
}
