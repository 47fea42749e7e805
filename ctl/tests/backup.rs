//! `etcdctl backup` copies a running member's data dir consistently; the copy starts only as a
//! new cluster (`-force-new-cluster`), never as a second instance of its member.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use etcd_integration::{request, EtcdProcess, Options};

fn etcdctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_etcdctl"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run etcdctl")
}

/// A member with snapshots in its data dir and a writer that keeps writing until stopped.
fn busy_member() -> (EtcdProcess, Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let server = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "50".into()],
        ..Options::default()
    });
    for i in 0..120 {
        let r = request(
            "PUT",
            &server.keys(&format!("/before/k{i}")),
            Some("value=v"),
        )
        .unwrap();
        assert!(r.status < 300, "{r:?}");
    }
    let r = request("PUT", &server.keys("/_hidden/secret"), Some("value=s")).unwrap();
    assert!(r.status < 300, "{r:?}");
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.keys("/during");
    let flag = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut n = 0;
        while !flag.load(Ordering::Relaxed) {
            let _ = request("POST", &url, Some("value=w"));
            n += 1;
        }
        n
    });
    (server, stop, writer)
}

#[test]
fn a_backup_taken_while_writing_is_refused_without_force_new_cluster() {
    let (server, stop, writer) = busy_member();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup");
    let data_dir = server.data_dir.display().to_string();
    let backup_arg = backup.display().to_string();
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(&backup);
        let out = etcdctl(&[
            "backup",
            "--data-dir",
            &data_dir,
            "--backup-dir",
            &backup_arg,
        ]);
        assert!(out.status.success(), "backup: {out:?}");
    }
    stop.store(true, Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
    assert!(
        backup.join("backup").exists(),
        "the copy carries its marker"
    );
    assert!(backup.join("durable").exists() && backup.join("log").is_dir());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "a backup holds every key: the owner's alone");

    // Started as is, the copy would be a second instance of its member.
    let out = Command::new(etcd_integration::workspace_bin("etcd"))
        .args(["-name", "copy", "-data-dir", &backup_arg])
        .args(["-addr", "127.0.0.1:0", "-peer-addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("is a backup made by 'etcdctl backup'"),
        "{stderr}"
    );

    // A backup never overwrites: the directory must be new or empty.
    let out = etcdctl(&[
        "backup",
        "--data-dir",
        &data_dir,
        "--backup-dir",
        &backup_arg,
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not empty"),
        "{out:?}"
    );
    // Nor does it copy what is not a data dir.
    let other = dir.path().join("other").display().to_string();
    let empty = dir.path().display().to_string();
    let out = etcdctl(&["backup", "--data-dir", &empty, "--backup-dir", &other]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not an etcd data dir"),
        "{out:?}"
    );
}
