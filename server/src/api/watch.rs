//! Long-poll watches: headers go out at once; the body is the first matching event (or, with
//! `stream=true`, one JSON line per event). The watcher leaves the hub when its response is
//! dropped, so a client that goes away leaks nothing.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::{ErrorCode, EtcdError};
use tokio::sync::mpsc;
use warp::reply::{Reply, Response};

use super::params::KeyParams;
use super::{reply, AppState};
use crate::state::SharedState;
use crate::store::Event;
use crate::watch::WatcherId;

/// Registers the watch (or answers from history) and returns the streaming response.
pub async fn handle(st: &AppState, key: &str, p: &KeyParams) -> Response {
    let (first, registration, start_index) = {
        let mut state = st.raft.state.write().expect("store lock poisoned");
        let current = state.store.index();
        let mut first = None;
        let mut since = current + 1;
        if p.wait_index > 0 && p.wait_index <= current {
            match state.store.history_since(key, p.recursive, p.wait_index) {
                Err(e) => return reply::error(&e),
                Ok(Some(ev)) => {
                    since = ev.index + 1;
                    first = Some(Arc::new(ev));
                }
                Ok(None) => {}
            }
        } else if p.wait_index > current {
            since = p.wait_index;
        }
        let registration = if first.is_some() && !p.stream {
            None
        } else {
            match state.hub.add(key, p.recursive, since, p.stream) {
                Some(r) => Some(r),
                None => {
                    return reply::error(&EtcdError::new(
                        ErrorCode::RaftInternal,
                        "too many watchers",
                        current,
                    ))
                }
            }
        };
        (first, registration, current)
    };
    let body = WatchBody {
        first,
        registration: registration.map(|(id, rx)| Registration {
            id,
            rx,
            state: st.raft.state.clone(),
        }),
        stream: p.stream,
        done: false,
    };
    let mut resp = warp::reply::stream(body).into_response();
    resp.headers_mut().insert(
        "content-type",
        warp::http::HeaderValue::from_static("application/json"),
    );
    reply::add_index_headers(&mut resp, st, start_index);
    resp
}

/// A watcher's place in the hub; dropping it removes the watcher.
struct Registration {
    id: WatcherId,
    rx: mpsc::Receiver<Arc<Event>>,
    state: SharedState,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut st) = self.state.write() {
            st.hub.remove(self.id);
        }
    }
}

/// The response body: the events, one JSON object and a newline each.
struct WatchBody {
    first: Option<Arc<Event>>,
    registration: Option<Registration>,
    stream: bool,
    done: bool,
}

fn encode(ev: &Event) -> Bytes {
    let mut v = serde_json::to_vec(&ev.response()).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

impl futures::Stream for WatchBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(ev) = self.first.take() {
            if !self.stream {
                self.done = true;
                self.registration = None;
            }
            return Poll::Ready(Some(Ok(encode(&ev))));
        }
        let stream = self.stream;
        let Some(reg) = self.registration.as_mut() else {
            return Poll::Ready(None);
        };
        match reg.rx.poll_recv(cx) {
            Poll::Ready(Some(ev)) => {
                if !stream {
                    self.done = true;
                    self.registration = None;
                }
                Poll::Ready(Some(Ok(encode(&ev))))
            }
            // The hub dropped us (too slow a stream, or shutdown): end the body; clients
            // re-watch from their last index.
            Poll::Ready(None) => {
                self.done = true;
                self.registration = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
