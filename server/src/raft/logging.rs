//! raft-rs logs through `slog`; this drain forwards its records into `tracing` (target
//! `raft`), so elections, leader changes and snapshots show in the server's log next to
//! everything else. The record's key-values (raft's `raft_id`, `term`, ...) are written after
//! the message, as `key=value`.
//!
//! A crate does this (`tracing-slog`), but it leaves key-values out unless a feature is on and
//! logs under the target `slog`; raft-rs' messages say little without their key-values.

use std::fmt::{self, Write as _};

use slog::{Drain, Key, OwnedKVList, Record, Serializer, KV};

/// A slog drain that emits every record as a `tracing` event.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingDrain;

/// The logger raft-rs is given: this member's records, into `tracing`.
pub fn raft_logger() -> slog::Logger {
    slog::Logger::root(TracingDrain, slog::o!())
}

/// Collects key-values as ` key=value`.
struct Pairs(String);

impl Serializer for Pairs {
    fn emit_arguments(&mut self, key: Key, val: &fmt::Arguments) -> slog::Result {
        let _ = write!(self.0, " {key}={val}");
        Ok(())
    }
}

impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), slog::Never> {
        let level = match record.level() {
            slog::Level::Critical | slog::Level::Error => tracing::Level::ERROR,
            slog::Level::Warning => tracing::Level::WARN,
            slog::Level::Info => tracing::Level::INFO,
            slog::Level::Debug => tracing::Level::DEBUG,
            slog::Level::Trace => tracing::Level::TRACE,
        };
        if !enabled_at(level) {
            return Ok(());
        }
        let mut pairs = Pairs(String::new());
        let _ = record.kv().serialize(record, &mut pairs);
        let _ = values.serialize(record, &mut pairs);
        let msg = record.msg();
        let kv = pairs.0;
        match level {
            tracing::Level::ERROR => tracing::error!(target: "raft", "{msg}{kv}"),
            tracing::Level::WARN => tracing::warn!(target: "raft", "{msg}{kv}"),
            tracing::Level::INFO => tracing::info!(target: "raft", "{msg}{kv}"),
            tracing::Level::DEBUG => tracing::debug!(target: "raft", "{msg}{kv}"),
            _ => tracing::trace!(target: "raft", "{msg}{kv}"),
        }
        Ok(())
    }
}

/// Whether `tracing` wants raft records at `level` (checked first: raft-rs logs a debug
/// record for most messages, and formatting them costs).
fn enabled_at(level: tracing::Level) -> bool {
    match level {
        tracing::Level::ERROR => tracing::enabled!(target: "raft", tracing::Level::ERROR),
        tracing::Level::WARN => tracing::enabled!(target: "raft", tracing::Level::WARN),
        tracing::Level::INFO => tracing::enabled!(target: "raft", tracing::Level::INFO),
        tracing::Level::DEBUG => tracing::enabled!(target: "raft", tracing::Level::DEBUG),
        _ => tracing::enabled!(target: "raft", tracing::Level::TRACE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_follow_the_message() {
        let mut pairs = Pairs(String::new());
        // The drain's formatting, on the values a logger carries.
        let owned = OwnedKVList::from(slog::o!("term" => 7));
        let rs = slog::record_static!(slog::Level::Info, "");
        let args = format_args!("became leader");
        let record = Record::new(&rs, &args, slog::b!());
        owned.serialize(&record, &mut pairs).unwrap();
        assert_eq!(pairs.0, " term=7");
    }
}
