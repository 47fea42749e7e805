//! A full disk (a small tmpfs the test mounts) makes writes fail with a clear JSON error and
//! never stops the server or damages its data: once there is room again writes work, and a
//! restart finds every acknowledged key (issue 13, part 3).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_integration::{get, request, wait_until, EtcdProcess, Options, Reply};

/// Size of the file system the member's data dir lives on.
const TMPFS_BYTES: usize = 24 << 20;

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (the test then says why it skipped) where this user may not mount.
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={TMPFS_BYTES}")])
            .arg("tmpfs")
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the disk with a file of 256 KiB chunks until no more fits; returns its path.
fn fill(disk: &SmallDisk) -> PathBuf {
    let path = disk.path().join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 256 << 10];
    for _ in 0..(TMPFS_BYTES / chunk.len() + 1) {
        if f.write_all(&chunk).is_err() {
            break;
        }
    }
    path
}

/// Bytes per value written to fill the log.
const VALUE_BYTES: usize = 32 << 10;

/// A value of [`VALUE_BYTES`] letters that no compressor shrinks much (xorshift from `seed`).
fn incompressible(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..VALUE_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect()
}

fn put(server: &EtcdProcess, key: &str, value: &str) -> Reply {
    request("PUT", &server.keys(key), Some(&format!("value={value}"))).expect("PUT")
}

fn value(server: &EtcdProcess, key: &str) -> Option<String> {
    let r = get(&server.keys(key)).ok()?;
    (r.status == 200).then(|| r.json()["node"]["value"].as_str().map(str::to_string))?
}

#[test]
fn a_full_disk_fails_writes_clearly_and_they_work_again_when_there_is_room() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let mut server = EtcdProcess::start_with(Options {
        data_dir: Some(disk.path().join("member")),
        // Snapshots fall due while the disk is full too: they must not stop the member either.
        extra: vec!["-snapshot-count".into(), "25".into()],
        ..Options::default()
    });
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let key = format!("/before/{i}");
        assert!(put(&server, &key, "v").is_written());
        acknowledged.push((key, "v".to_string()));
    }

    let filler = fill(&disk);
    // Writes go on while raft-engine's preallocated file still has room; then they fail.
    // Values that do not compress (raft-engine compresses its batches).
    let mut refused = None;
    for i in 0..(2 * TMPFS_BYTES / VALUE_BYTES) {
        let key = format!("/full/{i}");
        let big = incompressible(i as u64);
        let r = put(&server, &key, &big);
        if r.is_written() {
            acknowledged.push((key, big));
            continue;
        }
        refused = Some(r);
        break;
    }
    let refused = refused.expect("a write failed once the disk was full");
    let body = refused.json();
    assert_eq!(body["errorCode"], 300, "{}", refused.body);
    assert!(
        body["cause"]
            .as_str()
            .is_some_and(|c| c.contains("no space left on device")),
        "{}",
        refused.body
    );
    // The member is still up and says the same to the next writer, at once.
    let again = put(&server, "/full/again", "v");
    assert!(!again.is_written());
    assert!(
        again.body.contains("no space left on device"),
        "{}\n{}",
        again.body,
        server.log()
    );
    assert!(!server.has_exited(), "the server stopped on a full disk");

    std::fs::remove_file(filler).expect("free the disk");
    wait_until("writes work again once there is room", || {
        put(&server, "/after", "v").is_written()
    });
    acknowledged.push(("/after".into(), "v".into()));
    for (key, v) in &acknowledged {
        assert_eq!(value(&server, key).as_deref(), Some(v.as_str()), "{key}");
    }

    // Nothing on disk was damaged: a restart holds every acknowledged key.
    assert!(server.stop(), "clean stop");
    server.restart();
    for (key, v) in &acknowledged {
        assert_eq!(
            value(&server, key).as_deref(),
            Some(v.as_str()),
            "{key} after restart"
        );
    }
}
