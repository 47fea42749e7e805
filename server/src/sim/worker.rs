//! A thread per member incarnation, on which everything that touches its raft-engine runs.
//!
//! raft-engine caches the last block it read in a thread-local, keyed by file number, offset
//! and length; those repeat across engines (every member's first log file is number 1) and
//! across a crash (a torn tail rewritten at the same place). Members sharing the simulation's
//! thread would read each other's entries, or their own from before a crash. The member's
//! loop moves to its worker for each turn and back, one at a time, so the run stays exactly
//! as sequential (and deterministic) as on one thread.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// One member incarnation's thread.
pub struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// A new thread, idle until given work.
    pub fn new() -> Worker {
        let (jobs, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sim-member".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .expect("a sim worker thread");
        Worker {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Runs `f` on the worker and waits for it; a panic there is raised here.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        });
        self.jobs
            .as_ref()
            .expect("a live worker")
            .send(job)
            .expect("the sim worker runs");
        match rx.recv().expect("the sim worker answers") {
            Ok(v) => v,
            Err(panic) => resume_unwind(panic),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
