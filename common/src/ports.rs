//! The ports a running server listens on, as it reports them in `<data-dir>/ports.json`. With
//! `-addr host:0` (or `-peer-addr host:0`) the OS picks them, and whoever started the server
//! (the test harness, a benchmark, a supervisor) reads them back here instead of guessing a
//! free port beforehand, which another process could take first.

use serde::{Deserialize, Serialize};

/// The file in the data dir that names the ports of the current run.
pub const PORTS_FILE: &str = "ports.json";

/// What `ports.json` holds: `{"client":P,"peer":Q}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundPorts {
    /// The client port (`-addr` / `-bind-addr`).
    pub client: u16,
    /// The peer port (`-peer-addr` / `-peer-bind-addr`).
    pub peer: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_a_flat_object_of_two_ports() {
        let p = BoundPorts {
            client: 40001,
            peer: 40002,
        };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(text, r#"{"client":40001,"peer":40002}"#);
        assert_eq!(serde_json::from_str::<BoundPorts>(&text).unwrap(), p);
    }
}
