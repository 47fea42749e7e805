//! Long-poll watches: headers go out at once; the body is the first matching event (or, with
//! `stream=true`, one JSON line per event). The watcher leaves the hub when its response is
//! dropped, so a client that goes away leaks nothing.

use std::collections::VecDeque;
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
use crate::watch::{Delivery, WatcherId};

/// Registers the watch (or answers from history) and returns the streaming response.
pub async fn handle(st: &AppState, key: &str, p: &KeyParams) -> Response {
    let (history, registration, start_index) = {
        let mut state = st.raft.state.write().expect("store lock poisoned");
        let current = state.store.index();
        let mut history = VecDeque::new();
        let mut since = current + 1;
        if p.wait_index > 0 && p.wait_index <= current {
            // A stream replays every matching event still in the history, in index order,
            // then goes on live from the next index: no gap, no duplicate.
            let mut from = p.wait_index;
            while from <= current {
                match state.store.history_since(key, p.recursive, from) {
                    Err(e) => return reply::error(&e),
                    Ok(Some(ev)) => {
                        from = ev.index + 1;
                        history.push_back(Arc::new(ev));
                        if !p.stream {
                            break;
                        }
                    }
                    Ok(None) => break,
                }
            }
        } else if p.wait_index > current {
            since = p.wait_index;
        }
        let registration = if !history.is_empty() && !p.stream {
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
        (history, registration, current)
    };
    let body = WatchBody {
        history,
        registration: registration.map(|(id, rx)| Registration {
            id,
            rx,
            state: st.raft.state.clone(),
            in_hub: true,
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

/// A watcher's place in the hub; dropping it removes the watcher, unless the hub already let
/// it go (it fired, was too slow, or was cleared): then no lock is taken, so thousands of
/// fired watchers do not queue on the state lock the raft thread needs.
struct Registration {
    id: WatcherId,
    rx: mpsc::Receiver<Delivery>,
    state: SharedState,
    in_hub: bool,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.in_hub {
            return;
        }
        if let Ok(mut st) = self.state.write() {
            st.hub.remove(self.id);
        }
    }
}

/// The response body: the events, one JSON object and a newline each; a watch the hub
/// cleared ends with the error's JSON.
struct WatchBody {
    /// Events from the history, sent before the live ones.
    history: VecDeque<Arc<Event>>,
    registration: Option<Registration>,
    stream: bool,
    done: bool,
}

fn encode(ev: &Event) -> Bytes {
    let mut v = serde_json::to_vec(&ev.response()).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn encode_error(e: &EtcdError) -> Bytes {
    let mut v = serde_json::to_vec(&e.body()).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

impl WatchBody {
    /// Ends the body after this chunk; `fired`: the hub no longer holds the watcher.
    fn finish(&mut self, fired: bool) {
        self.done = true;
        if let Some(mut reg) = self.registration.take() {
            reg.in_hub &= !fired;
        }
    }
}

impl futures::Stream for WatchBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(ev) = self.history.pop_front() {
            if !self.stream {
                // Answered from history: never registered.
                self.finish(false);
            }
            return Poll::Ready(Some(Ok(encode(&ev))));
        }
        let stream = self.stream;
        let Some(reg) = self.registration.as_mut() else {
            return Poll::Ready(None);
        };
        match reg.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(ev))) => {
                if !stream {
                    self.finish(true);
                }
                Poll::Ready(Some(Ok(encode(&ev))))
            }
            Poll::Ready(Some(Err(e))) => {
                self.finish(true);
                Poll::Ready(Some(Ok(encode_error(&e))))
            }
            // The hub dropped us (too slow a stream, or shutdown): end the body; clients
            // re-watch from their last index.
            Poll::Ready(None) => {
                self.finish(true);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
