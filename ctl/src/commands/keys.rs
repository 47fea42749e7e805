//! The key commands: set, mk, mkdir, setdir, update, updatedir, get, rm, rmdir, ls.

use std::io::{IsTerminal, Read};

use crate::cli::Cmd;
use crate::client::Client;
use crate::failure::Failure;
use crate::output::Printer;

/// Keys may be given with or without the leading `/`.
pub fn key_arg(key: &str) -> String {
    if key.starts_with('/') {
        key.to_string()
    } else {
        format!("/{key}")
    }
}

/// The value argument, or all of stdin when it is omitted (as the Go etcdctl does:
/// `echo -n v | etcdctl set /k`). An empty stdin, or a terminal, is "value required".
fn value_or_stdin(value: &Option<String>) -> Result<String, Failure> {
    if let Some(v) = value {
        return Ok(v.clone());
    }
    let stdin = std::io::stdin();
    // Waiting on a terminal for a value nobody knows to type would look like a hang.
    if stdin.is_terminal() {
        return Err(Failure::BadArgs("value required".into()));
    }
    let mut buf = Vec::new();
    if let Err(e) = stdin.lock().read_to_end(&mut buf) {
        return Err(Failure::BadArgs(format!(
            "cannot read the value from stdin: {e}"
        )));
    }
    if buf.is_empty() {
        return Err(Failure::BadArgs("value required".into()));
    }
    String::from_utf8(buf).map_err(|e| {
        Failure::BadArgs(format!(
            "the value on stdin is not UTF-8 text (invalid byte at offset {}); etcd's v2 API \
             stores text: encode binary data first (e.g. base64)",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn q(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// Runs one key command; returns `false` when `cmd` is not a key command.
pub fn run(cmd: &Cmd, client: &Client, out: &Printer) -> Result<bool, Failure> {
    match cmd {
        Cmd::Set {
            key,
            value,
            ttl,
            swap_with_value,
            swap_with_index,
        } => {
            let value = value_or_stdin(value)?;
            let mut query = Vec::new();
            if let Some(v) = swap_with_value {
                query.push(("prevValue", v.clone()));
            }
            if let Some(i) = swap_with_index {
                query.push(("prevIndex", i.to_string()));
            }
            out.write_result(&client.put(&key_arg(key), &query, &value, *ttl)?);
        }
        Cmd::Mk {
            key,
            value,
            ttl,
            in_order,
        } => {
            let value = value_or_stdin(value)?;
            let r = if *in_order {
                client.post(&key_arg(key), &value, *ttl)?
            } else {
                client.put(&key_arg(key), &q(&[("prevExist", "false")]), &value, *ttl)?
            };
            out.write_result(&r);
        }
        Cmd::Update { key, value, ttl } => {
            let value = value_or_stdin(value)?;
            let r = client.put(&key_arg(key), &q(&[("prevExist", "true")]), &value, *ttl)?;
            out.write_result(&r);
        }
        Cmd::Mkdir { key, ttl } => {
            let query = q(&[("dir", "true"), ("prevExist", "false")]);
            out.write_dir_result(&client.put_dir(&key_arg(key), &query, *ttl)?);
        }
        Cmd::Setdir { key, ttl } => {
            out.write_dir_result(&client.put_dir(&key_arg(key), &q(&[("dir", "true")]), *ttl)?);
        }
        Cmd::Updatedir { key, ttl } => {
            let query = q(&[("dir", "true"), ("prevExist", "true")]);
            out.write_dir_result(&client.put_dir(&key_arg(key), &query, *ttl)?);
        }
        Cmd::Get { key, sort, quorum } => {
            let r = client.get(&key_arg(key), false, *sort, *quorum)?;
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
            let mut query = Vec::new();
            if *dir {
                query.push(("dir", "true".to_string()));
            }
            if *recursive {
                query.push(("recursive", "true".to_string()));
            }
            if let Some(v) = with_value {
                query.push(("prevValue", v.clone()));
            }
            if let Some(i) = with_index {
                query.push(("prevIndex", i.to_string()));
            }
            out.write_delete(&client.delete(&key_arg(key), &query)?);
        }
        Cmd::Rmdir { key } => {
            out.write_delete(&client.delete(&key_arg(key), &q(&[("dir", "true")]))?);
        }
        Cmd::Ls {
            key,
            recursive,
            sort,
            p,
            quorum,
        } => {
            let key = key_arg(key.as_deref().unwrap_or("/"));
            let r = client.get(&key, *recursive, *sort, *quorum)?;
            out.write_listing(&r, *p);
        }
        _ => return Ok(false),
    }
    Ok(true)
}
