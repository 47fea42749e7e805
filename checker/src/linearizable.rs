//! A linearizability checker for one etcd key seen as a register with compare-and-swap.
//!
//! The search is Wing and Gong's, with Lowe's memoisation: linearize, one at a time, an
//! operation that was invoked before every other pending operation completed, check it against
//! the register, and remember each (set of linearized operations, register value) already
//! explored so no state is searched twice. An operation whose outcome is unknown (a timeout, a
//! dropped connection) may have taken effect at any time after its invocation, or never: it
//! never completes, and the history is accepted once every operation with a known outcome is
//! linearized.

use std::collections::{HashMap, HashSet};

/// What a client asked of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `PUT value=v`.
    Write(String),
    /// `PUT prevValue=expect value=new`.
    Cas { expect: String, new: String },
    /// `DELETE`.
    Delete,
    /// `GET quorum=true`.
    Read,
    /// The key's TTL ran out while it still held this value (written with a TTL): the key
    /// is gone. Nobody asks for it, so it is always [`Answer::Unknown`], invoked when the
    /// write with the TTL was: it may happen at any time after, or never (the key was
    /// written again first).
    Expire(String),
}

/// What the server answered, when it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The write, swap or delete took effect.
    Done,
    /// A read found this value (`None`: 404).
    Value(Option<String>),
    /// A swap found another value (412, errorCode 101).
    CompareFailed,
    /// A swap or delete found no key (404, errorCode 100).
    NotFound,
    /// No answer that says whether it took effect.
    Unknown,
}

/// One operation of the history: invoked at `invoke`, answered at `complete` (nanoseconds on
/// one clock; `complete` is ignored for `Answer::Unknown`).
#[derive(Debug, Clone)]
pub struct Operation {
    /// Which client ran it (for the report).
    pub client: usize,
    /// The request.
    pub call: Call,
    /// The answer.
    pub answer: Answer,
    /// When it was sent.
    pub invoke: u64,
    /// When its answer arrived.
    pub complete: u64,
}

impl Operation {
    fn known(&self) -> bool {
        self.answer != Answer::Unknown
    }

    fn completes(&self) -> u64 {
        if self.known() {
            self.complete
        } else {
            u64::MAX
        }
    }
}

/// Values interned so a search state is two small numbers and a bitset.
#[derive(Default)]
struct Values {
    ids: HashMap<String, u32>,
}

/// `ABSENT`: the key does not exist.
const ABSENT: u32 = 0;

impl Values {
    fn id(&mut self, v: &str) -> u32 {
        let next = self.ids.len() as u32 + 1;
        *self.ids.entry(v.to_string()).or_insert(next)
    }
}

/// An operation with its values interned.
#[derive(Clone, Copy)]
enum Step {
    Write(u32),
    Cas(u32, u32),
    CasFailed(u32),
    CasNotFound,
    Delete,
    DeleteNotFound,
    Read(u32),
    Expire(u32),
}

impl Step {
    /// The register after this operation, or `None` if it cannot happen now.
    fn apply(self, reg: u32) -> Option<u32> {
        match self {
            Step::Write(v) => Some(v),
            Step::Cas(e, n) => (reg == e).then_some(n),
            Step::CasFailed(e) => (reg != e && reg != ABSENT).then_some(reg),
            Step::CasNotFound | Step::DeleteNotFound => (reg == ABSENT).then_some(reg),
            Step::Delete => (reg != ABSENT).then_some(ABSENT),
            Step::Read(v) => (reg == v).then_some(reg),
            // Another value: the expiry was cancelled by the write that replaced it.
            Step::Expire(v) => Some(if reg == v { ABSENT } else { reg }),
        }
    }
}

fn intern(op: &Operation, values: &mut Values) -> Result<Step, String> {
    let step = match (&op.call, &op.answer) {
        (Call::Write(v), Answer::Done | Answer::Unknown) => Step::Write(values.id(v)),
        (Call::Cas { expect, new }, Answer::Done | Answer::Unknown) => {
            Step::Cas(values.id(expect), values.id(new))
        }
        (Call::Cas { expect, .. }, Answer::CompareFailed) => Step::CasFailed(values.id(expect)),
        (Call::Cas { .. }, Answer::NotFound) => Step::CasNotFound,
        (Call::Delete, Answer::Done | Answer::Unknown) => Step::Delete,
        (Call::Delete, Answer::NotFound) => Step::DeleteNotFound,
        (Call::Read, Answer::Value(v)) => Step::Read(v.as_deref().map_or(ABSENT, |v| values.id(v))),
        (Call::Expire(v), Answer::Unknown) => Step::Expire(values.id(v)),
        (call, answer) => return Err(format!("{call:?} cannot be answered {answer:?}")),
    };
    Ok(step)
}

/// The figures of one check.
#[derive(Debug, Default, Clone, Copy)]
pub struct CheckStats {
    /// Operations in the history.
    pub operations: usize,
    /// Of them, with an unknown outcome.
    pub unknown: usize,
    /// Search states explored.
    pub states: usize,
}

/// Checks that `history` (one key, starting absent) is linearizable. On failure, says how far
/// the longest linearization got and which operations were pending there.
pub fn check(history: &[Operation]) -> Result<CheckStats, String> {
    // Reads with no answer tell nothing: they are left out.
    let mut ops: Vec<&Operation> = history
        .iter()
        .filter(|o| o.known() || o.call != Call::Read)
        .collect();
    ops.sort_by_key(|o| o.invoke);
    let mut values = Values::default();
    let steps = ops
        .iter()
        .map(|o| intern(o, &mut values))
        .collect::<Result<Vec<_>, _>>()?;
    let n = ops.len();
    let required = ops.iter().filter(|o| o.known()).count();
    let mut stats = CheckStats {
        operations: n,
        unknown: n - required,
        states: 0,
    };
    let words = n.div_ceil(64);

    struct Node {
        done: Vec<u64>,
        known_done: usize,
        reg: u32,
    }
    let mut seen: HashSet<(Vec<u64>, u32)> = HashSet::new();
    let mut stack = vec![Node {
        done: vec![0; words],
        known_done: 0,
        reg: ABSENT,
    }];
    let mut best = (0usize, Vec::new());
    while let Some(node) = stack.pop() {
        stats.states += 1;
        if node.known_done == required {
            return Ok(stats);
        }
        let is_done = |i: usize| node.done[i / 64] & (1 << (i % 64)) != 0;
        // Every pending operation must be linearized before the earliest answer among them.
        let horizon = (0..n)
            .filter(|&i| !is_done(i))
            .map(|i| ops[i].completes())
            .min()
            .unwrap_or(u64::MAX);
        if node.known_done >= best.0 {
            best = (node.known_done, node.done.clone());
        }
        for i in (0..n).filter(|&i| !is_done(i)) {
            if ops[i].invoke >= horizon {
                break;
            }
            let Some(reg) = steps[i].apply(node.reg) else {
                continue;
            };
            let mut done = node.done.clone();
            done[i / 64] |= 1 << (i % 64);
            if seen.insert((done.clone(), reg)) {
                stack.push(Node {
                    done,
                    known_done: node.known_done + usize::from(ops[i].known()),
                    reg,
                });
            }
        }
    }
    let is_done = |i: usize| best.1.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0);
    let pending: Vec<String> = (0..n)
        .filter(|&i| !is_done(i) && ops[i].known())
        .take(6)
        .map(|i| format!("{:?}", ops[i]))
        .collect();
    Err(format!(
        "not linearizable: at best {} of {required} answered operations linearize; the first \
         that cannot follow them: {}",
        best.0,
        pending.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(call: Call, answer: Answer, invoke: u64, complete: u64) -> Operation {
        Operation {
            client: 0,
            call,
            answer,
            invoke,
            complete,
        }
    }

    fn w(v: &str) -> Call {
        Call::Write(v.into())
    }

    fn read(v: Option<&str>) -> Answer {
        Answer::Value(v.map(Into::into))
    }

    #[test]
    fn sequential_history_passes_and_a_stale_read_fails() {
        let ok = [
            op(w("a"), Answer::Done, 0, 1),
            op(Call::Read, read(Some("a")), 2, 3),
            op(w("b"), Answer::Done, 4, 5),
        ];
        assert!(check(&ok).is_ok());
        let stale = [
            op(w("a"), Answer::Done, 0, 1),
            op(w("b"), Answer::Done, 2, 3),
            op(Call::Read, read(Some("a")), 4, 5),
        ];
        let err = check(&stale).unwrap_err();
        assert!(err.contains("not linearizable"), "{err}");
    }

    #[test]
    fn concurrent_operations_may_take_either_order() {
        let h = [
            op(w("a"), Answer::Done, 0, 10),
            op(w("b"), Answer::Done, 1, 9),
            op(Call::Read, read(Some("a")), 11, 12),
        ];
        assert!(check(&h).is_ok());
    }

    #[test]
    fn a_lost_acknowledged_write_fails() {
        let h = [
            op(w("a"), Answer::Done, 0, 1),
            op(Call::Read, read(None), 2, 3),
        ];
        assert!(check(&h).is_err());
    }

    #[test]
    fn an_unknown_write_may_apply_late_or_never() {
        let late = [
            op(w("a"), Answer::Done, 0, 1),
            op(w("x"), Answer::Unknown, 2, 0),
            op(Call::Read, read(Some("a")), 3, 4),
            op(Call::Read, read(Some("x")), 5, 6),
        ];
        assert!(check(&late).is_ok());
        let never = [
            op(w("x"), Answer::Unknown, 0, 0),
            op(Call::Read, read(None), 5, 6),
        ];
        assert!(check(&never).is_ok());
        // But it cannot apply before it was sent.
        let early = [
            op(Call::Read, read(Some("x")), 0, 1),
            op(w("x"), Answer::Unknown, 2, 0),
        ];
        assert!(check(&early).is_err());
    }

    #[test]
    fn compare_and_swap_and_delete_follow_the_register() {
        let cas = |e: &str, n: &str| Call::Cas {
            expect: e.into(),
            new: n.into(),
        };
        let h = [
            op(
                Call::Cas {
                    expect: "a".into(),
                    new: "b".into(),
                },
                Answer::NotFound,
                0,
                1,
            ),
            op(w("a"), Answer::Done, 2, 3),
            op(cas("z", "q"), Answer::CompareFailed, 4, 5),
            op(cas("a", "b"), Answer::Done, 6, 7),
            op(Call::Delete, Answer::Done, 8, 9),
            op(Call::Delete, Answer::NotFound, 10, 11),
        ];
        assert!(check(&h).is_ok());
        let double_swap = [
            op(w("a"), Answer::Done, 0, 1),
            op(cas("a", "b"), Answer::Done, 2, 5),
            op(cas("a", "c"), Answer::Done, 3, 6),
        ];
        assert!(check(&double_swap).is_err());
    }

    #[test]
    fn a_key_with_a_ttl_may_vanish_once_but_not_come_back() {
        let expire = |v: &str| op(Call::Expire(v.into()), Answer::Unknown, 0, 0);
        let h = [
            op(w("t"), Answer::Done, 0, 1),
            expire("t"),
            op(Call::Read, read(Some("t")), 2, 3),
            op(Call::Read, read(None), 4, 5),
        ];
        assert!(check(&h).is_ok());
        let back = [
            op(w("t"), Answer::Done, 0, 1),
            expire("t"),
            op(Call::Read, read(None), 2, 3),
            op(Call::Read, read(Some("t")), 4, 5),
        ];
        assert!(check(&back).is_err());
        // Written again without a TTL, the key no longer expires.
        let rewritten = [
            op(w("t"), Answer::Done, 0, 1),
            expire("t"),
            op(w("u"), Answer::Done, 2, 3),
            op(Call::Read, read(Some("u")), 4, 5),
        ];
        assert!(check(&rewritten).is_ok());
    }

    #[test]
    fn a_long_concurrent_history_is_checked_quickly() {
        // Five clients, each writing then reading its own value back while the others write:
        // many interleavings, one memoised search.
        let mut h = Vec::new();
        let mut t = 0;
        for round in 0..400u64 {
            let base = t;
            for c in 0..5u64 {
                h.push(op(
                    w(&format!("{round}-{c}")),
                    Answer::Done,
                    base + c,
                    base + 10 + c,
                ));
            }
            h.push(op(
                Call::Read,
                read(Some(&format!("{round}-4"))),
                base + 20,
                base + 21,
            ));
            t += 30;
        }
        let stats = check(&h).unwrap();
        assert_eq!(stats.operations, 2400);
    }
}
