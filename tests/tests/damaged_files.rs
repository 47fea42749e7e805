//! A damaged data dir is refused by name at start-up, never served: a snapshot file whose
//! checksum or length does not match its header, a raft log that lost committed entries in
//! the middle. A torn tail (a write that never finished, so was never acknowledged) is
//! recovered. And the data dir is the owner's alone.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use etcd_integration::{request, wait_until, EtcdProcess, Options};

/// A stopped server whose data dir holds snapshots; returns it and every snapshot file.
/// Snapshots are written off the raft loop, so at a stop the newest file may not be recorded
/// yet (the next start removes it): the tests damage every file, the recorded one among them.
fn server_with_a_snapshot() -> (EtcdProcess, Vec<std::path::PathBuf>) {
    let mut s = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "5".into()],
        ..Options::default()
    });
    for i in 0..12 {
        let r = request("PUT", &s.keys(&format!("/k{i}")), Some("value=v")).expect("PUT");
        assert!(r.status < 300, "{r:?}");
    }
    // A snapshot must be recorded before the stop: one written but not yet recorded is
    // removed by the next start, and damaging only such files would prove nothing (the
    // start would rightly succeed from the log: seen once under load).
    wait_until("a snapshot is recorded", || {
        s.log().contains("saved snapshot")
    });
    assert!(s.stop(), "clean stop");
    let snaps: Vec<_> = std::fs::read_dir(s.data_dir.join("snap"))
        .expect("snap dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .collect();
    assert!(!snaps.is_empty(), "a snapshot was taken");
    (s, snaps)
}

/// Whether `log` names one of `files`.
fn names_one_of(log: &str, files: &[std::path::PathBuf]) -> bool {
    files
        .iter()
        .any(|f| log.contains(&*f.file_name().unwrap().to_string_lossy()))
}

/// Starts `s` again and waits for it to exit; returns its log.
fn refused_start(s: &mut EtcdProcess) -> String {
    s.restart_unready();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !s.has_exited() {
        assert!(
            Instant::now() < deadline,
            "served a damaged data dir: {}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    s.log()
}

#[test]
fn a_corrupted_snapshot_is_refused_naming_the_file() {
    let (mut s, snaps) = server_with_a_snapshot();
    for snap in &snaps {
        let mut bytes = std::fs::read(snap).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        std::fs::write(snap, &bytes).unwrap();
    }
    let log = refused_start(&mut s);
    assert!(
        names_one_of(&log, &snaps) && log.contains("checksum mismatch"),
        "{log}"
    );
}

#[test]
fn a_truncated_snapshot_is_refused_naming_the_file() {
    let (mut s, snaps) = server_with_a_snapshot();
    for snap in &snaps {
        let bytes = std::fs::read(snap).unwrap();
        std::fs::write(snap, &bytes[..bytes.len() / 2]).unwrap();
    }
    let log = refused_start(&mut s);
    assert!(
        names_one_of(&log, &snaps) && log.contains("truncated"),
        "{log}"
    );
}

#[test]
fn the_data_dir_is_readable_by_its_owner_only() {
    let s = EtcdProcess::start();
    for dir in [
        s.data_dir.clone(),
        s.data_dir.join("log"),
        s.data_dir.join("snap"),
    ] {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
}

/// A stopped server that acknowledged `n` writes, the last more than a second after the
/// others (so the durable mark covers them); returns it and its raft-engine log file.
fn server_with_a_log(n: usize) -> (EtcdProcess, std::path::PathBuf) {
    let mut s = EtcdProcess::start();
    let value = format!("value={}", "v".repeat(200));
    for i in 0..n {
        let r = request("PUT", &s.keys(&format!("/k{i}")), Some(&value)).expect("PUT");
        assert!(r.status < 300, "{r:?}");
    }
    std::thread::sleep(Duration::from_millis(1_200));
    let r = request("PUT", &s.keys("/last"), Some("value=v")).expect("PUT");
    assert!(r.status < 300, "{r:?}");
    std::thread::sleep(Duration::from_millis(1_200));
    let r = request("PUT", &s.keys("/after-last"), Some("value=v")).expect("PUT");
    assert!(r.status < 300, "{r:?}");
    assert!(s.stop(), "clean stop");
    let log = std::fs::read_dir(s.data_dir.join("log"))
        .expect("log dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "raftlog"))
        .max()
        .expect("a raft-engine log file");
    (s, log)
}

/// A flipped byte anywhere in the log is found at start-up. Before the checks, raft-engine took
/// damage in its last file for a torn tail and dropped every entry from there on (the member
/// started and answered 404 for keys it had acknowledged), or, where only an entry's payload
/// was hit, raft-rs panicked on it later, mid-replay.
#[test]
fn a_log_damaged_in_the_middle_is_refused_not_truncated() {
    let (mut s, log) = server_with_a_log(300);
    let good = std::fs::read(&log).unwrap();
    for eighth in 1..8 {
        let mut bytes = good.clone();
        let at = bytes.len() * eighth / 8;
        bytes[at] ^= 0x55;
        std::fs::write(&log, &bytes).unwrap();
        let before = s.log().len();
        let out = refused_start(&mut s).split_off(before);
        assert!(
            out.contains("raft log in") && out.contains("damaged"),
            "byte {at} of {} flipped: {out}",
            bytes.len()
        );
    }
}

/// A log file that lost its second half after it was synced (a disk or filesystem fault, a bad
/// copy) looks to raft-engine like a torn tail, and it recovers to the last whole entry: the
/// durable mark, kept outside the log, shows that committed entries are missing.
#[test]
fn a_log_cut_below_what_was_committed_is_refused() {
    let (mut s, log) = server_with_a_log(300);
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() / 2]).unwrap();
    let out = refused_start(&mut s);
    assert!(
        out.contains("ends at index") && out.contains("were committed and durable"),
        "{out}"
    );
}

/// A crash mid-write leaves a partial record after the last good one; that write was never
/// synced, so never acknowledged, and the member recovers everything before it.
#[test]
fn a_torn_log_tail_is_recovered() {
    let (mut s, log) = server_with_a_log(50);
    let mut bytes = std::fs::read(&log).unwrap();
    let garbage: Vec<u8> = (0..97u32).map(|i| (i * 37 + 11) as u8).collect();
    bytes.extend_from_slice(&garbage);
    std::fs::write(&log, &bytes).unwrap();
    s.restart();
    for key in ["/k0", "/k49", "/last", "/after-last"] {
        let r = etcd_integration::get(&s.keys(key)).expect("GET");
        assert_eq!(r.status, 200, "{key} lost after a torn tail: {r:?}");
    }
}
