//! A damaged data dir is refused by name at start-up, never served: a snapshot file whose
//! checksum or length does not match its header. And the data dir is the owner's alone.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use etcd_integration::{request, EtcdProcess, Options};

/// A stopped server whose data dir holds a snapshot; returns it and the snapshot's path.
fn server_with_a_snapshot() -> (EtcdProcess, std::path::PathBuf) {
    let mut s = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "5".into()],
        ..Options::default()
    });
    for i in 0..12 {
        let r = request("PUT", &s.keys(&format!("/k{i}")), Some("value=v")).expect("PUT");
        assert!(r.status < 300, "{r:?}");
    }
    assert!(s.stop(), "clean stop");
    let snap = std::fs::read_dir(s.data_dir.join("snap"))
        .expect("snap dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "snap"))
        .expect("a snapshot was taken");
    (s, snap)
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
    let (mut s, snap) = server_with_a_snapshot();
    let mut bytes = std::fs::read(&snap).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    std::fs::write(&snap, &bytes).unwrap();
    let log = refused_start(&mut s);
    let name = snap.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        log.contains(&name) && log.contains("checksum mismatch"),
        "{log}"
    );
}

#[test]
fn a_truncated_snapshot_is_refused_naming_the_file() {
    let (mut s, snap) = server_with_a_snapshot();
    let bytes = std::fs::read(&snap).unwrap();
    std::fs::write(&snap, &bytes[..bytes.len() / 2]).unwrap();
    let log = refused_start(&mut s);
    let name = snap.file_name().unwrap().to_string_lossy().into_owned();
    assert!(log.contains(&name) && log.contains("truncated"), "{log}");
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
