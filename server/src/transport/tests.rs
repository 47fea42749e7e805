//! The sending half against real HTTP servers on loopback: one that streams, and one of a
//! version before streams.

use std::sync::Mutex;

use raft::eraftpb::Entry;
use tokio::net::TcpListener;
use warp::reply::Response;
use warp::Filter;

use super::*;

/// What a transport handed back.
#[derive(Default)]
struct Collected {
    delivered: Mutex<Vec<Message>>,
    reports: Mutex<Vec<PeerReport>>,
}

impl PeerSink for Collected {
    fn deliver(&self, msg: Message) {
        self.delivered.lock().unwrap().push(msg);
    }
    fn report(&self, report: PeerReport) {
        self.reports.lock().unwrap().push(report);
    }
}

fn append(from: u64, to: u64, n: u64) -> Message {
    let mut m = Message::default();
    m.set_msg_type(MessageType::MsgAppend);
    m.from = from;
    m.to = to;
    m.index = n;
    m.mut_entries().push(Entry {
        index: n + 1,
        data: vec![n as u8; 100].into(),
        ..Default::default()
    });
    m
}

fn transport(me: u64, sink: Arc<Collected>, dir: &std::path::Path) -> Arc<Transport> {
    let t = Transport::new(
        me,
        tokio::runtime::Handle::current(),
        reqwest::Client::new(),
        SnapshotFiles::open(dir).unwrap(),
        sink,
    );
    t.set_cluster_id(0xc1);
    t.set_peers(PeerTable {
        members: vec![1, 2],
        cluster_id: 0xc1,
        ..Default::default()
    });
    t
}

/// Serves `filter` on an ephemeral loopback port; its URL.
async fn serve<F>(filter: F) -> String
where
    F: Filter<Extract = (Response,), Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        let _stop = _stop;
        crate::http::serve(listener, filter, stopped, None, 16).await
    });
    url
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_stream_to_a_peer_in_order_on_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let received = Arc::new(Collected::default());
    let receiver = transport(2, received.clone(), &dir.path().join("2"));
    let streams = Arc::new(AtomicU64::new(0));
    let (r, n) = (receiver.clone(), streams.clone());
    let url = serve(
        warp::post()
            .and(warp::path!("raft" / "stream"))
            .and(warp::body::stream())
            .then(move |body| {
                let (r, n) = (r.clone(), n.clone());
                async move {
                    n.fetch_add(1, Ordering::SeqCst);
                    let chunks =
                        crate::api::peer::chunks(body, crate::api::body::STREAM_IDLE_TIMEOUT);
                    let ok = r.receive_stream(1, Box::pin(chunks)).await.is_ok();
                    crate::api::reply::with_body(
                        if ok { 204 } else { 400 },
                        "text/plain",
                        String::new(),
                    )
                }
            })
            .or(warp::any().map(|| crate::api::reply::with_body(404, "text/plain", "no".into())))
            .unify(),
    )
    .await;
    let sent = Arc::new(Collected::default());
    let sender = transport(1, sent.clone(), &dir.path().join("1"));
    sender.hint(2, url);
    for n in 0..300 {
        sender.send(vec![append(1, 2, n)]);
        if n % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    wait_for("every message arriving", || {
        received.delivered.lock().unwrap().len() == 300
    })
    .await;
    let order: Vec<u64> = received
        .delivered
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.index)
        .collect();
    assert_eq!(order, (0..300).collect::<Vec<_>>());
    assert_eq!(
        streams.load(Ordering::SeqCst),
        1,
        "one stream carried them all"
    );
    assert!(sent.reports.lock().unwrap().is_empty());
    assert_eq!(sender.follower_stats()[&2].counts.success, 300);
    // The receiver ends the stream when it shuts down; the sender opens a new one for the
    // next message, which is refused (shutting down) and reported.
    receiver.close_streams();
    tokio::time::sleep(Duration::from_millis(50)).await;
    sender.send(vec![append(1, 2, 300)]);
    wait_for("the refusal reported", || {
        sent.reports
            .lock()
            .unwrap()
            .contains(&PeerReport::Unreachable(2))
    })
    .await;
    assert_eq!(received.delivered.lock().unwrap().len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_without_streams_is_sent_a_request_per_batch_until_it_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let got = Arc::new(Mutex::new(Vec::<Message>::new()));
    let streamed = Arc::new(AtomicU64::new(0));
    let upgraded = Arc::new(AtomicBool::new(false));
    let (g, up) = (got.clone(), upgraded.clone());
    let per_batch = warp::post()
        .and(warp::path!("raft"))
        .and(warp::body::bytes())
        .map(move |b: bytes::Bytes| {
            // Once upgraded, the old version's process is gone: its port fails.
            if up.load(Ordering::SeqCst) {
                return crate::api::reply::with_body(503, "text/plain", String::new());
            }
            g.lock().unwrap().extend(wire::decode_batch(&b).unwrap());
            crate::api::reply::with_body(204, "text/plain", String::new())
        });
    let (g, up, n) = (got.clone(), upgraded.clone(), streamed.clone());
    let stream = warp::post()
        .and(warp::path!("raft" / "stream"))
        .and(warp::body::stream())
        .then(move |body| {
            let (g, up, n) = (g.clone(), up.clone(), n.clone());
            async move {
                // A version before streams answers 404.
                if !up.load(Ordering::SeqCst) {
                    return crate::api::reply::with_body(404, "text/plain", "no".into());
                }
                let mut chunks =
                    crate::api::peer::chunks(body, crate::api::body::STREAM_IDLE_TIMEOUT);
                let mut frames = wire::FrameReader::default();
                while let Some(Ok(chunk)) = futures::StreamExt::next(&mut chunks).await {
                    frames.push(&chunk);
                    while let Some(m) = frames.next_message().unwrap() {
                        n.fetch_add(1, Ordering::SeqCst);
                        g.lock().unwrap().push(m);
                    }
                }
                crate::api::reply::with_body(204, "text/plain", String::new())
            }
        });
    let other = warp::any().map(|| crate::api::reply::with_body(404, "text/plain", "".into()));
    let url = serve(per_batch.or(stream).unify().or(other).unify()).await;
    let sent = Arc::new(Collected::default());
    let sender = transport(1, sent.clone(), dir.path());
    sender.hint(2, url);
    // The first messages may go into the stream the peer turns down; raft resends those.
    let mut n = 0;
    wait_for("messages arriving by requests", || {
        sender.send(vec![append(1, 2, n)]);
        n += 1;
        got.lock().unwrap().len() >= 5
    })
    .await;
    for m in 1000..1010 {
        sender.send(vec![append(1, 2, m)]);
    }
    let indexes = |from: u64| -> Vec<u64> {
        let got = got.lock().unwrap();
        got.iter().map(|m| m.index).filter(|i| *i >= from).collect()
    };
    wait_for("every later message arriving", || indexes(1000).len() == 10).await;
    assert_eq!(indexes(1000), (1000..1010).collect::<Vec<_>>());
    assert_eq!(streamed.load(Ordering::SeqCst), 0);
    // The peer is upgraded: a failed request, then the sender tries a stream again.
    upgraded.store(true, Ordering::SeqCst);
    let mut n = 2000;
    wait_for("messages arriving on a stream", || {
        sender.send(vec![append(1, 2, n)]);
        n += 1;
        streamed.load(Ordering::SeqCst) >= 5
    })
    .await;
}
