//! The checked-in completions and man pages are what the code generates (run `./generate`
//! after changing the command line), and the bash script loads in a real bash.

use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_integration::ctl::Ctl;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn etcdctl(args: &[&str]) -> Vec<u8> {
    Ctl::ours().args(args).success().stdout
}

fn assert_same(committed: &Path, generated: &[u8]) {
    let on_disk = std::fs::read(committed)
        .unwrap_or_else(|e| panic!("{} is missing ({e}); run ./generate", committed.display()));
    assert!(
        on_disk == generated,
        "{} differs from what etcdctl generates; run ./generate and commit the result",
        committed.display()
    );
}

#[test]
fn committed_completions_are_fresh() {
    for (shell, file) in [
        ("bash", "completions/etcdctl.bash"),
        ("zsh", "completions/_etcdctl"),
        ("fish", "completions/etcdctl.fish"),
    ] {
        assert_same(&repo().join(file), &etcdctl(&["completion", shell]));
    }
}

#[test]
fn committed_man_pages_are_fresh() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_str().expect("utf-8 temp path");
    etcdctl(&["man", "--dir", dir]);
    let mut generated: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("read generated dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    generated.sort();
    let mut committed: Vec<String> = std::fs::read_dir(repo().join("man"))
        .expect("man/ exists; run ./generate")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("etcdctl"))
        .collect();
    committed.sort();
    assert_eq!(committed, generated, "man/ has other pages; run ./generate");
    for name in &generated {
        let page = std::fs::read(tmp.path().join(name)).expect("read page");
        assert_same(&repo().join("man").join(name), &page);
    }
    // `etcdctl man` prints the main page.
    assert_same(&repo().join("man/etcdctl.1"), &etcdctl(&["man"]));
}

#[test]
fn bash_completion_loads() {
    let status = Command::new("bash")
        .arg("-c")
        .arg("set -e; source completions/etcdctl.bash; complete -p etcdctl")
        .current_dir(repo())
        .output()
        .expect("bash is installed");
    assert!(status.status.success(), "{status:?}");
    assert!(String::from_utf8_lossy(&status.stdout).contains("etcdctl"));
}

#[test]
fn a_closed_pipe_ends_etcdctl_quietly() {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} completion bash | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_etcdctl")
        ))
        .output()
        .expect("bash is installed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty(), "a closed pipe is not an error: {err}");
}
