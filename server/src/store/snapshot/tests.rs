//! Format 3 against random stores, damaged bytes and awkward readers; formats 2 and 3 of one
//! store restore to the same store.

use std::io::Read;

use proptest::prelude::*;

use crate::command::KeyCommand;
use crate::store::Store;
use crate::time::Timestamp;

const T0: Timestamp = Timestamp(1_767_225_600_000_000_000);

fn at(secs: u64) -> Timestamp {
    T0.plus_secs(secs)
}

/// Keys up to five levels deep over a few names, Unicode and hidden ones included, so that
/// random commands make directories, collisions and deletes of whole subtrees.
fn arb_key() -> impl Strategy<Value = String> {
    let seg = proptest::sample::select(vec!["a", "b", "_h", "é✓", "k 1", "z"]);
    proptest::collection::vec(seg, 1..6).prop_map(|segs| format!("/{}", segs.join("/")))
}

fn arb_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z]{1,8}",
        Just("quote \" backslash \\ newline \n tab \t".to_string()),
        Just("caf\u{e9} \u{1f600}".to_string()),
        (200usize..2000).prop_map(|n| "v".repeat(n)),
    ]
}

fn arb_cmd() -> impl Strategy<Value = KeyCommand> {
    let ttl = proptest::option::of(1u64..20).prop_map(|t| t.map(at));
    prop_oneof![
        4 => (arb_key(), arb_value(), any::<bool>(), ttl.clone()).prop_map(
            |(key, value, dir, expire_at)| KeyCommand::Set {
                key: key.as_str().into(),
                value,
                dir,
                expire_at,
                refresh: false,
                now: T0,
            }
        ),
        1 => (arb_key(), arb_value()).prop_map(|(key, value)| KeyCommand::Create {
            key: key.as_str().into(),
            value,
            dir: false,
            expire_at: None,
            in_order: true,
            now: T0,
        }),
        1 => (arb_key(), arb_value(), ttl).prop_map(|(key, value, expire_at)| {
            KeyCommand::CompareAndSwap {
                key: key.as_str().into(),
                value,
                prev_value: None,
                prev_index: 0,
                expire_at,
                refresh: false,
                now: T0,
            }
        }),
        1 => (arb_key(), any::<bool>()).prop_map(|(key, recursive)| KeyCommand::Delete {
            key: key.as_str().into(),
            dir: recursive,
            recursive,
            now: T0,
        }),
        1 => (0u64..25).prop_map(|s| KeyCommand::Expire { now: at(s) }),
    ]
}

fn store_of(cmds: &[KeyCommand], history: usize) -> Store {
    let mut s = Store::new(history);
    for c in cmds {
        let _ = s.apply(c);
    }
    s
}

/// Reads one byte per call: every buffer boundary of the decoder is crossed.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((first, rest)) = self.0.split_first() else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        buf[0] = *first;
        self.0 = rest;
        Ok(1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// A random store saves to bytes that restore to a store saving the same bytes, with the
    /// same TTL index, counts and history; format 2 of it restores to the same store.
    #[test]
    fn random_stores_round_trip_byte_identical(
        cmds in proptest::collection::vec(arb_cmd(), 1..80),
        history in 1usize..40,
    ) {
        let s = store_of(&cmds, history);
        let bytes = s.save();
        let r = Store::restore(&bytes, history).unwrap();
        prop_assert!(r.save() == bytes, "format 3 round trip differs");
        prop_assert_eq!(&r.ttls, &s.ttls);
        prop_assert_eq!(r.counts, s.counts);
        prop_assert_eq!(r.history.events().collect::<Vec<_>>(), s.history.events().collect::<Vec<_>>());
        let from2 = Store::restore(&s.save_format2(), history).unwrap();
        prop_assert!(from2.save() == bytes, "format 2 restores to another store");
        prop_assert_eq!(&from2.ttls, &s.ttls);
        prop_assert_eq!(from2.counts, s.counts);
    }
}

#[test]
fn a_trickling_reader_and_values_larger_than_the_buffer_decode_the_same() {
    let big = "x".repeat(3 << 20);
    let mut s = Store::new(10);
    for (i, v) in ["small", big.as_str(), "", big.as_str()].iter().enumerate() {
        s.apply(&KeyCommand::Set {
            key: format!("/d/k{i}").as_str().into(),
            value: v.to_string(),
            dir: false,
            expire_at: Some(at(i as u64 + 1)),
            refresh: false,
            now: T0,
        })
        .unwrap();
    }
    let bytes = s.save();
    let r = Store::restore_from(Trickle(&bytes[..bytes.len().min(2000)]), 10);
    assert!(r.is_err(), "a truncated input is refused");
    let r = Store::restore_from(Trickle(&bytes), 10).unwrap();
    assert!(r.save() == bytes);
}

#[test]
fn every_flipped_byte_and_every_truncation_is_refused() {
    let mut s = Store::new(10);
    for (i, k) in ["/a/b", "/a/c", "/d", "/e/f/g"].iter().enumerate() {
        s.apply(&KeyCommand::Set {
            key: (*k).into(),
            value: format!("value {i}"),
            dir: false,
            expire_at: (i % 2 == 0).then(|| at(9)),
            refresh: false,
            now: T0,
        })
        .unwrap();
    }
    let good = s.save();
    assert!(Store::restore(&good, 10).is_ok());
    for i in 0..good.len() {
        for bit in [0x01, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= bit;
            assert!(
                Store::restore(&bad, 10).is_err(),
                "byte {i} ^ {bit:#x} accepted"
            );
        }
    }
    for len in 0..good.len() {
        assert!(
            Store::restore(&good[..len], 10).is_err(),
            "{len} bytes accepted"
        );
    }
    let mut longer = good.clone();
    longer.push(0);
    let e = Store::restore(&longer, 10).unwrap_err().to_string();
    assert!(e.contains("trailing data"), "{e}");
}

#[test]
fn a_length_larger_than_the_input_allocates_nothing_and_is_refused() {
    let mut bytes = super::binary::MAGIC_LINE.to_vec();
    // index, no events, 13 zero counters, then a root record whose name claims 2^60 bytes.
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&[0; 13]);
    bytes.push(1);
    bytes.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    let e = Store::restore(&bytes, 10).unwrap_err().to_string();
    assert!(e.contains("truncated node name"), "{e}");
}

#[test]
fn a_tree_deeper_than_any_call_stack_takes_round_trips_on_a_small_stack() {
    // 40,000 levels: more than the key limit allows, decoded with explicit stacks only.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let mut bytes = super::binary::MAGIC_LINE.to_vec();
            bytes.extend_from_slice(&[9, 0]);
            bytes.extend_from_slice(&[0; 13]);
            // The root and 40,000 directories `a`, each with one child, then a key.
            bytes.extend_from_slice(&[1, 0, 0, 0, 1]);
            for _ in 0..40_000 {
                bytes.extend_from_slice(&[1, 1, b'a', 1, 1, 1]);
            }
            bytes.extend_from_slice(&[0, 1, b'x', 2, 2, 4]);
            bytes.extend_from_slice(b"deep");
            let crc = crc32fast::hash(&bytes);
            bytes.extend_from_slice(&crc.to_be_bytes());
            let r = Store::restore(&bytes, 10).unwrap();
            assert_eq!(r.counts.dirs, 40_000);
            assert_eq!(r.counts.keys, 1);
            assert!(r.save() == bytes);
            // Dropping it is iterative too (see `node`).
            drop(r);
        })
        .unwrap()
        .join()
        .unwrap();
}
