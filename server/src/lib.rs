//! The etcd server: a v2 key-value store replicated with Raft, served over HTTP.
//!
//! Writes flow one way: `api` parses and validates, the raft loop orders and persists, the
//! `store` applies in log order, and the `watch` hub tells waiting watchers.

pub mod api;
pub mod auth;
pub mod cluster;
pub mod command;
pub mod config;
pub mod config_file;
pub mod fuzzing;
pub mod generate;
pub mod http;
pub mod metrics;
pub mod raft;
pub mod seeded;
pub mod server;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod state;
pub mod storage;
pub mod store;
pub mod time;
pub mod tls;
pub mod transport;
pub mod watch;
