//! `etcdctl`: a command-line client for the etcd v2 keys API (first cut: the key commands).

mod cli;
mod client;
mod output;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Cmd};
use client::{Client, Failure};

/// Exit codes of the Go etcdctl (spec §10.4).
mod exit {
    pub const BAD_ARGS: u8 = 1;
    pub const BAD_CONNECTION: u8 = 2;
    pub const SERVER_ERROR: u8 = 4;
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with 0; bad arguments exit 1, as the Go etcdctl.
            let code = if e.use_stderr() { exit::BAD_ARGS } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let client = Client::new(&cli.endpoint_list(), cli.timeout_secs);
    match run(&cli, &client) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Etcd(body)) => {
            eprintln!("Error:  {body}");
            ExitCode::from(exit::SERVER_ERROR)
        }
        Err(Failure::Connection(msg)) => {
            eprintln!("Error:  client: etcd cluster is unavailable or misconfigured; {msg}");
            ExitCode::from(exit::BAD_CONNECTION)
        }
        Err(Failure::Plain(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(exit::BAD_ARGS)
        }
    }
}

fn key_arg(key: &str) -> String {
    if key.starts_with('/') {
        key.to_string()
    } else {
        format!("/{key}")
    }
}

fn run(cli: &Cli, client: &Client) -> Result<(), Failure> {
    let out = output::Printer::new(cli.output);
    match &cli.command {
        Cmd::Set {
            key,
            value,
            ttl,
            swap_with_value,
            swap_with_index,
        } => {
            let mut query = Vec::new();
            if let Some(v) = swap_with_value {
                query.push(("prevValue", v.clone()));
            }
            if let Some(i) = swap_with_index {
                query.push(("prevIndex", i.to_string()));
            }
            let r = client.put(&key_arg(key), &query, value, *ttl)?;
            out.write_result(&r);
        }
        Cmd::Mk { key, value, ttl } => {
            let r = client.put(&key_arg(key), &[("prevExist", "false".into())], value, *ttl)?;
            out.write_result(&r);
        }
        Cmd::Update { key, value, ttl } => {
            let r = client.put(&key_arg(key), &[("prevExist", "true".into())], value, *ttl)?;
            out.write_result(&r);
        }
        Cmd::Mkdir { key, ttl } => {
            let q = [("dir", "true".to_string()), ("prevExist", "false".into())];
            let r = client.put_dir(&key_arg(key), &q, *ttl)?;
            out.write_dir_result(&r);
        }
        Cmd::Get { key, sort } => {
            let r = client.get(&key_arg(key), false, *sort)?;
            if r.body.node.as_ref().is_some_and(|n| n.dir) {
                return Err(Failure::Plain(format!("{}: is a directory", key_arg(key))));
            }
            out.write_result(&r);
        }
        Cmd::Rm {
            key,
            dir,
            recursive,
            with_value,
            with_index,
        } => {
            let mut q = Vec::new();
            if *dir {
                q.push(("dir", "true".to_string()));
            }
            if *recursive {
                q.push(("recursive", "true".to_string()));
            }
            if let Some(v) = with_value {
                q.push(("prevValue", v.clone()));
            }
            if let Some(i) = with_index {
                q.push(("prevIndex", i.to_string()));
            }
            let r = client.delete(&key_arg(key), &q)?;
            out.write_delete(&r);
        }
        Cmd::Rmdir { key } => {
            let r = client.delete(&key_arg(key), &[("dir", "true".into())])?;
            out.write_dir_result(&r);
        }
        Cmd::Ls {
            key,
            recursive,
            sort,
            p,
        } => {
            let key = key_arg(key.as_deref().unwrap_or("/"));
            let r = client.get(&key, *recursive, *sort)?;
            out.write_listing(&r, *p);
        }
        Cmd::Watch {
            key,
            forever,
            after_index,
            recursive,
        } => {
            let mut next = after_index.map(|i| i + 1).unwrap_or(0);
            loop {
                let r = client.watch(&key_arg(key), *recursive, next)?;
                next = r
                    .body
                    .node
                    .as_ref()
                    .map(|n| n.modified_index + 1)
                    .unwrap_or(next);
                out.write_watch_event(&r, *recursive);
                if !forever {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}
