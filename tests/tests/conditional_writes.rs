//! Conditional writes are decided by the state they apply to, never by a member's stale copy:
//! a compare-and-swap on one member sees a write acknowledged on another, and a member cut off
//! from the others answers one with a cluster error, not with a comparison against what it
//! still holds. These guard any shortcut that would decide a failure before raft (one was
//! tried for issue 14 and measured slower; see BENCHMARKS.md).

use etcd_integration::cluster::Cluster;
use etcd_integration::{request, Reply};

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
