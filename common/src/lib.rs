//! Wire types of the etcd v2 HTTP API, shared by the `etcd` server and `etcdctl`.
//!
//! Everything here is plain data with serde: what goes over the wire, the one table that maps
//! an etcd error code to its message and HTTP status, and the ports file a server writes for
//! whoever started it.

pub mod error;
pub mod members;
pub mod node;
pub mod ports;
pub mod response;

pub use error::{ErrorBody, ErrorCode, EtcdError};
pub use members::{Member, MemberList};
pub use node::Node;
pub use ports::{BoundPorts, PORTS_FILE};
pub use response::{Response, VersionInfo};

/// The v2 API level we implement, reported as `etcdcluster` by `/version`.
pub const API_LEVEL: &str = "2.3.0";
