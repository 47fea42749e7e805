//! `etcdctl`: a command-line client for the etcd v2 API, a drop-in for the Go etcdctl
//! (`ETCDCTL_API=2`): same commands, output and exit codes, plus export/import, completions
//! and man pages.

mod cli;
mod cli_auth;
mod client;
mod commands;
mod failure;
mod generate;
mod go_json;
mod output;
mod tls;

use std::io::Write;

use clap::Parser;

use cli::{Cli, Cmd};
use client::{Client, Settings};
use commands::watch::Watcher;
use failure::{ExitCode, Failure};
use output::{Colour, Printer};
use tls::TlsFiles;

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, turning a closed pipe (`etcdctl ls | head -1`) into a panic in
    // println!; the default action ends the process quietly, as for any Unix tool.
    // SAFETY: setting a signal's disposition to SIG_DFL before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with 0; bad arguments exit 1, as the Go etcdctl.
            let code = if e.use_stderr() {
                ExitCode::BadArgs
            } else {
                ExitCode::Success
            };
            let _ = e.print();
            return std::process::ExitCode::from(code as u8);
        }
    };
    let out = Printer::new(cli.global.output, Colour::detect());
    let (result, synced) = run(&cli, &out);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(f) => {
            out.write_failure(&f);
            std::process::ExitCode::from(f.exit_code(synced) as u8)
        }
    }
}

/// Whether a command talks to the cluster (completion and man do not).
fn needs_cluster(cmd: &Cmd) -> bool {
    !matches!(
        cmd,
        Cmd::Completion { .. } | Cmd::Man { .. } | Cmd::Backup { .. }
    )
}

/// Runs the command; also says whether the member list sync was attempted (for the exit code).
fn run(cli: &Cli, out: &Printer) -> (Result<(), Failure>, bool) {
    if !needs_cluster(&cli.command) {
        return (run_local(&cli.command), false);
    }
    let g = &cli.global;
    let settings = Settings {
        endpoints: g.endpoint_list(),
        timeout: g.timeout,
        total_timeout: g.total_timeout,
        tls: TlsFiles {
            cert: g.cert_file.clone(),
            key: g.key_file.clone(),
            ca: g.ca_file.clone(),
        },
        debug: g.debug,
        credentials: match &g.username {
            Some(arg) => match commands::auth::split_credentials(arg, "Password: ") {
                Ok(c) => Some(c),
                Err(f) => return (Err(f), false),
            },
            None => None,
        },
    };
    let mut client = match Client::new(&settings) {
        Ok(c) => c,
        Err(f) => return (Err(f), false),
    };
    // cluster-health lists members itself, from the given endpoints, as the Go tool does.
    let sync = !g.no_sync && !matches!(cli.command, Cmd::ClusterHealth { .. });
    if sync {
        client.sync();
    }
    if matches!(cli.command, Cmd::Import { .. } | Cmd::Export { .. }) {
        // Moving a large tree takes as long as it takes; each request keeps --timeout.
        client.clear_total_timeout();
    }
    (run_remote(&cli.command, &client, out, g.no_sync), sync)
}

fn run_remote(cmd: &Cmd, client: &Client, out: &Printer, no_sync: bool) -> Result<(), Failure> {
    if commands::keys::run(cmd, client, out)? {
        return Ok(());
    }
    match cmd {
        Cmd::Watch {
            key,
            forever,
            after_index,
            recursive,
        } => {
            let w = Watcher::new(
                client,
                out,
                commands::keys::key_arg(key),
                *recursive,
                *after_index,
            );
            commands::watch::watch(w, out, *forever, *recursive)
        }
        Cmd::ExecWatch {
            key,
            after_index,
            recursive,
            command,
        } => {
            let w = Watcher::new(
                client,
                out,
                commands::keys::key_arg(key),
                *recursive,
                *after_index,
            );
            commands::watch::exec_watch(w, out, command)
        }
        Cmd::Member(m) => commands::members::run(m, client),
        Cmd::User(u) => commands::auth::user(u, client, no_sync),
        Cmd::Role(r) => commands::auth::role(r, client, no_sync),
        Cmd::Auth(a) => commands::auth::auth(a, client, no_sync),
        Cmd::ClusterHealth { forever } => commands::health::run(client, *forever),
        Cmd::Export {
            key,
            include_hidden,
        } => commands::export::export(client, key.as_deref().unwrap_or("/"), include_hidden),
        Cmd::Import { file, jobs } => commands::export::import(client, file, usize::from(*jobs)),
        Cmd::Backup {
            data_dir,
            backup_dir,
        } => commands::backup::run(data_dir, backup_dir),
        other => Err(Failure::BadArgs(format!("unexpected command {other:?}"))),
    }
}

fn run_local(cmd: &Cmd) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::BadArgs(e.to_string());
    match cmd {
        Cmd::Completion { shell } => stdout
            .write_all(&generate::etcdctl_completion(*shell))
            .map_err(io),
        Cmd::Man { dir: None } => {
            let pages = generate::etcdctl_man_pages();
            let (_, main_page) = pages
                .first()
                .ok_or_else(|| Failure::BadArgs("no man page".into()))?;
            stdout.write_all(main_page).map_err(io)
        }
        Cmd::Man { dir: Some(dir) } => {
            std::fs::create_dir_all(dir).map_err(io)?;
            for (name, page) in generate::etcdctl_man_pages() {
                std::fs::write(dir.join(name), page).map_err(io)?;
            }
            Ok(())
        }
        Cmd::Backup {
            data_dir,
            backup_dir,
        } => commands::backup::run(data_dir, backup_dir),
        other => Err(Failure::BadArgs(format!("unexpected command {other:?}"))),
    }
}
