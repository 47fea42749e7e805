//! Printing results in the Go etcdctl's formats (simple, extended, json) and errors in etcd's
//! words. Colour only where a person reads it: a terminal, and never with `NO_COLOR`.

use std::io::IsTerminal;

use colored::Colorize;
use common::Node;

use crate::cli::Format;
use crate::client::Answer;
use crate::failure::Failure;
use crate::go_json::to_go_json;

/// Whether to colour what goes to stdout (`ls`) and stderr (errors).
#[derive(Debug, Clone, Copy)]
pub struct Colour {
    /// Colour stdout.
    pub stdout: bool,
    /// Colour stderr.
    pub stderr: bool,
}

impl Colour {
    /// Decided once from the terminals and `NO_COLOR` (any non-empty value disables colour).
    pub fn detect() -> Colour {
        let allowed = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Colour {
            stdout: allowed && std::io::stdout().is_terminal(),
            stderr: allowed && std::io::stderr().is_terminal(),
        }
    }
}

/// Prints answers in one format.
pub struct Printer {
    format: Format,
    colour: Colour,
}

impl Printer {
    /// A printer for `format`.
    pub fn new(format: Format, colour: Colour) -> Printer {
        // `colored` decides per string; we decide per stream, so turn its own check off.
        colored::control::set_override(true);
        Printer { format, colour }
    }

    /// The Go etcdctl's rfc2822-style block; every action but `delete` ends with the value.
    fn extended(&self, a: &Answer) {
        let Some(n) = &a.body.node else { return };
        println!("Key: {}", n.key);
        println!("Created-Index: {}", n.created_index);
        println!("Modified-Index: {}", n.modified_index);
        if let Some(prev) = &a.body.prev_node {
            println!("PrevNode.Value: {}", prev.value.as_deref().unwrap_or(""));
        }
        println!("TTL: {}", n.ttl);
        println!("Index: {}", a.etcd_index);
        if a.body.action != "delete" {
            println!();
            println!("{}", n.value.as_deref().unwrap_or(""));
        }
    }

    /// A write or read of one key: its value.
    pub fn write_result(&self, a: &Answer) {
        match self.format {
            Format::Json => println!("{}", to_go_json(&a.body)),
            Format::Extended => self.extended(a),
            Format::Simple => {
                if let Some(n) = &a.body.node {
                    println!("{}", n.value.as_deref().unwrap_or(""));
                }
            }
        }
    }

    /// mkdir/setdir/updatedir/rmdir: nothing in simple mode.
    pub fn write_dir_result(&self, a: &Answer) {
        match self.format {
            Format::Json => println!("{}", to_go_json(&a.body)),
            Format::Extended => self.extended(a),
            Format::Simple => {}
        }
    }

    /// rm and rmdir: as the Go etcdctl, nothing for a directory in simple mode, otherwise the
    /// answer (a plain `delete` prints the previous value; `compareAndDelete`, which
    /// `--with-value`/`--with-index` make, prints its node's empty value).
    pub fn write_delete(&self, a: &Answer) {
        let dir = a.body.node.as_ref().is_some_and(|n| n.dir);
        if self.format == Format::Simple && dir {
            return;
        }
        self.write_response_key(a);
    }

    /// The Go etcdctl's `printResponseKey`.
    fn write_response_key(&self, a: &Answer) {
        match self.format {
            Format::Json => println!("{}", to_go_json(&a.body)),
            Format::Extended => self.extended(a),
            Format::Simple => {
                let Some(n) = &a.body.node else { return };
                if a.body.action == "delete" {
                    let prev = a.body.prev_node.as_ref().and_then(|p| p.value.as_deref());
                    println!("PrevNode.Value: {}", prev.unwrap_or(""));
                } else {
                    println!("{}", n.value.as_deref().unwrap_or(""));
                }
            }
        }
    }

    /// ls: one key per line, depth first; `-p` marks directories with `/`; on a terminal
    /// directories are bold blue, as `ls --color` shows them.
    pub fn write_listing(&self, a: &Answer, mark_dirs: bool) {
        // As the Go etcdctl: only the simple format lists; the others print the response.
        match self.format {
            Format::Json => return println!("{}", to_go_json(&a.body)),
            Format::Extended => return self.extended(a),
            Format::Simple => {}
        }
        let Some(n) = &a.body.node else { return };
        if !n.dir {
            println!("{}", n.key);
            return;
        }
        self.walk(n, mark_dirs);
    }

    fn walk(&self, n: &Node, mark_dirs: bool) {
        for c in n.nodes.iter().flatten() {
            let name = if c.dir && mark_dirs {
                format!("{}/", c.key)
            } else {
                c.key.clone()
            };
            if c.dir && self.colour.stdout {
                println!("{}", name.blue().bold());
            } else {
                println!("{name}");
            }
            self.walk(c, mark_dirs);
        }
    }

    /// A watch event: with --recursive a `[action] key` line first (in every format, as the
    /// Go etcdctl), then the answer as `printResponseKey` prints it.
    pub fn write_watch_event(&self, a: &Answer, recursive: bool) {
        let Some(n) = &a.body.node else { return };
        if recursive {
            println!("[{}] {}", a.body.action, n.key);
        }
        self.write_response_key(a);
    }

    /// A warning that does not stop the command (watch reconnects), on stderr.
    pub fn warn(&self, msg: &str) {
        let line = format!("warning: {msg}");
        if self.colour.stderr {
            eprintln!("{}", line.yellow());
        } else {
            eprintln!("{line}");
        }
    }

    /// A failure on stderr: `Error:  <code>: <message> (<cause>) [<index>]` as the Go etcdctl
    /// prints it, in red on a terminal; with `-o json`, etcd errors are the JSON body itself.
    pub fn write_failure(&self, f: &Failure) {
        let text = match f {
            Failure::Etcd { raw, .. } if self.format == Format::Json => raw.clone(),
            Failure::Etcd { body, .. } => format!("Error:  {body}"),
            // Byte for byte the Go client's ClusterError, then its Detail().
            Failure::Connection(errors) => {
                let mut s =
                    "Error:  client: etcd cluster is unavailable or misconfigured".to_string();
                for e in errors {
                    s.push_str(&format!("; {e}\n"));
                }
                s.push('\n');
                for e in errors {
                    s.push_str(&format!("{e}\n"));
                }
                s
            }
            Failure::Server(msg) | Failure::BadArgs(msg) => format!("Error:  {msg}"),
            Failure::Plain(msg) => msg.clone(),
            Failure::Reported | Failure::Unhealthy => return,
        };
        if self.colour.stderr && self.format != Format::Json {
            eprintln!("{}", text.red());
        } else {
            eprintln!("{text}");
        }
    }
}
