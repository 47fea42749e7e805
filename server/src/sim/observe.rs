//! What the run reads off members to check them: the store rendered for comparison, the events
//! its history still holds, and waiting for a ReadIndex round.

use super::history::Seen;
use super::Sim;
use crate::store::KeyPath;

impl Sim {
    /// The voters in member `id`'s member table (not learners).
    pub fn voters(&self, id: u64) -> Vec<u64> {
        let st = self.members[&id].handle.state.read();
        st.members
            .iter()
            .filter(|m| !m.learner)
            .map(|m| m.id)
            .collect()
    }

    /// Member `id`'s state machine.
    pub fn state(&self, id: u64) -> crate::state::SharedState {
        self.members[&id].handle.state.clone()
    }

    /// Member `id`'s store, rendered (keys and the member registry) for comparison.
    pub fn render(&self, id: u64) -> String {
        let st = self.state(id);
        let st = st.read();
        let now = self.wall();
        let mut out = String::new();
        for key in ["/", "/_etcd"] {
            match st.store.read(&KeyPath::from(key), true, now) {
                Ok(view) => out.push_str(&view.to_json()),
                Err(e) => out.push_str(&e.to_string()),
            }
        }
        out
    }

    /// The events on `keys` member `id`'s history holds, and the index from which it holds
    /// all of them.
    pub fn history_of(&self, id: u64, keys: &[String]) -> (Vec<Seen>, u64) {
        let st = self.state(id);
        let st = st.read();
        let index = st.store.index();
        // The oldest index the history still answers for (it answers 401 below it).
        let (mut lo, mut hi) = (1, index + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match st.store.history_since(&KeyPath::from("/"), true, mid) {
                Ok(_) => hi = mid,
                Err(_) => lo = mid + 1,
            }
        }
        let from = lo;
        let mut seen = Vec::new();
        for key in keys {
            let mut at = from;
            while let Ok(Some(ev)) = st
                .store
                .history_since(&KeyPath::from(key.as_str()), false, at)
            {
                at = ev.index + 1;
                seen.push(Seen {
                    index: ev.index,
                    key: ev.node.key.clone(),
                    action: ev.action,
                    value: ev.node.value.clone(),
                });
            }
        }
        (seen, from)
    }

    /// Steps until a unit answer (a ReadIndex round) comes, at most `max_steps`.
    pub fn wait_unit<E: std::fmt::Display>(
        &mut self,
        mut rx: tokio::sync::oneshot::Receiver<Result<(), E>>,
        max_steps: u64,
    ) -> Result<(), String> {
        for _ in 0..max_steps {
            match rx.try_recv() {
                Ok(res) => return res.map_err(|e| e.to_string()),
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    return Err("no answer".into())
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => self.step(),
            }
        }
        Err(format!("no answer in {max_steps} steps"))
    }
}
