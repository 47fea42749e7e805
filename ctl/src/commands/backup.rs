//! `etcdctl backup --data-dir D --backup-dir B`: a consistent copy of a member's data dir,
//! made while the member runs, that `etcd -data-dir B -force-new-cluster` starts as a new
//! one-member cluster (etcd's documented recovery after losing quorum).
//!
//! The member keeps writing while the files are copied, so the copy is checked against the
//! directory as it was before and after: snapshots are whole files written once under their
//! final name, the raft log's files only grow until they are purged, and raft-engine recovers a
//! log whose last file ends in a half-written record (that record was never acknowledged). So
//! a copy is consistent when no snapshot and no log file appeared or vanished while it was
//! made. The durable mark is copied first, so it never claims more than the copied log holds.
//! A copy that raced with a snapshot or a purge is made again (a few times at most).
//!
//! The backup carries a `backup` marker: the server refuses to start on it without
//! `-force-new-cluster`, so a copy never comes up as a second instance of the member it was
//! taken from.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// How many times a copy that raced with the member is made again.
const ATTEMPTS: usize = 8;

/// The marker file a backup carries (the server reads its name from here too).
pub const MARKER: &str = "backup";

/// What a file looked like: its length.
type Listing = BTreeMap<PathBuf, u64>;

/// The files that make up the member's state, relative to the data dir, with their length:
/// the durable mark, finished snapshots, and raft-engine's log and rewrite files (not its
/// LOCK, not snapshots still being written or received).
fn listing(data_dir: &Path) -> io::Result<Listing> {
    let mut out = Listing::new();
    let mark = data_dir.join("durable");
    if let Ok(m) = fs::metadata(&mark) {
        out.insert("durable".into(), m.len());
    }
    for (sub, keep) in [
        ("snap", &["snap"][..]),
        ("log", &["raftlog", "rewrite"][..]),
    ] {
        for entry in fs::read_dir(data_dir.join(sub))? {
            let entry = entry?;
            let path = entry.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if entry.file_type()?.is_file() && keep.contains(&ext) {
                out.insert(
                    Path::new(sub).join(entry.file_name()),
                    entry.metadata()?.len(),
                );
            }
        }
    }
    Ok(out)
}

/// Whether a copy made between `before` and `after` is consistent: the same files, none of
/// them shorter (log files only grow; anything else means a purge or a rewrite ran).
fn unchanged(before: &Listing, after: &Listing) -> bool {
    before.len() == after.len()
        && before
            .iter()
            .zip(after)
            .all(|((p1, l1), (p2, l2))| p1 == p2 && l2 >= l1)
}

/// Copies the files of `files` (durable mark first) from `from` into the new dir `to`.
fn copy_files(from: &Path, to: &Path, files: &Listing) -> io::Result<()> {
    // The copy holds every key: the owner's alone, as the data dir is.
    let mut dirs = fs::DirBuilder::new();
    dirs.recursive(true).mode(0o700);
    for sub in ["log", "snap"] {
        dirs.create(to.join(sub))?;
    }
    let first = files.keys().filter(|p| p.as_os_str() == "durable");
    let rest = files.keys().filter(|p| p.as_os_str() != "durable");
    for rel in first.chain(rest) {
        fs::copy(from.join(rel), to.join(rel))?;
    }
    for dir in [to.join("log"), to.join("snap"), to.to_path_buf()] {
        fs::File::open(&dir)?.sync_all()?;
    }
    Ok(())
}

/// Makes the backup; errors say what failed, with the path.
pub fn run(data_dir: &Path, backup_dir: &Path) -> Result<(), Failure> {
    let fail = |what: &str, path: &Path, e: io::Error| {
        Failure::Plain(format!("backup: {what} {}: {e}", path.display()))
    };
    if !data_dir.join("log").is_dir() {
        return Err(Failure::Plain(format!(
            "backup: {} is not an etcd data dir (it has no log/)",
            data_dir.display()
        )));
    }
    if fs::read_dir(backup_dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Failure::Plain(format!(
            "backup: {} exists and is not empty; choose a new directory",
            backup_dir.display()
        )));
    }
    let partial = backup_dir.with_extension(format!("partial-{}", std::process::id()));
    for _ in 0..ATTEMPTS {
        let _ = fs::remove_dir_all(&partial);
        let before = listing(data_dir).map_err(|e| fail("cannot read", data_dir, e))?;
        match copy_files(data_dir, &partial, &before) {
            Ok(()) => {}
            // A file purged under us: try again.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(fail("cannot copy into", &partial, e)),
        }
        let after = listing(data_dir).map_err(|e| fail("cannot read", data_dir, e))?;
        if !unchanged(&before, &after) {
            continue;
        }
        let marker = format!(
            "{{\"from\":{:?},\"files\":{}}}\n",
            data_dir.display().to_string(),
            before.len()
        );
        fs::write(partial.join(MARKER), marker).map_err(|e| fail("cannot write", &partial, e))?;
        let _ = fs::remove_dir(backup_dir);
        fs::rename(&partial, backup_dir).map_err(|e| fail("cannot create", backup_dir, e))?;
        if let Some(parent) = backup_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = fs::File::open(parent).and_then(|d| d.sync_all());
        }
        return Ok(());
    }
    let _ = fs::remove_dir_all(&partial);
    Err(Failure::Plain(format!(
        "backup: {} kept changing under {ATTEMPTS} copies (snapshots or log purges); try again",
        data_dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(items: &[(&str, u64)]) -> Listing {
        items.iter().map(|(p, n)| (PathBuf::from(p), *n)).collect()
    }

    #[test]
    fn growth_is_consistent_and_a_purge_or_new_snapshot_is_not() {
        let before = l(&[("durable", 12), ("log/1.raftlog", 100), ("snap/a.snap", 5)]);
        assert!(unchanged(
            &before,
            &l(&[("durable", 12), ("log/1.raftlog", 180), ("snap/a.snap", 5)])
        ));
        assert!(!unchanged(
            &before,
            &l(&[("durable", 12), ("log/2.raftlog", 10), ("snap/a.snap", 5)])
        ));
        assert!(!unchanged(
            &before,
            &l(&[
                ("durable", 12),
                ("log/1.raftlog", 100),
                ("snap/a.snap", 5),
                ("snap/b.snap", 5)
            ])
        ));
        assert!(!unchanged(
            &before,
            &l(&[("durable", 12), ("log/1.raftlog", 90), ("snap/a.snap", 5)])
        ));
    }
}
