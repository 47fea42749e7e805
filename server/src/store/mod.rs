//! TEMPORARY compile stub on the `server` branch; replaced by the real store from branch `store`.
#![allow(dead_code, unused_variables, missing_docs)]
use crate::command::Command;
use crate::time::Timestamp;
use common::EtcdError;
pub const DEFAULT_HISTORY_SIZE: usize = 1000;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Get,
    Set,
    Create,
    Update,
    CompareAndSwap,
    Delete,
    CompareAndDelete,
    Expire,
}
impl Action {
    pub fn as_str(&self) -> &'static str {
        "get"
    }
}
#[derive(Debug, Clone)]
pub struct Event {
    pub action: Action,
    pub node: common::Node,
    pub prev_node: Option<common::Node>,
    pub index: u64,
    pub refresh: bool,
}
impl Event {
    pub fn response(&self) -> common::Response {
        unimplemented!()
    }
    pub fn matches(&self, path: &str, recursive: bool) -> bool {
        unimplemented!()
    }
}
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WriteStats {
    pub sets_success: u64,
}
#[derive(Debug)]
pub struct RestoreError(pub String);
impl std::fmt::Display for RestoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for RestoreError {}
#[derive(Clone)]
pub struct Store;
impl Store {
    pub fn new(history_size: usize) -> Store {
        unimplemented!()
    }
    pub fn index(&self) -> u64 {
        unimplemented!()
    }
    pub fn apply(&mut self, cmd: &Command) -> Result<Vec<Event>, EtcdError> {
        unimplemented!()
    }
    pub fn get(
        &self,
        key: &str,
        recursive: bool,
        sorted: bool,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        unimplemented!()
    }
    pub fn history_since(
        &self,
        key: &str,
        recursive: bool,
        since: u64,
    ) -> Result<Option<Event>, EtcdError> {
        unimplemented!()
    }
    pub fn next_expiration(&self) -> Option<Timestamp> {
        unimplemented!()
    }
    pub fn stats(&self) -> &WriteStats {
        unimplemented!()
    }
    pub fn save(&self) -> Vec<u8> {
        unimplemented!()
    }
    pub fn restore(bytes: &[u8], history_size: usize) -> Result<Store, RestoreError> {
        unimplemented!()
    }
}
pub mod path {
    pub fn clean(raw: &str) -> String {
        unimplemented!()
    }
}
