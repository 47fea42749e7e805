//! Checks of recorded histories, shared by the real-process tests (`tests/`) and the server's
//! deterministic simulation (`etcd_server::sim`): one checker, so both hold a run to the same
//! standard. No dependencies, so the server can use it without pulling in test harnesses.

pub mod linearizable;
