//! The suite's progress on stderr: one bar over the planned measurements, its message the
//! current step and how many operations it has completed, and a log line per figure.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// The bar and the operation counter the loads advance.
pub struct Progress {
    bar: ProgressBar,
    /// Operations completed in the current step (the load engine increments it).
    pub ops: Arc<AtomicUsize>,
    step: Arc<std::sync::Mutex<String>>,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// A bar over `steps` measurements; hidden when `quiet` (and, by indicatif, when stderr is
    /// not a terminal).
    pub fn new(steps: usize, quiet: bool) -> Progress {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(steps as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let ops = Arc::new(AtomicUsize::new(0));
        let step = Arc::new(std::sync::Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        // A ticker rather than the load threads: they only bump an atomic per operation.
        let ticker = {
            let (bar, ops, step, stop) = (bar.clone(), ops.clone(), step.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let name = step.lock().expect("step name").clone();
                    bar.set_message(format!("{name}: {} ops", ops.load(Ordering::Relaxed)));
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        Progress {
            bar,
            ops,
            step,
            stop,
            ticker: Some(ticker),
        }
    }

    /// Starts the step `name`, resetting the operation count.
    pub fn start(&self, name: &str) {
        *self.step.lock().expect("step name") = name.to_string();
        self.ops.store(0, Ordering::Relaxed);
    }

    /// Ends a step, logging `line` above the bar (on stderr even when the bar is hidden).
    pub fn finish_step(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
        self.bar.inc(1);
    }

    /// Logs `line` above the bar.
    pub fn log(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}
