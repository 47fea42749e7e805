//! Long-poll watches: headers go out at once; the body is the first matching event (or, with
//! `stream=true`, one JSON line per event). The watcher leaves the hub when its response is
//! dropped, so a client that goes away leaks nothing. Where the watch starts (history or
//! live) is the state's decision ([`crate::state::SharedState::watch`]); this is the body.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::EtcdError;
use warp::reply::{Reply, Response};

use super::params::KeyParams;
use super::{reply, AppState};
use crate::state::{Registration, WatchStart};
use crate::store::{Event, KeyPath};

/// Starts the watch (answered from history, or registered) and returns the streaming
/// response.
pub async fn handle(st: &AppState, key: &KeyPath, p: &KeyParams) -> Response {
    let start = match st
        .raft
        .state
        .watch(key, p.recursive, p.wait_index, p.stream)
    {
        Ok(start) => start,
        Err(e) => return reply::error(&e),
    };
    let start_index = start.index();
    let (history, registration) = match start {
        WatchStart::Immediate { event, .. } => (VecDeque::from([event]), None),
        WatchStart::Registered {
            replay, watcher, ..
        } => (replay, Some(watcher)),
    };
    let body = WatchBody {
        history,
        registration,
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
    ev.shared_json_line()
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
        if let Some(reg) = self.registration.take() {
            if fired {
                reg.release_fired();
            }
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
        match reg.poll_recv(cx) {
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
