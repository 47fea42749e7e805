//! `Store::refusal` against `Store::apply`: a write the store says is bound to fail fails with
//! exactly that error when it applies, and one it does not refuse applies. A member answers a
//! refused write from this check (after a ReadIndex round) instead of through the log, so any
//! disagreement would be a wrong answer.

use proptest::prelude::*;

use crate::command::KeyCommand;
use crate::store::Store;
use crate::time::Timestamp;

const T0: Timestamp = Timestamp(1_767_225_600_000_000_000);

/// Few names over three levels, so that writes collide, make directories and delete them.
fn arb_key() -> impl Strategy<Value = String> {
    let seg = proptest::sample::select(vec!["a", "b", "c"]);
    proptest::collection::vec(seg, 0..4).prop_map(|segs| format!("/{}", segs.join("/")))
}

fn arb_value() -> impl Strategy<Value = String> {
    proptest::sample::select(vec!["", "x", "y"]).prop_map(str::to_string)
}

fn arb_prev_value() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(arb_value())
}

fn arb_cmd() -> impl Strategy<Value = KeyCommand> {
    let ttl = proptest::option::of(1u64..5).prop_map(|t| t.map(|s| T0.plus_secs(s)));
    prop_oneof![
        3 => (arb_key(), arb_value(), any::<bool>(), ttl.clone(), any::<bool>()).prop_map(
            |(key, value, dir, expire_at, refresh)| KeyCommand::Set {
                key: key.as_str().into(),
                value,
                dir,
                expire_at,
                refresh,
                now: T0,
            }
        ),
        2 => (arb_key(), arb_value(), any::<bool>(), any::<bool>()).prop_map(
            |(key, value, dir, in_order)| KeyCommand::Create {
                key: key.as_str().into(),
                value,
                dir,
                expire_at: None,
                in_order,
                now: T0,
            }
        ),
        2 => (arb_key(), arb_value(), ttl.clone(), any::<bool>()).prop_map(
            |(key, value, expire_at, refresh)| KeyCommand::Update {
                key: key.as_str().into(),
                value,
                expire_at,
                refresh,
                now: T0,
            }
        ),
        2 => (arb_key(), arb_value(), arb_prev_value(), 0u64..12, ttl, any::<bool>()).prop_map(
            |(key, value, prev_value, prev_index, expire_at, refresh)| {
                KeyCommand::CompareAndSwap {
                    key: key.as_str().into(),
                    value,
                    prev_value,
                    prev_index,
                    expire_at,
                    refresh,
                    now: T0,
                }
            }
        ),
        2 => (arb_key(), any::<bool>(), any::<bool>()).prop_map(|(key, dir, recursive)| {
            KeyCommand::Delete {
                key: key.as_str().into(),
                dir,
                recursive,
                now: T0,
            }
        }),
        2 => (arb_key(), arb_prev_value(), 0u64..12).prop_map(|(key, prev_value, prev_index)| {
            KeyCommand::CompareAndDelete {
                key: key.as_str().into(),
                prev_value,
                prev_index,
                now: T0,
            }
        }),
        1 => (0u64..6).prop_map(|s| KeyCommand::Expire { now: T0.plus_secs(s) }),
    ]
}

/// Whether `store.refusal` looks at commands of this kind at all.
fn checked(cmd: &KeyCommand) -> bool {
    !matches!(
        cmd,
        KeyCommand::Set { .. }
            | KeyCommand::Create { in_order: true, .. }
            | KeyCommand::Expire { .. }
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_refusal_is_exactly_what_applying_the_command_answers(
        cmds in proptest::collection::vec(arb_cmd(), 1..60)
    ) {
        let mut s = Store::new(100);
        for cmd in &cmds {
            let refused = s.refusal(cmd);
            let index = s.index();
            let applied = s.apply(cmd);
            match (refused, applied) {
                (Some(r), Err(e)) => {
                    prop_assert_eq!(r, e);
                    prop_assert_eq!(s.index(), index, "a refused write changed the index");
                }
                (Some(r), Ok(_)) => {
                    prop_assert!(false, "{cmd:?} was refused with {r:?} but applied");
                }
                (None, Err(e)) => {
                    prop_assert!(!checked(cmd), "{cmd:?} was not refused but failed with {e:?}");
                }
                (None, Ok(_)) => {}
            }
        }
    }
}
