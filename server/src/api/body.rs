//! Reading request bodies with a size cap and a deadline, so that a client that trickles or
//! stalls its body holds neither a connection nor a buffer for ever (hyper bounds only the
//! time to read the request head).

use std::fmt;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};

/// How long a whole request body (client API, raft batches, joins) may take to arrive:
/// the largest client body (1.5 MiB) at 50 KiB/s. Long-poll watches are not affected: their
/// requests have no body, and waiting for an event happens after it was read.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a streamed snapshot may go without a byte before it is abandoned (snapshots
/// are too large for one deadline; only members get this far).
pub const SNAPSHOT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a member's message stream may go without a byte (its sender sends a keep-alive
/// every 5 s when it has nothing else) before it counts as dead.
pub const STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// More than this many bytes.
    TooLarge(usize),
    /// Not complete within [`BODY_READ_TIMEOUT`] (or stalled for [`SNAPSHOT_STALL_TIMEOUT`]).
    TimedOut(Duration),
    /// The connection broke.
    Broken(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge(max) => write!(f, "request body is larger than {max} bytes"),
            BodyError::TimedOut(d) => {
                write!(f, "request body did not arrive within {} s", d.as_secs())
            }
            BodyError::Broken(e) => write!(f, "request body broke off: {e}"),
        }
    }
}

/// Reads a whole body of at most `max` bytes within `deadline`, refusing a larger one as
/// soon as it shows (without buffering it).
pub async fn read_limited<S, B>(body: S, max: usize, deadline: Duration) -> Result<Bytes, BodyError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    match tokio::time::timeout(deadline, read_all(body, max)).await {
        Ok(r) => r,
        Err(_) => Err(BodyError::TimedOut(deadline)),
    }
}

async fn read_all<S, B>(mut body: S, max: usize) -> Result<Bytes, BodyError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let mut out = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| BodyError::Broken(e.to_string()))?;
        if out.len() + chunk.remaining() > max {
            return Err(BodyError::TooLarge(max));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

/// The next chunk of a streamed body, or [`BodyError::TimedOut`] when none came for `stall`.
pub async fn next_chunk<S, B>(body: &mut S, stall: Duration) -> Result<Option<Bytes>, BodyError>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    match tokio::time::timeout(stall, body.next()).await {
        Err(_) => Err(BodyError::TimedOut(stall)),
        Ok(None) => Ok(None),
        Ok(Some(Err(e))) => Err(BodyError::Broken(e.to_string())),
        Ok(Some(Ok(mut chunk))) => Ok(Some(chunk.copy_to_bytes(chunk.remaining()))),
    }
}
