//! Faults the simulation injects: partitions of the network (any set of links cut, one way or
//! both), crashes of members that lose every write their disk had not synced, restarts, and
//! jumps of the wall clock. Which fault, when and on whom is the run's choice (`run.rs`);
//! here is only how each is done.

use raft::StateRole;

use super::Sim;

/// A cut of the network, healed by [`Sim::heal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partition {
    /// The member can neither send nor receive.
    Isolate(u64),
    /// What the member sends is lost; what it is sent arrives.
    MuteOutgoing(u64),
    /// What the member is sent is lost; what it sends arrives.
    DeafIncoming(u64),
    /// The members in the group reach each other, the others reach each other, and no
    /// message crosses between the two sides.
    Split(Vec<u64>),
}

/// One fault, as the trace and the figures name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A partition starts.
    Partition(Partition),
    /// Every cut link heals.
    Heal,
    /// A member's power goes (`tear`: its last unsynced write survives in part).
    Crash {
        /// The member.
        id: u64,
        /// Whether the last write is torn.
        tear: bool,
    },
    /// A crashed member starts again on what its disk kept.
    Restart(u64),
    /// The wall clock jumps by this many nanoseconds (negative: back).
    ClockJump(i64),
    /// A new member joins.
    Join,
    /// A member is removed.
    Remove(u64),
}

impl Fault {
    /// The fault's kind, for the figures.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Partition(Partition::Isolate(_)) => "isolate",
            Fault::Partition(Partition::MuteOutgoing(_) | Partition::DeafIncoming(_)) => "one-way",
            Fault::Partition(Partition::Split(_)) => "split",
            Fault::Heal => "heal",
            Fault::Crash { tear: false, .. } => "crash",
            Fault::Crash { tear: true, .. } => "torn-crash",
            Fault::Restart(_) => "restart",
            Fault::ClockJump(_) => "clock-jump",
            Fault::Join => "join",
            Fault::Remove(_) => "remove",
        }
    }
}

impl Sim {
    /// Cuts the links `partition` names (on top of those already cut).
    pub fn partition(&mut self, partition: &Partition) {
        self.record(format!("partition {partition:x?}"));
        let all: Vec<u64> = self.nodes.keys().copied().collect();
        let others = |id: u64| all.iter().copied().filter(move |o| *o != id);
        match partition {
            Partition::Isolate(id) => {
                for o in others(*id) {
                    self.cut.insert((*id, o));
                    self.cut.insert((o, *id));
                }
            }
            Partition::MuteOutgoing(id) => {
                for o in others(*id) {
                    self.cut.insert((*id, o));
                }
            }
            Partition::DeafIncoming(id) => {
                for o in others(*id) {
                    self.cut.insert((o, *id));
                }
            }
            Partition::Split(group) => {
                for a in group {
                    for b in all.iter().filter(|b| !group.contains(b)) {
                        self.cut.insert((*a, *b));
                        self.cut.insert((*b, *a));
                    }
                }
            }
        }
    }

    /// Heals every cut link.
    pub fn heal(&mut self) {
        self.record("heal".into());
        self.cut.clear();
    }

    /// Whether any link is cut.
    pub fn partitioned(&self) -> bool {
        !self.cut.is_empty()
    }

    /// Member `id`'s power goes: its disk keeps only what was synced (the last write torn
    /// with `tear`, drawn from the seed), and its loop, store and watchers are gone (callers
    /// waiting on it get no answer). Returns the bytes of log lost.
    pub fn crash(&mut self, id: u64, tear: bool) -> usize {
        let tear = tear.then(|| self.rng.next_u64());
        let lost = self.nodes.get(&id).map_or(0, |n| n.disk.crash(tear));
        // Dropped after the crash: whatever it writes as it goes reaches no disk.
        drop(self.members.remove(&id));
        self.record(format!(
            "crash {id:x} lost {lost} bytes (torn: {})",
            tear.is_some()
        ));
        lost
    }

    /// Moves the wall clock by `nanos` (negative: back).
    pub fn jump_clock(&mut self, nanos: i64) {
        self.record(format!("clock jumps {nanos} ns"));
        self.clock.jump_wall(nanos);
    }

    /// Whether member `id` is running (started, not crashed, its loop not ended).
    pub fn is_up(&self, id: u64) -> bool {
        self.members.get(&id).is_some_and(|m| m.exit.is_none())
    }

    /// Why member `id`'s loop ended, if it did.
    pub fn exit_of(&self, id: u64) -> Option<String> {
        self.members
            .get(&id)
            .and_then(|m| m.exit.as_ref())
            .map(|e| e.to_string())
    }

    /// Every member ever started, up or not.
    pub fn node_ids(&self) -> Vec<u64> {
        self.nodes.keys().copied().collect()
    }

    /// The members ever started and not running now (crashed; not those whose loop ended).
    pub fn down(&self) -> Vec<u64> {
        self.nodes
            .keys()
            .copied()
            .filter(|id| !self.members.contains_key(id))
            .collect()
    }

    /// How many incarnations of member `id` were started (0: added, never started).
    pub fn incarnations(&self, id: u64) -> u64 {
        self.nodes.get(&id).map_or(0, |n| n.started)
    }

    /// The running members whose loop goes on.
    pub fn up(&self) -> Vec<u64> {
        self.members
            .iter()
            .filter(|(_, m)| m.exit.is_none())
            .map(|(id, _)| *id)
            .collect()
    }

    /// The leader of the highest term among running members, if any.
    pub fn leader(&self) -> Option<u64> {
        self.leaders()
            .into_iter()
            .max_by_key(|(_, term)| *term)
            .map(|(id, _)| id)
    }

    /// Whether member `id` is running and a follower, learner or leader with a known leader.
    pub fn knows_leader(&self, id: u64) -> bool {
        self.is_up(id) && {
            let (_, role, leader) = self.raft_state(id);
            role == StateRole::Leader || leader != 0
        }
    }

    /// The step count.
    pub fn now_step(&self) -> u64 {
        self.step
    }

    /// A number from the run's generator, in `lo..=hi`.
    pub fn draw(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.between(lo, hi)
    }

    /// Adds a line to the trace.
    pub fn note(&mut self, line: String) {
        self.record(line);
    }
}
