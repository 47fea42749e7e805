//! `etcd`: the server binary.

fn main() {}
