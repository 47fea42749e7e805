//! One module per group of commands.

pub mod auth;
pub mod backup;
pub mod export;
pub mod health;
pub mod keys;
pub mod members;
pub mod watch;
