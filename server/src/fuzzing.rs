//! Entry points for fuzzing: each feeds arbitrary bytes to one decoder that a client, a peer or
//! a damaged disk can reach, and checks what must hold for any input (no panic, and where a
//! decoder has an encoder, that what it accepts survives a round trip).
//!
//! The cargo-fuzz targets in `fuzz/` call these; `server/tests/fuzz_corpus.rs` replays the
//! committed corpus through them in every test run, so a crash found once stays fixed.

use crate::api::params::{parse_key_params, path_unescape, Form};
use crate::command::Command;
use crate::store::path;

/// A target: its name (the directory of its corpus) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("key_path", key_path),
    ("form", form),
    ("command", command),
    ("snapshot", snapshot),
    ("peer_messages", peer_messages),
];

/// A key as it arrives in a URL: unescaped, then cleaned; cleaning is idempotent and gives an
/// absolute path without empty, `.` or `..` segments.
pub fn key_path(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let Ok(unescaped) = path_unescape(&raw) else {
        return;
    };
    let clean = path::clean(&unescaped);
    assert!(clean.starts_with('/'), "{clean:?}");
    assert_eq!(path::clean(&clean), clean, "clean is idempotent");
    for seg in path::segments(&clean) {
        assert!(!seg.is_empty() && seg != "." && seg != "..", "{clean:?}");
    }
    let (parent, _) = path::split_parent(&clean);
    assert!(
        clean == "/" || path::is_below(&clean, parent),
        "{clean:?} under {parent:?}"
    );
}

/// A query string or form body, then etcd's validation of it, for a GET and for a PUT.
pub fn form(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut form = Form::default();
    if form.extend_from(&text).is_err() {
        return;
    }
    let _ = parse_key_params(&form, true);
    let _ = parse_key_params(&form, false);
}

/// A raft log entry's payload: what decodes re-encodes to bytes that decode the same.
pub fn command(data: &[u8]) {
    if let Ok(cmd) = Command::decode(data) {
        let again = Command::decode(&cmd.encode()).expect("an encoded command decodes");
        assert_eq!(again, cmd);
    }
}

/// A snapshot's bytes (as read from a file or received from a leader): restored, it saves to
/// bytes that restore to the same state.
pub fn snapshot(data: &[u8]) {
    // The 0.3.0 format (JSON, first byte `{`) is read on a thread of its own with a large
    // stack; it is fuzzed through its JSON parser elsewhere, and here only when small.
    if data.first() == Some(&b'{') && data.len() > 4096 {
        return;
    }
    if let Ok(restored) = crate::state::restore_snapshot(data, 100) {
        let state = crate::state::StoreState {
            store: restored.store,
            members: restored.members,
            hub: Default::default(),
            auth: restored.auth,
        };
        let saved = state.snapshot();
        let again = crate::state::restore_snapshot(&saved, 100).expect("a saved snapshot restores");
        assert!(again.store.save() == state.store.save(), "store round trip");
        assert_eq!(again.members, state.members);
        assert_eq!(again.auth, state.auth);
    }
}

/// A peer's batch of raft messages.
pub fn peer_messages(data: &[u8]) {
    let _ = crate::transport::wire::decode_batch(data);
}

/// Seed inputs for every target, made from real encodings: `cargo test -p etcd-server --lib
/// write_seed_corpus -- --ignored` writes them under `fuzz/corpus/<target>/`.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    use crate::command::KeyCommand as C;
    use crate::time::Timestamp;
    let now = Timestamp(1_767_225_600_000_000_000);
    let commands = [
        C::Set {
            key: "/a/b".into(),
            value: "v".into(),
            dir: false,
            expire_at: Some(now),
            refresh: false,
            now,
        },
        C::Create {
            key: "/q".into(),
            value: "job".into(),
            dir: false,
            expire_at: None,
            in_order: true,
            now,
        },
        C::CompareAndSwap {
            key: "/k".into(),
            value: "new".into(),
            prev_value: Some("old".into()),
            prev_index: 7,
            expire_at: None,
            refresh: false,
            now,
        },
        C::Expire { now },
    ];
    let commands = commands.map(crate::command::Command::Key);
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    for c in &commands {
        out.push(("command", c.encode()));
    }
    let mut state = crate::state::StoreState {
        store: crate::store::Store::new(100),
        members: Default::default(),
        hub: Default::default(),
        auth: Default::default(),
    };
    for c in &commands {
        let _ = state.apply_command(c);
    }
    out.push(("snapshot", state.snapshot()));
    out.push(("snapshot", state.store.save()));
    out.push(("snapshot", state.store.save_format2()));
    for key in [
        "/a/b",
        "/%2e%2e/x",
        "//a/./b/../c/",
        "/%zz",
        "/a%2Fb",
        "/\u{e9}t\u{e9}",
    ] {
        out.push(("key_path", key.as_bytes().to_vec()));
    }
    for f in [
        "value=x&ttl=5&prevExist=true",
        "waitIndex=abc&wait=true",
        "prevValue=a+b&prevIndex=3&refresh=true&ttl=",
        "recursive=true&sorted=true&quorum=true&dir=true",
        "value=%ff%fe&ttl=-1",
    ] {
        out.push(("form", f.as_bytes().to_vec()));
    }
    let mut msg = raft::eraftpb::Message::default();
    msg.set_msg_type(raft::eraftpb::MessageType::MsgAppend);
    msg.to = 2;
    msg.from = 1;
    msg.term = 3;
    let entry = raft::eraftpb::Entry {
        index: 9,
        term: 3,
        data: commands[0].encode().into(),
        ..Default::default()
    };
    msg.entries = vec![entry].into();
    out.push((
        "peer_messages",
        crate::transport::wire::encode_batch(&[msg.clone(), msg]),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seed runs through its target (the corpus replay runs the committed files).
    #[test]
    fn seeds_pass_their_targets() {
        for (name, input) in seeds() {
            let (_, target) = TARGETS.iter().find(|(n, _)| *n == name).expect("a target");
            target(&input);
        }
    }

    #[test]
    #[ignore = "writes the seed corpus into fuzz/corpus"]
    fn write_seed_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (i, (name, input)) in seeds().into_iter().enumerate() {
            let dir = root.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("seed-{i:02}")), input).unwrap();
        }
    }
}
