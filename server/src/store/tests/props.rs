//! Property tests: random command sequences keep the store's invariants, and replay,
//! save/restore and the iterative renderer agree with the straightforward paths.

use super::*;
use proptest::prelude::*;

const KEYS: [&str; 8] = ["/a", "/a/b", "/a/_h", "/c", "/c/d/e", "/_x", "/q", "/a/b/z"];

fn arb_cmd() -> impl Strategy<Value = KeyCommand> {
    let key = proptest::sample::select(KEYS.to_vec()).prop_map(KeyPath::from);
    let val = proptest::sample::select(vec!["", "one", "two"]).prop_map(str::to_string);
    let ttl = proptest::option::of(0u64..5).prop_map(|t| t.map(at));
    prop_oneof![
        (key.clone(), val.clone(), any::<bool>(), ttl.clone()).prop_map(
            |(key, value, dir, expire_at)| KeyCommand::Set {
                key,
                value,
                dir,
                expire_at,
                refresh: false,
                now: T0
            }
        ),
        (key.clone(), val.clone(), any::<bool>(), any::<bool>()).prop_map(
            |(key, value, dir, in_order)| KeyCommand::Create {
                key,
                value,
                dir,
                expire_at: None,
                in_order,
                now: T0
            }
        ),
        (key.clone(), val.clone(), ttl.clone()).prop_map(|(key, value, expire_at)| {
            KeyCommand::Update {
                key,
                value,
                expire_at,
                refresh: false,
                now: T0,
            }
        }),
        (
            key.clone(),
            val.clone(),
            proptest::option::of(val.clone()),
            0u64..20
        )
            .prop_map(|(key, value, pv, pi)| KeyCommand::CompareAndSwap {
                key,
                value,
                prev_value: pv.filter(|v| !v.is_empty()),
                prev_index: pi,
                expire_at: None,
                refresh: false,
                now: T0
            }),
        (key.clone(), any::<bool>(), any::<bool>()).prop_map(|(key, dir, recursive)| {
            KeyCommand::Delete {
                key,
                dir,
                recursive,
                now: T0,
            }
        }),
        (key, proptest::option::of(val), 0u64..20).prop_map(|(key, pv, pi)| {
            KeyCommand::CompareAndDelete {
                key,
                prev_value: pv.filter(|v| !v.is_empty()),
                prev_index: pi,
                now: T0,
            }
        }),
        (0u64..6).prop_map(|s| KeyCommand::Expire { now: at(s) }),
    ]
}

/// Keys and directories below `root`, counted by a recursive walk (the trees here are shallow).
fn walk_counts(root: &node::TreeNode) -> NodeCounts {
    fn walk(n: &node::TreeNode, counts: &mut NodeCounts) {
        for child in n.children().into_iter().flat_map(|c| c.values()) {
            if child.is_dir() {
                counts.dirs += 1;
            } else {
                counts.keys += 1;
            }
            walk(child, counts);
        }
    }
    let mut counts = NodeCounts::default();
    walk(root, &mut counts);
    counts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn invariants_hold(cmds in proptest::collection::vec(arb_cmd(), 1..60)) {
        let mut s = Store::new(16);
        for c in &cmds {
            let before_index = s.index();
            let before = s.state_text();
            match s.apply(c) {
                Ok(evs) => {
                    prop_assert_eq!(s.index(), before_index + evs.len() as u64);
                    for (i, ev) in evs.iter().enumerate() {
                        prop_assert_eq!(ev.index, before_index + 1 + i as u64);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(s.index(), before_index);
                    prop_assert_eq!(e.index, before_index);
                    prop_assert_eq!(&before, &s.state_text());
                }
            }
            // the kept counts are what a walk of the tree finds
            prop_assert_eq!(s.counts(), walk_counts(&s.root));
            // hidden names never listed
            let root = s.get(&KeyPath::from("/"), true, T0).unwrap().node;
            let mut stack = vec![root];
            while let Some(n) = stack.pop() {
                for c in n.nodes.unwrap_or_default() {
                    let name = c.key.rsplit('/').next().unwrap();
                    prop_assert!(!name.starts_with('_'), "listed hidden {}", c.key);
                    stack.push(c);
                }
            }
        }
        // replay and save/restore rebuild the same store
        let mut replay = Store::new(16);
        for c in &cmds { let _ = replay.apply(c); }
        prop_assert!(replay.save() == s.save(), "replay differs");
        let restored = Store::restore(&s.save(), 16).unwrap();
        prop_assert!(restored.save() == s.save(), "restore differs");
        for k in KEYS {
            // The iterative renderer writes what serde writes for the same answer.
            for recursive in [false, true] {
                if let Ok(view) = s.read(&KeyPath::from(k), recursive, T0) {
                    let ev = s.get(&KeyPath::from(k), recursive, T0).unwrap();
                    let mut want = serde_json::to_string(&ev.response()).unwrap();
                    want.push('\n');
                    prop_assert_eq!(view.to_json(), want);
                }
            }
            prop_assert_eq!(restored.get(&KeyPath::from(k), true, T0).ok(), s.get(&KeyPath::from(k), true, T0).ok());
            for since in 1..=s.index() {
                prop_assert_eq!(restored.history_since(&KeyPath::from(k), true, since).ok(), s.history_since(&KeyPath::from(k), true, since).ok());
            }
        }
        prop_assert_eq!(restored.next_expiration(), s.next_expiration());
        prop_assert_eq!(restored.counts(), s.counts());
    }
}
