//! Membership changes in simulation, made as the server makes them: a join proposes the new
//! member's record as a learner through a running member, then starts it; a removal proposes
//! `RemoveNode`.

use raft::eraftpb::ConfChangeType;

use super::{ChangeAnswer, Sim};
use crate::cluster::{ChangeContext, MemberRecord};
use crate::raft::{Request, StartMode};
use crate::time::Clock;

impl Sim {
    /// Adds a member the way a join does (`AddLearnerNode` proposed through `via`, with the
    /// member's record), and starts it once the change applied; the leader promotes it when it
    /// caught up. Returns its id, or the refusal.
    pub fn join(&mut self, via: u64, name: &str, max_steps: u64) -> Result<u64, String> {
        let (id, answer) = self.begin_join(via, name)?;
        self.wait(answer, max_steps)?;
        self.start(id)?;
        Ok(id)
    }

    /// Proposes, through `via`, adding member `name` as a learner (with its record), and
    /// returns its id and the answer to wait for; once the change applied,
    /// [`Sim::start`] starts it.
    pub fn begin_join(&mut self, via: u64, name: &str) -> Result<(u64, ChangeAnswer), String> {
        let peer_url = format!("sim://{name}");
        let id = {
            let member = self.members.get(&via).ok_or("no such member")?;
            let st = member.handle.state.read();
            st.members.choose_id(name, &peer_url)
        };
        let record = MemberRecord {
            id,
            name: name.to_string(),
            peer_urls: vec![peer_url],
            client_urls: vec![format!("sim://{name}/client")],
            learner: true,
        };
        let ctx = ChangeContext {
            member: Some(record),
            cluster_id: None,
            now: self.clock.wall(),
        };
        let cc = ctx.conf_change(ConfChangeType::AddLearnerNode, id);
        self.record(format!("join {name} id={id:x} via {via:x}"));
        let answer = self.members[&via]
            .handle
            .submit(|reply| Request::ConfChange { cc, reply })
            .map_err(|e| e.to_string())?;
        self.add_node(name, id, StartMode::Joined { id });
        Ok((id, answer))
    }

    /// Proposes, through `via`, removing member `id`; returns the answer to wait for.
    pub fn begin_remove(&mut self, via: u64, id: u64) -> Result<ChangeAnswer, String> {
        let cc = ChangeContext::at(self.clock.wall()).conf_change(ConfChangeType::RemoveNode, id);
        self.record(format!("remove {id:x} via {via:x}"));
        let member = self.members.get(&via).ok_or("no such member")?;
        member
            .handle
            .submit(|reply| Request::ConfChange { cc, reply })
            .map_err(|e| e.to_string())
    }
}
