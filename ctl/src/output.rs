//! Printing results in the Go etcdctl's formats: simple, extended and json.

use common::Node;

use crate::cli::Format;
use crate::client::Answer;

/// Prints answers in one format.
pub struct Printer {
    format: Format,
}

impl Printer {
    /// A printer for `format`.
    pub fn new(format: Format) -> Printer {
        Printer { format }
    }

    fn extended(&self, a: &Answer, with_value: bool) {
        let Some(n) = &a.body.node else { return };
        println!("Key: {}", n.key);
        println!("Created-Index: {}", n.created_index);
        println!("Modified-Index: {}", n.modified_index);
        if let Some(prev) = a.body.prev_node.as_ref().and_then(|p| p.value.as_ref()) {
            println!("PrevNode.Value: {prev}");
        }
        println!("TTL: {}", n.ttl);
        println!("Index: {}", a.etcd_index);
        if with_value {
            println!();
            println!("{}", n.value.as_deref().unwrap_or(""));
        }
    }

    /// A write or read of one key: its value.
    pub fn write_result(&self, a: &Answer) {
        match self.format {
            Format::Json => println!("{}", a.raw),
            Format::Extended => self.extended(a, true),
            Format::Simple => {
                if let Some(n) = &a.body.node {
                    println!("{}", n.value.as_deref().unwrap_or(""));
                }
            }
        }
    }

    /// mkdir/rmdir: nothing in simple mode.
    pub fn write_dir_result(&self, a: &Answer) {
        match self.format {
            Format::Json => println!("{}", a.raw),
            Format::Extended => self.extended(a, false),
            Format::Simple => {}
        }
    }

    /// rm: the previous value.
    pub fn write_delete(&self, a: &Answer) {
        match self.format {
            Format::Json => println!("{}", a.raw),
            Format::Extended => self.extended(a, false),
            Format::Simple => {
                if let Some(v) = a.body.prev_node.as_ref().and_then(|p| p.value.as_ref()) {
                    println!("PrevNode.Value: {v}");
                }
            }
        }
    }

    /// ls: one key per line, depth first; `-p` marks directories with `/`.
    pub fn write_listing(&self, a: &Answer, mark_dirs: bool) {
        if self.format == Format::Json {
            println!("{}", a.raw);
            return;
        }
        let Some(n) = &a.body.node else { return };
        if !n.dir {
            println!("{}", n.key);
            return;
        }
        fn walk(n: &Node, mark_dirs: bool) {
            for c in n.nodes.iter().flatten() {
                if c.dir && mark_dirs {
                    println!("{}/", c.key);
                } else {
                    println!("{}", c.key);
                }
                walk(c, mark_dirs);
            }
        }
        walk(n, mark_dirs);
    }

    /// A watch event: with --recursive a `[action] key` line first; deletes print the old value.
    pub fn write_watch_event(&self, a: &Answer, recursive: bool) {
        if self.format != Format::Simple {
            self.write_result(a);
            return;
        }
        let Some(n) = &a.body.node else { return };
        if n.dir {
            return;
        }
        if recursive {
            println!("[{}] {}", a.body.action, n.key);
        }
        match a.body.action.as_str() {
            "delete" | "compareAndDelete" | "expire" => {
                let prev = a.body.prev_node.as_ref().and_then(|p| p.value.as_deref());
                println!("PrevNode.Value: {}", prev.unwrap_or(""));
            }
            _ => println!("{}", n.value.as_deref().unwrap_or("")),
        }
    }
}
