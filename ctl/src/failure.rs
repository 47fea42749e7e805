//! Why a command failed, and the Go etcdctl's exit code for each reason (spec §10.4).

use common::ErrorBody;

/// The Go etcdctl's exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: success.
    Success = 0,
    /// 1: bad arguments (or a local problem: unreadable file, `is a directory`).
    BadArgs = 1,
    /// 2: no endpoint could be reached (after trying to sync the member list).
    BadConnection = 2,
    /// 4: the server refused the request.
    ServerError = 4,
    /// 5: `cluster-health` found the cluster unhealthy.
    ClusterNotHealthy = 5,
}

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with an etcd error; `raw` is its JSON body (for `-o json`).
    Etcd {
        /// The parsed body.
        body: ErrorBody,
        /// The body as sent.
        raw: String,
    },
    /// No endpoint could be reached: one line per endpoint tried.
    Connection(Vec<String>),
    /// The server refused a non-keys request (members API), in its words.
    Server(String),
    /// Bad or missing arguments: printed as `Error:  <msg>`, exit 1.
    BadArgs(String),
    /// A message printed as is, exit 1 (`/k: is a directory`).
    Plain(String),
    /// The command already explained the failure itself (as the Go tool does for some member
    /// errors); nothing more is printed, exit 1.
    Reported,
    /// `cluster-health` already printed its verdict; exit 5.
    Unhealthy,
}

impl Failure {
    /// The exit code. `synced` tells whether the member list sync was attempted: the Go
    /// etcdctl exits 2 when it cannot sync, and 4 for the same failure under `--no-sync`.
    pub fn exit_code(&self, synced: bool) -> ExitCode {
        match self {
            Failure::Etcd { .. } | Failure::Server(_) => ExitCode::ServerError,
            Failure::Connection(_) if synced => ExitCode::BadConnection,
            Failure::Connection(_) => ExitCode::ServerError,
            Failure::BadArgs(_) | Failure::Plain(_) | Failure::Reported => ExitCode::BadArgs,
            Failure::Unhealthy => ExitCode::ClusterNotHealthy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::ErrorCode;

    #[test]
    fn exit_codes_follow_the_go_etcdctl() {
        let body = ErrorBody::new(ErrorCode::KeyNotFound, "/k", 1);
        let etcd = Failure::Etcd {
            body,
            raw: String::new(),
        };
        assert_eq!(etcd.exit_code(true) as u8, 4);
        assert_eq!(Failure::Connection(vec![]).exit_code(true) as u8, 2);
        assert_eq!(Failure::Connection(vec![]).exit_code(false) as u8, 4);
        assert_eq!(Failure::BadArgs("x".into()).exit_code(true) as u8, 1);
        assert_eq!(Failure::Reported.exit_code(true) as u8, 1);
        assert_eq!(Failure::Unhealthy.exit_code(true) as u8, 5);
        assert_eq!(ExitCode::Success as u8, 0);
    }
}
