//! etcd's error codes: one enum, one table for messages and one for HTTP statuses.

use serde::{Deserialize, Serialize};

/// Every error code the v2 API sends (see `docs/v2-api.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 100: the key, or one of its ancestors, does not exist.
    KeyNotFound,
    /// 101: a prevValue/prevIndex comparison failed.
    TestFailed,
    /// 102: a file operation was attempted on a directory.
    NotFile,
    /// 104: a path component is a key where a directory is needed.
    NotDir,
    /// 105: create on an existing node.
    NodeExist,
    /// 107: the root is read only.
    RootReadOnly,
    /// 108: delete of a non-empty directory without `recursive`.
    DirNotEmpty,
    /// 110: authentication required (unused: no auth).
    Unauthorized,
    /// 201: `prevValue` given but empty.
    PrevValueRequired,
    /// 202: `ttl` is not a non-negative integer.
    TtlNaN,
    /// 203: `prevIndex` or `waitIndex` is not a non-negative integer.
    IndexNaN,
    /// 209: a field has an invalid value (booleans, `wait` on a write, bad values).
    InvalidField,
    /// 210: the query string or form body cannot be decoded.
    InvalidForm,
    /// 211: `refresh=true` together with a value.
    RefreshValue,
    /// 212: `refresh=true` without a ttl.
    RefreshTtlRequired,
    /// 300: the write could not be committed.
    RaftInternal,
    /// 301: no leader is known.
    LeaderElect,
    /// 400: a watcher was cleared by a snapshot recovery.
    WatcherCleared,
    /// 401: the requested watch index has left the event history.
    EventIndexCleared,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::KeyNotFound,
        ErrorCode::TestFailed,
        ErrorCode::NotFile,
        ErrorCode::NotDir,
        ErrorCode::NodeExist,
        ErrorCode::RootReadOnly,
        ErrorCode::DirNotEmpty,
        ErrorCode::Unauthorized,
        ErrorCode::PrevValueRequired,
        ErrorCode::TtlNaN,
        ErrorCode::IndexNaN,
        ErrorCode::InvalidField,
        ErrorCode::InvalidForm,
        ErrorCode::RefreshValue,
        ErrorCode::RefreshTtlRequired,
        ErrorCode::RaftInternal,
        ErrorCode::LeaderElect,
        ErrorCode::WatcherCleared,
        ErrorCode::EventIndexCleared,
    ];

    /// The numeric `errorCode` sent on the wire.
    pub fn code(self) -> u32 {
        use ErrorCode::*;
        match self {
            KeyNotFound => 100,
            TestFailed => 101,
            NotFile => 102,
            NotDir => 104,
            NodeExist => 105,
            RootReadOnly => 107,
            DirNotEmpty => 108,
            Unauthorized => 110,
            PrevValueRequired => 201,
            TtlNaN => 202,
            IndexNaN => 203,
            InvalidField => 209,
            InvalidForm => 210,
            RefreshValue => 211,
            RefreshTtlRequired => 212,
            RaftInternal => 300,
            LeaderElect => 301,
            WatcherCleared => 400,
            EventIndexCleared => 401,
        }
    }

    /// The code for a numeric `errorCode`, if it is one we know.
    pub fn from_code(code: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The `message` text. 100, 101 and 105 use the seed README's words (spec §11 row 2).
    pub fn message(self) -> &'static str {
        use ErrorCode::*;
        match self {
            KeyNotFound => "Key Not Found",
            TestFailed => "Test Failed",
            NotFile => "Not a file",
            NotDir => "Not a directory",
            NodeExist => "Already exists",
            RootReadOnly => "Root is read only",
            DirNotEmpty => "Directory not empty",
            Unauthorized => "The request requires user authentication",
            PrevValueRequired => "PrevValue is Required in POST form",
            TtlNaN => "The given TTL in POST form is not a number",
            IndexNaN => "The given index in POST form is not a number",
            InvalidField => "Invalid field",
            InvalidForm => "Invalid POST form",
            RefreshValue => "Value provided on refresh",
            RefreshTtlRequired => "A TTL must be provided on refresh",
            RaftInternal => "Raft Internal Error",
            LeaderElect => "During Leader Election",
            WatcherCleared => "watcher is cleared due to etcd recovery",
            EventIndexCleared => "The event in requested index is outdated and cleared",
        }
    }

    /// The HTTP status an error with this code is sent with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            KeyNotFound => 404,
            TestFailed | NodeExist => 412,
            NotFile | DirNotEmpty => 403,
            Unauthorized => 401,
            RaftInternal | LeaderElect => 500,
            _ => 400,
        }
    }
}

/// The JSON error body: `{"errorCode":100,"message":"Key Not Found","cause":"/foo","index":6}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Numeric etcd error code.
    #[serde(rename = "errorCode")]
    pub error_code: u32,
    /// Human-readable message for the code.
    pub message: String,
    /// What caused it: usually a key path; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cause: String,
    /// The etcd index when the error happened (0 for request-validation errors).
    #[serde(default)]
    pub index: u64,
}

impl ErrorBody {
    /// Builds the body for `code` with the standard message.
    pub fn new(code: ErrorCode, cause: impl Into<String>, index: u64) -> Self {
        ErrorBody {
            error_code: code.code(),
            message: code.message().to_string(),
            cause: cause.into(),
            index,
        }
    }

    /// The known code of this body, if any.
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.error_code)
    }
}

impl std::fmt::Display for ErrorBody {
    /// `100: Key Not Found (/foo) [6]`, the form etcdctl prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} ({}) [{}]",
            self.error_code, self.message, self.cause, self.index
        )
    }
}

impl std::error::Error for ErrorBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
        }
        let mut codes: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        codes.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn statuses_follow_the_spec() {
        assert_eq!(ErrorCode::KeyNotFound.http_status(), 404);
        assert_eq!(ErrorCode::TestFailed.http_status(), 412);
        assert_eq!(ErrorCode::NodeExist.http_status(), 412);
        assert_eq!(ErrorCode::NotFile.http_status(), 403);
        assert_eq!(ErrorCode::DirNotEmpty.http_status(), 403);
        assert_eq!(ErrorCode::NotDir.http_status(), 400);
        assert_eq!(ErrorCode::EventIndexCleared.http_status(), 400);
        assert_eq!(ErrorCode::RaftInternal.http_status(), 500);
    }

    #[test]
    fn body_omits_empty_cause() {
        let b = ErrorBody::new(ErrorCode::KeyNotFound, "", 3);
        let s = serde_json::to_string(&b).unwrap();
        assert_eq!(
            s,
            r#"{"errorCode":100,"message":"Key Not Found","index":3}"#
        );
        let b = ErrorBody::new(ErrorCode::KeyNotFound, "/foo", 6);
        assert_eq!(b.to_string(), "100: Key Not Found (/foo) [6]");
    }
}

/// An etcd error as the server raises it: a code, a cause and the index it happened at.
///
/// Converted to [`ErrorBody`] (and its HTTP status) in exactly one place, the HTTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdError {
    /// Which error.
    pub code: ErrorCode,
    /// What caused it, usually a key path.
    pub cause: String,
    /// The etcd index when it happened (0 for request-validation errors).
    pub index: u64,
}

impl EtcdError {
    /// An error with its cause and index.
    pub fn new(code: ErrorCode, cause: impl Into<String>, index: u64) -> Self {
        EtcdError {
            code,
            cause: cause.into(),
            index,
        }
    }

    /// The wire body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(self.code, self.cause.clone(), self.index)
    }
}

impl std::fmt::Display for EtcdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.body().fmt(f)
    }
}

impl std::error::Error for EtcdError {}
