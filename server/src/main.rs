//! `etcd`: parse flags, open the data dir, start raft, serve the client and peer ports, and
//! stop cleanly on SIGINT or SIGTERM, or when the raft loop ends. Exit code 0 for a stop or a
//! removal from the cluster, 1 for a start-up failure, 2 when the raft loop failed (storage,
//! a panic).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use etcd_server::config::{normalise_args, Config, Flags};
use etcd_server::{config_file, server};

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let argv = normalise_args(std::env::args());
    let parsed = Flags::command()
        .try_get_matches_from(argv)
        .and_then(|m| Flags::from_arg_matches(&m).map(|f| (f, m)));
    let flags = match parsed {
        Ok((mut f, m)) => match config_file::apply(&mut f, &m) {
            Ok(()) => f,
            Err(e) => {
                eprintln!("etcd: {e}");
                return ExitCode::from(1);
            }
        },
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(what) = &flags.generate {
        use std::io::Write;
        let out = etcd_server::generate::generate(what);
        let _ = std::io::stdout().write_all(&out);
        return ExitCode::SUCCESS;
    }
    let cfg = match Config::from_flags(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("etcd: {e}");
            return ExitCode::from(1);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ETCD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cfg.log_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match server::run(cfg) {
        Ok(exit) if exit.is_success() => ExitCode::SUCCESS,
        Ok(exit) => {
            eprintln!("etcd: {exit}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("etcd: {e}");
            ExitCode::from(1)
        }
    }
}
