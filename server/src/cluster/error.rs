//! Why a membership change did not happen: the member table's own error, apart from the key
//! space's [`EtcdError`]. Its HTTP status is decided here, once, for the members API and for
//! `/join`.

use common::{ErrorCode, EtcdError};

/// The cause given when a conf change is refused because another one is in progress.
const IN_PROGRESS: &str = "a membership change is already in progress; retry";

/// Why a membership change (add, remove, update, join) did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// The request cannot be carried out as asked: a peer URL that is not
    /// `http(s)://host:port`, none, or too many.
    #[error("{0}")]
    BadRequest(String),
    /// The change contradicts the member table: a name or peer URL another member holds, the
    /// removal of the last voter. Refused the same way on every member.
    #[error("{0}")]
    Conflict(String),
    /// Another membership change is still in progress (raft keeps one in flight): this one
    /// did not happen, so it may be tried again.
    #[error("{IN_PROGRESS}")]
    InProgress,
    /// No member has this id.
    #[error("{0}")]
    NotFound(String),
    /// The cluster could not decide: no leader, a timeout, the server stopping.
    #[error("{}", .0.cause)]
    Cluster(EtcdError),
}

impl MembershipError {
    /// The HTTP status of the answer: 400, 409 (a conflict, or a change in progress once the
    /// retries are used up), 404, or for the cluster's own failures `cluster_failed` (the
    /// members API answers 500; `/join` answers 503, which a joining machine retries).
    pub fn http_status(&self, cluster_failed: u16) -> u16 {
        match self {
            MembershipError::BadRequest(_) => 400,
            MembershipError::Conflict(_) | MembershipError::InProgress => 409,
            MembershipError::NotFound(_) => 404,
            MembershipError::Cluster(_) => cluster_failed,
        }
    }

    /// The `errorCode` a `/join` answer carries next to its message. Before membership errors
    /// had a type of their own they travelled as key-space errors, and `/join` sent their
    /// codes; they are kept, so a joining machine reads the same answer as before.
    pub fn join_error_code(&self) -> u32 {
        let code = match self {
            MembershipError::BadRequest(_) => ErrorCode::InvalidField,
            MembershipError::Conflict(_) | MembershipError::InProgress => ErrorCode::NodeExist,
            MembershipError::NotFound(_) => ErrorCode::KeyNotFound,
            MembershipError::Cluster(e) => e.code,
        };
        code.code()
    }
}

/// A failure of the cluster (a raft handle's error) while it carried a membership change.
impl From<EtcdError> for MembershipError {
    fn from(e: EtcdError) -> MembershipError {
        MembershipError::Cluster(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_codes_and_messages_are_those_answered_before() {
        let cases = [
            (MembershipError::BadRequest("bad".into()), 400, 209, "bad"),
            (MembershipError::Conflict("taken".into()), 409, 105, "taken"),
            (MembershipError::InProgress, 409, 105, IN_PROGRESS),
            (MembershipError::NotFound("00ab".into()), 404, 100, "00ab"),
        ];
        for (e, status, code, message) in cases {
            assert_eq!(e.http_status(500), status, "{e:?}");
            assert_eq!(e.http_status(503), status, "{e:?}");
            assert_eq!(e.join_error_code(), code, "{e:?}");
            assert_eq!(e.to_string(), message);
        }
        let failed = MembershipError::from(EtcdError::new(ErrorCode::LeaderElect, "no leader", 0));
        assert_eq!(failed.http_status(500), 500);
        assert_eq!(failed.http_status(503), 503);
        assert_eq!(failed.join_error_code(), 301);
        assert_eq!(failed.to_string(), "no leader");
    }
}
