//! `watch` and `exec-watch`: long polls that survive dropped connections and server restarts.
//!
//! Each poll asks for `waitIndex = last seen + 1`, so a reconnect replays from etcd's event
//! history whatever happened while we were away. Before the first event, the index the watch
//! was registered at (`X-Etcd-Index` + 1) plays that role. When etcd has already forgotten
//! that index (errorCode 401) changes were missed: the watch fails with that error (exit 4),
//! as the Go etcdctl's does, so a script sees the gap.

use std::process::Command;
use std::time::Duration;

use common::ErrorCode;

use crate::client::{interpret_keys, keys_path, Answer, Client, RawReply};
use crate::failure::Failure;
use crate::output::Printer;

/// First pause after a failed poll.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// Longest pause between retries: a restarted server is noticed within this.
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Doubling backoff, capped at [`BACKOFF_MAX`].
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff {
            next: BACKOFF_START,
        }
    }

    /// The pause to take now; the following one is twice as long, up to the cap.
    fn step(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        now
    }

    fn reset(&mut self) {
        self.next = BACKOFF_START;
    }
}

/// A resumable watch on one key or subtree.
pub struct Watcher<'a> {
    client: &'a Client,
    out: &'a Printer,
    key: String,
    recursive: bool,
    /// The `waitIndex` of the next poll; 0 means "from now" (not yet registered).
    next_index: u64,
    /// Whether a poll ever reached a server: before that, failing to connect is an error
    /// (as with any command); after, it is an outage to wait out.
    established: bool,
    backoff: Backoff,
}

/// What one poll came back with.
enum Poll {
    Event(Box<Answer>),
    /// The connection failed or dropped; try again after a pause.
    Retry(String),
}

impl<'a> Watcher<'a> {
    /// A watch from just after `after_index`, or from now.
    pub fn new(
        client: &'a Client,
        out: &'a Printer,
        key: String,
        recursive: bool,
        after_index: Option<u64>,
    ) -> Watcher<'a> {
        Watcher {
            client,
            out,
            key,
            recursive,
            // 0 is "from now", as in the Go etcdctl (not "from index 1").
            next_index: after_index
                .filter(|i| *i > 0)
                .map_or(0, |i| i.saturating_add(1)),
            established: false,
            backoff: Backoff::new(),
        }
    }

    fn poll(&mut self) -> Result<Poll, Failure> {
        let mut query = vec![
            ("recursive", self.recursive.to_string()),
            ("wait", "true".to_string()),
        ];
        if self.next_index > 0 {
            query.push(("waitIndex", self.next_index.to_string()));
        }
        let path = keys_path(&self.key, &query);
        let (resp, ep) = match self.client.open(reqwest::Method::GET, &path, None, true) {
            Ok(r) => r,
            Err(Failure::Connection(errs)) if self.established => {
                return Ok(Poll::Retry(errs.join("; ")))
            }
            Err(e) => return Err(e),
        };
        self.established = true;
        let status = resp.status().as_u16();
        let etcd_index = crate::client::etcd_index_of(&resp);
        if self.next_index == 0 && status == 200 && etcd_index > 0 {
            // Registered: a reconnect must not miss what happens from here on.
            self.next_index = etcd_index + 1;
        }
        let body = match resp.text() {
            Ok(b) if !b.trim().is_empty() => b,
            Ok(_) => return Ok(Poll::Retry(format!("{ep} closed the watch"))),
            Err(e) => return Ok(Poll::Retry(format!("{ep} dropped the watch: {e}"))),
        };
        let reply = RawReply {
            status,
            etcd_index,
            body,
        };
        match interpret_keys(reply, &ep) {
            Ok(a) => {
                if let Some(n) = &a.body.node {
                    self.next_index = n.modified_index.saturating_add(1);
                }
                Ok(Poll::Event(Box::new(a)))
            }
            Err(Failure::Etcd { body, raw })
                if body.code() == Some(ErrorCode::EventIndexCleared) =>
            {
                // A gap a script must see: fail (exit 4) rather than go on from now.
                self.out.warn(&format!(
                    "etcd no longer remembers the changes since index {}: changes were missed",
                    self.next_index
                ));
                Err(Failure::Etcd { body, raw })
            }
            // A server that is electing a leader, has just recovered from a snapshot (400) or
            // answers garbage mid-restart is an outage to wait out, like a dropped connection.
            Err(Failure::Etcd { body, .. })
                if matches!(
                    body.code(),
                    Some(
                        ErrorCode::RaftInternal
                            | ErrorCode::LeaderElect
                            | ErrorCode::WatcherCleared
                    )
                ) =>
            {
                Ok(Poll::Retry(body.to_string()))
            }
            Err(Failure::Server(msg)) => Ok(Poll::Retry(msg)),
            Err(e) => Err(e),
        }
    }

    /// Waits for the next change, however long it takes and however often the connection
    /// drops. Returns an error for a failure before the watch was ever established, for a
    /// gap in the changes (401), and for any other etcd error that is not an outage.
    pub fn next_event(&mut self) -> Result<Answer, Failure> {
        loop {
            match self.poll()? {
                Poll::Event(a) => {
                    self.backoff.reset();
                    return Ok(*a);
                }
                Poll::Retry(why) if why.is_empty() => {}
                Poll::Retry(why) => {
                    let pause = self.backoff.step();
                    self.out.warn(&format!(
                        "watch interrupted ({why}); retrying in {pause:?} from index {}",
                        self.next_index
                    ));
                    std::thread::sleep(pause);
                }
            }
        }
    }
}

/// `etcdctl watch`.
pub fn watch(
    mut w: Watcher<'_>,
    out: &Printer,
    forever: bool,
    recursive: bool,
) -> Result<(), Failure> {
    loop {
        let a = w.next_event()?;
        if a.body.node.as_ref().is_some_and(|n| n.dir) {
            // A directory made or removed under a recursive watch: the Go etcdctl waits on.
            continue;
        }
        out.write_watch_event(&a, recursive);
        if !forever {
            return Ok(());
        }
    }
}

/// The environment a command gets for one change.
pub fn watch_env(a: &Answer) -> Vec<(&'static str, String)> {
    let node = a.body.node.clone().unwrap_or_default();
    vec![
        ("ETCD_WATCH_ACTION", a.body.action.clone()),
        ("ETCD_WATCH_KEY", node.key),
        ("ETCD_WATCH_VALUE", node.value.unwrap_or_default()),
        ("ETCD_WATCH_MODIFIED_INDEX", node.modified_index.to_string()),
    ]
}

/// `etcdctl exec-watch`: runs `command` once per change to a key (directories skipped), one
/// run at a time so the runs see changes in order. A command that cannot start or fails is
/// reported and the watch goes on: exec-watch never stops by itself.
pub fn exec_watch(mut w: Watcher<'_>, out: &Printer, command: &[String]) -> Result<(), Failure> {
    let Some((program, args)) = command.split_first() else {
        return Err(Failure::BadArgs("key and command to exec required".into()));
    };
    loop {
        let a = w.next_event()?;
        if let Some(n) = a.body.node.as_ref().filter(|n| n.dir) {
            eprintln!("Ignored dir {} change", n.key);
            continue;
        }
        let status = Command::new(program)
            .args(args)
            .envs(watch_env(&a))
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => out.warn(&format!("{program} exited with {s}")),
            Err(e) => out.warn(&format!("cannot run {program}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let mut b = Backoff::new();
        let steps: Vec<_> = (0..9).map(|_| b.step()).collect();
        assert_eq!(steps[0], Duration::from_millis(100));
        assert_eq!(steps[1], Duration::from_millis(200));
        assert_eq!(steps[5], Duration::from_millis(3200));
        assert_eq!(steps[6], BACKOFF_MAX);
        assert_eq!(steps[8], BACKOFF_MAX);
        b.reset();
        assert_eq!(b.step(), BACKOFF_START);
    }

    #[test]
    fn env_names_the_change() {
        let a = Answer {
            body: serde_json::from_str(
                r#"{"action":"set","node":{"key":"/wk","value":"v9","modifiedIndex":7,"createdIndex":7}}"#,
            )
            .expect("parse"),
            etcd_index: 7,
        };
        assert_eq!(
            watch_env(&a),
            vec![
                ("ETCD_WATCH_ACTION", "set".to_string()),
                ("ETCD_WATCH_KEY", "/wk".to_string()),
                ("ETCD_WATCH_VALUE", "v9".to_string()),
                ("ETCD_WATCH_MODIFIED_INDEX", "7".to_string()),
            ]
        );
    }
}
