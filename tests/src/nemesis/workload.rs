//! The clients of a nemesis run: writers, swappers, deleters and readers (quorum and default
//! GETs, both linearizable) on a few register keys, creators of append-only keys, TTL keys,
//! and one watcher; every operation recorded with its invoke and complete time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::linearizable::{Answer, Call, Operation};

/// How long a client waits for one answer before it counts the outcome as unknown.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(4);

/// The members' client URLs, updated by the fault schedule when a member moves.
pub type Endpoints = Arc<RwLock<Vec<String>>>;

/// A small deterministic generator (splitmix64): a seed gives the same choices.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// An HTTP outcome, reduced to what the checks need.
enum Outcome {
    /// The server answered with this status and body (and `X-Etcd-Index`, when given).
    Answered(u16, String, Option<u64>),
    /// Nothing was sent (connection refused): the request had no effect.
    NotSent,
    /// Sent, but no answer: it may or may not have taken effect.
    Lost,
}

/// A fresh connection per request: ureq resends a PUT or DELETE that failed on a pooled
/// connection (HTTP calls them idempotent; a swap or a delete is not), and a resent request
/// that runs twice records a history no server produced (a swap that applied, answered 412
/// on its second run).
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(2))
        .timeout(ANSWER_TIMEOUT)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .build()
}

fn send(agent: &ureq::Agent, method: &str, url: &str, form: Option<&str>) -> Outcome {
    let req = agent.request(method, url);
    let res = match form {
        Some(body) => req
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(body),
        None => req.call(),
    };
    match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => {
            let status = r.status();
            let index = r.header("x-etcd-index").and_then(|v| v.parse().ok());
            match r.into_string() {
                Ok(body) => Outcome::Answered(status, body, index),
                Err(_) => Outcome::Lost,
            }
        }
        Err(ureq::Error::Transport(t)) => {
            let refused = std::error::Error::source(&t)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
            if refused || t.kind() == ureq::ErrorKind::ConnectionFailed {
                Outcome::NotSent
            } else {
                Outcome::Lost
            }
        }
    }
}

fn error_code(body: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("errorCode")?
        .as_u64()
}

/// What every client records, shared.
#[derive(Default)]
pub struct Records {
    /// Register operations, by key index.
    pub registers: Vec<Vec<Operation>>,
    /// Append-only keys acknowledged as created, with their index.
    pub created: Vec<(String, u64)>,
    /// Append-only keys whose create had an unknown outcome.
    pub maybe_created: Vec<String>,
    /// Requests that failed for sure (no effect), by any client.
    pub failed: usize,
    /// Why they failed: `refused`, `no answer` (reads) or the status and errorCode.
    pub failures: std::collections::BTreeMap<String, usize>,
    /// Operations of every kind sent.
    pub sent: usize,
}

/// The shared setting of a run's clients.
pub struct Workload {
    /// Where to send requests.
    pub endpoints: Endpoints,
    /// The run's origin: times are nanoseconds since it.
    pub start: Instant,
    /// Set when the clients are to stop.
    pub stop: Arc<AtomicBool>,
    /// Everything recorded.
    pub records: Arc<Mutex<Records>>,
    /// Register keys.
    pub keys: usize,
}

/// Register key `k`'s path.
pub fn register_key(k: usize) -> String {
    format!("/nemesis/reg/k{k}")
}

impl Workload {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn endpoint(&self, rng: &mut Rng) -> String {
        let all = self.endpoints.read().unwrap();
        all[rng.below(all.len())].clone()
    }

    /// One client's loop until `stop`: picks an operation, a member and a key at random.
    pub fn client(&self, id: usize, seed: u64) {
        let agent = agent();
        let mut rng = Rng::new(seed);
        let mut seq = 0u64;
        let mut last_seen: Vec<Option<String>> = vec![None; self.keys];
        while !self.stop.load(Ordering::Relaxed) {
            seq += 1;
            let base = self.endpoint(&mut rng);
            let roll = rng.below(100);
            if roll < 15 {
                self.create(&agent, &base, id, seq);
                continue;
            }
            if roll < 20 {
                let url = format!("{base}/v2/keys/nemesis/ttl/c{id}-{seq}");
                let _ = send(&agent, "PUT", &url, Some("value=t&ttl=1"));
                self.records.lock().unwrap().sent += 1;
                continue;
            }
            let k = rng.below(self.keys);
            let url = format!("{base}/v2/keys{}", register_key(k));
            let value = format!("c{id}-{seq}");
            let (call, method, url, form) = match roll {
                20..=49 => (
                    Call::Write(value.clone()),
                    "PUT",
                    url,
                    Some(format!("value={value}")),
                ),
                50..=69 => {
                    let expect = last_seen[k].clone().unwrap_or_else(|| "none".into());
                    let form = format!("value={value}");
                    let url = format!("{url}?prevValue={expect}");
                    let call = Call::Cas {
                        expect,
                        new: value.clone(),
                    };
                    (call, "PUT", url, Some(form))
                }
                70..=77 => (Call::Delete, "DELETE", url, None),
                // Default GETs are linearizable too (no -local-reads): half the reads are
                // checked without quorum=true.
                _ if seq.is_multiple_of(2) => {
                    (Call::Read, "GET", format!("{url}?quorum=true"), None)
                }
                _ => (Call::Read, "GET", url, None),
            };
            let invoke = self.now();
            let outcome = send(&agent, method, &url, form.as_deref());
            let complete = self.now();
            let mut why = String::new();
            let answer = match (&call, outcome) {
                (_, Outcome::NotSent) => {
                    why = "refused".into();
                    None
                }
                (Call::Read, Outcome::Lost) => {
                    why = "no answer".into();
                    None
                }
                (_, Outcome::Lost) => Some(Answer::Unknown),
                (call, Outcome::Answered(status, body, _)) => {
                    why = format!("{status}/{}", error_code(&body).unwrap_or(0));
                    answer_of(call, status, &body)
                }
            };
            if let Some(Answer::Value(v)) = &answer {
                last_seen[k] = v.clone();
            }
            if matches!(answer, Some(Answer::Done)) {
                if let Call::Write(v) | Call::Cas { new: v, .. } = &call {
                    last_seen[k] = Some(v.clone());
                }
            }
            let mut r = self.records.lock().unwrap();
            r.sent += 1;
            match answer {
                Some(answer) => r.registers[k].push(Operation {
                    client: id,
                    call,
                    answer,
                    invoke,
                    complete,
                }),
                None => {
                    r.failed += 1;
                    *r.failures.entry(why).or_insert(0) += 1;
                }
            }
        }
    }

    /// Creates an append-only key (`prevExist=false`) and records its index when acknowledged.
    fn create(&self, agent: &ureq::Agent, base: &str, id: usize, seq: u64) {
        let key = format!("/nemesis/log/c{id}-{seq}");
        let url = format!("{base}/v2/keys{key}?prevExist=false");
        let outcome = send(agent, "PUT", &url, Some("value=x"));
        let mut r = self.records.lock().unwrap();
        r.sent += 1;
        match outcome {
            Outcome::Answered(201, body, _) => {
                let index = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["node"]["modifiedIndex"].as_u64())
                    .unwrap_or_else(|| panic!("201 without an index: {body}"));
                r.created.push((key, index));
            }
            Outcome::Answered(status, _, _) if status >= 500 => r.maybe_created.push(key),
            Outcome::Lost => r.maybe_created.push(key),
            Outcome::NotSent => {
                r.failed += 1;
                *r.failures.entry("refused".into()).or_insert(0) += 1;
            }
            Outcome::Answered(status, body, _) => {
                r.failed += 1;
                let why = format!("{status}/{}", error_code(&body).unwrap_or(0));
                *r.failures.entry(why).or_insert(0) += 1;
            }
        }
    }
}

/// The answer a status and body give to `call`; `None` when it surely had no effect.
fn answer_of(call: &Call, status: u16, body: &str) -> Option<Answer> {
    // A server error (a proposal that timed out, a member catching up) may have taken effect.
    let unknown = status >= 500 || status == 300;
    match call {
        Call::Read => match (status, error_code(body)) {
            (200, _) => {
                let v: serde_json::Value = serde_json::from_str(body).ok()?;
                Some(Answer::Value(v["node"]["value"].as_str().map(Into::into)))
            }
            (404, Some(100)) => Some(Answer::Value(None)),
            _ => None,
        },
        _ if unknown => Some(Answer::Unknown),
        Call::Write(_) => matches!(status, 200 | 201).then_some(Answer::Done),
        Call::Cas { .. } => match (status, error_code(body)) {
            (200 | 201, _) => Some(Answer::Done),
            (412, Some(101)) => Some(Answer::CompareFailed),
            (404, Some(100)) => Some(Answer::NotFound),
            _ => None,
        },
        Call::Delete => match (status, error_code(body)) {
            (200, _) => Some(Answer::Done),
            (404, Some(100)) => Some(Answer::NotFound),
            _ => None,
        },
    }
}

/// What the watcher saw of the append-only keys.
#[derive(Default, Debug)]
pub struct WatchLog {
    /// (key, modifiedIndex) of each event, in arrival order.
    pub events: Vec<(String, u64)>,
    /// Index ranges the watcher was told it missed (401 index cleared, 400 recovery).
    pub gaps: Vec<(u64, u64)>,
    /// Index the watcher would ask for next when it stopped.
    pub next: u64,
    /// Events that arrived out of index order.
    pub disorder: Vec<String>,
}

impl Workload {
    /// Long-polls `/nemesis/log` recursively from index 1, one event at a time, moving to
    /// another member when one does not answer.
    pub fn watcher(&self, seed: u64) -> WatchLog {
        let agent = agent();
        let mut rng = Rng::new(seed);
        let mut log = WatchLog {
            next: 1,
            ..WatchLog::default()
        };
        while !self.stop.load(Ordering::Relaxed) {
            let base = self.endpoint(&mut rng);
            let url = format!(
                "{base}/v2/keys/nemesis/log?wait=true&recursive=true&waitIndex={}",
                log.next
            );
            let Outcome::Answered(status, body, current) = send(&agent, "GET", &url, None) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
                continue;
            };
            match (status, v["errorCode"].as_u64()) {
                (200 | 201, _) => {
                    let key = v["node"]["key"].as_str().unwrap_or_default().to_string();
                    let index = v["node"]["modifiedIndex"].as_u64().unwrap_or(0);
                    if index < log.next {
                        log.disorder
                            .push(format!("{key} at {index} after asking from {}", log.next));
                    } else {
                        log.next = index + 1;
                    }
                    log.events.push((key, index));
                }
                (_, Some(401)) => {
                    // The history moved past us: resume after the index the error names.
                    let now = v["index"].as_u64().unwrap_or(log.next);
                    log.gaps.push((log.next, now));
                    log.next = now + 1;
                }
                (_, Some(400)) => {
                    // Cleared by a snapshot install: resume from the member's current index.
                    let now = current.unwrap_or(log.next);
                    log.gaps.push((log.next, now));
                    log.next = now + 1;
                }
                _ => {}
            }
        }
        log
    }
}
