//! Trees as deep and wide as the API allows, on a small stack: nothing may recurse per level.
//! And the history's byte bound.

use super::*;

const T0: Timestamp = Timestamp(1_700_000_000_000_000_000);

/// Levels of the deepest key an 8 KiB key allows: `/a` repeated.
const DEEPEST: usize = 8 * 1024 / 2;

/// Stack for the deep tests: far less than the 2 MiB of tokio workers and the raft thread,
/// so recursion once per level (thousands of frames) would overflow it.
const SMALL_STACK: usize = 256 * 1024;

fn set(key: &str, value: &str, expire_at: Option<Timestamp>) -> KeyCommand {
    KeyCommand::Set {
        key: key.into(),
        value: value.into(),
        dir: false,
        expire_at,
        refresh: false,
        now: T0,
    }
}

fn deep_key(levels: usize) -> String {
    let mut k = "/a".repeat(levels - 1);
    k.push_str("/x");
    k
}

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .expect("the deep test thread failed");
}

#[test]
fn the_deepest_key_survives_every_store_operation_on_a_small_stack() {
    on_small_stack(|| {
        let key = deep_key(DEEPEST);
        assert_eq!(key.len(), 8 * 1024);
        let mut s = Store::new(DEFAULT_HISTORY_SIZE);
        s.apply(&set(&key, "deep", None)).unwrap();
        let mid = deep_key(DEEPEST / 2);
        s.apply(&set(&mid, "ttl", Some(T0.plus_secs(5)))).unwrap();

        let bytes = s.save();
        let r = Store::restore(&bytes, DEFAULT_HISTORY_SIZE).unwrap();
        assert!(r.save() == bytes, "restore differs");
        assert_eq!(r.next_expiration(), Some(T0.plus_secs(5)));
        let got = r.get(&KeyPath::from(key.as_str()), false, T0).unwrap();
        assert_eq!(got.node.value.as_deref(), Some("deep"));

        let json = r.read(&KeyPath::from("/"), true, T0).unwrap().to_json();
        assert!(json.contains(&format!(r#""key":"{key}","value":"deep""#)));
        // The root and every `/a` level list children.
        assert_eq!(json.matches(r#""nodes":["#).count(), DEEPEST);
        assert!(json.ends_with("}\n"));

        // Expiring a key deep down, then removing the whole tree, then dropping stores.
        let mut r = r;
        let evs = r
            .apply(&KeyCommand::Expire {
                now: T0.plus_secs(6),
            })
            .unwrap();
        assert_eq!(evs.len(), 1);
        r.apply(&KeyCommand::Delete {
            key: "/a".into(),
            dir: true,
            recursive: true,
            now: T0,
        })
        .unwrap();
        assert!(r.get(&KeyPath::from("/a"), false, T0).is_err());
        drop(r);
        drop(s);
    });
}

/// A frozen copy (a snapshot being written) shares the deep tree: the store may then delete
/// and rewrite it, and either may be dropped first, on a small stack, and the frozen copy
/// still encodes the tree it was frozen with.
#[test]
fn a_deep_tree_shared_with_a_frozen_copy_is_changed_and_dropped_on_a_small_stack() {
    on_small_stack(|| {
        let key = deep_key(DEEPEST);
        let mut s = Store::new(DEFAULT_HISTORY_SIZE);
        s.apply(&set(&key, "deep", None)).unwrap();
        let before = s.save();
        for store_first in [false, true] {
            let frozen = s.frozen();
            let mut live = Store::restore(&before, DEFAULT_HISTORY_SIZE).unwrap();
            let shared = live.frozen();
            // A key half-way down: the write copies the path above it and shares the rest.
            live.apply(&set(&deep_key(DEEPEST / 2), "changed", None))
                .unwrap();
            // Then the shared tree goes from a quarter of the way down.
            live.apply(&KeyCommand::Delete {
                key: "/a".repeat(DEEPEST / 4).as_str().into(),
                dir: true,
                recursive: true,
                now: T0,
            })
            .unwrap();
            live.apply(&set(&key, "again", None)).unwrap();
            let mut out = Vec::new();
            shared.write_to(&mut out).unwrap();
            assert!(out == before, "the frozen copy changed");
            if store_first {
                drop(live);
                drop(shared);
            } else {
                drop(shared);
                drop(live);
            }
            let mut out = Vec::new();
            frozen.write_to(&mut out).unwrap();
            assert!(out == before);
        }
    });
}

#[test]
fn an_expiring_deep_directory_goes_on_a_small_stack() {
    on_small_stack(|| {
        let mut s = Store::new(10);
        s.apply(&KeyCommand::Set {
            key: "/d".into(),
            value: String::new(),
            dir: true,
            expire_at: Some(T0.plus_secs(1)),
            refresh: false,
            now: T0,
        })
        .unwrap();
        let key = format!("/d{}", deep_key(DEEPEST - 2));
        s.apply(&set(&key, "v", Some(T0.plus_secs(9)))).unwrap();
        let evs = s
            .apply(&KeyCommand::Expire {
                now: T0.plus_secs(2),
            })
            .unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].node.key, "/d");
        assert_eq!(s.next_expiration(), None, "the deep TTL went with its dir");
    });
}

/// A format-1 (0.3.0) snapshot of a tree nested deeper than serde_json's limit of 128.
#[test]
fn a_deep_format_1_snapshot_is_read() {
    let levels = DEEPEST;
    let mut json = String::from(r#"{"format":1,"index":7,"root":"#);
    for _ in 0..levels {
        json.push_str(r#"{"created":3,"modified":3,"expire_at":null,"content":{"Dir":{"a":"#);
    }
    json.push_str(r#"{"created":7,"modified":7,"expire_at":null,"content":{"Value":"deep"}}"#);
    for _ in 0..levels {
        json.push_str("}}}");
    }
    let stats = serde_json::to_string(&WriteStats::default()).unwrap();
    json.push_str(&format!(r#","history":[],"stats":{stats}}}"#));
    let r = Store::restore(json.as_bytes(), 10).unwrap();
    assert_eq!(r.index(), 7);
    let key = "/a".repeat(levels);
    let v = r
        .read(&KeyPath::from(key.as_str()), false, T0)
        .unwrap()
        .to_json();
    assert!(v.contains(r#""value":"deep""#), "{v}");
    // And what is written again is today's format.
    assert!(r.save().starts_with(b"etcd-store-snapshot 3\n"));
    on_small_stack(move || drop(r));
}

#[test]
fn corrupt_format_2_snapshots_are_refused_not_panicked_on() {
    let mut s = Store::new(10);
    s.apply(&set("/a/b", "1", None)).unwrap();
    let good = s.save_format2();
    let text = String::from_utf8(good.clone()).unwrap();
    let cases = [
        text.replace("snapshot 2", "snapshot 9"),
        text.replace(r#""d":2"#, r#""d":5"#),
        text.replace(r#""n":"b""#, r#""n":"x/y""#),
        text.replace(r#""nodes":3"#, r#""nodes":9"#),
        text[..text.len() / 2].to_string(),
        format!("{text}junk\n"),
        "[".repeat(100_000),
    ];
    for bad in cases {
        assert!(
            Store::restore(bad.as_bytes(), 10).is_err(),
            "accepted {bad:?}"
        );
    }
    assert!(Store::restore(&good, 10).is_ok());
}

#[test]
fn a_wide_directory_round_trips_and_lists_sorted() {
    let mut s = Store::new(10);
    for i in 0..20_000 {
        s.apply(&set(&format!("/wide/k{i:05}"), "v", None)).unwrap();
    }
    let r = Store::restore(&s.save(), 10).unwrap();
    let node = r.get(&KeyPath::from("/wide"), false, T0).unwrap().node;
    let kids = node.nodes.unwrap();
    assert_eq!(kids.len(), 20_000);
    assert_eq!(kids[0].key, "/wide/k00000");
    assert_eq!(kids[19_999].key, "/wide/k19999");
}

#[test]
fn history_stays_under_its_byte_limit_and_older_watches_get_401() {
    let limit = 16 * 1024 * 1024;
    let mut s = Store::with_history_limits(DEFAULT_HISTORY_SIZE, limit);
    let big = "x".repeat(1536 * 1024);
    for i in 0..40 {
        s.apply(&set("/big", &format!("{i}{big}"), None)).unwrap();
        assert!(
            s.history_bytes() <= limit,
            "{} bytes kept",
            s.history_bytes()
        );
    }
    // Each overwrite carries the value three times (node, prevValue, prevNode): ~4.5 MiB.
    let kept_from = s.index() - 2;
    assert!(s
        .history_since(&KeyPath::from("/big"), false, kept_from)
        .unwrap()
        .is_some());
    let e = s
        .history_since(&KeyPath::from("/big"), false, 1)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::EventIndexCleared);
    assert_eq!(e.code.code(), 401);
    // The default limit holds too, and a restored store keeps within it.
    let mut d = Store::new(DEFAULT_HISTORY_SIZE);
    for i in 0..100 {
        d.apply(&set(&format!("/k{}", i % 3), &big, None)).unwrap();
    }
    assert!(d.history_bytes() <= MAX_HISTORY_BYTES);
    let r = Store::restore(&d.save(), DEFAULT_HISTORY_SIZE).unwrap();
    assert!(r.history_bytes() <= MAX_HISTORY_BYTES);
    assert!(d.save().len() < MAX_HISTORY_BYTES + 4 * 1024 * 1024);
}
