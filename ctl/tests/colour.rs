//! Colour only on a terminal and never with NO_COLOR: `ls` shows directories bold blue and
//! errors are red under a pseudo-terminal (util-linux `script`), and plain in a pipe.

use std::path::Path;
use std::process::{Command, Output};

use etcd_integration::{request, tool_available, EtcdProcess};

const ESC: &str = "\u{1b}[";

/// Runs etcdctl under a pseudo-terminal; stdout and stderr both arrive on the output.
fn on_a_terminal(server: &EtcdProcess, args: &str, no_color: bool) -> Output {
    let bin = env!("CARGO_BIN_EXE_etcdctl");
    let mut cmd = Command::new("script");
    cmd.args(["-qec"])
        .arg(format!("{bin} --endpoints {} {args}", server.client_url()))
        .arg("/dev/null")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    cmd.output().expect("run script")
}

#[test]
fn colour_on_a_terminal_only() {
    if !tool_available(Path::new("/usr/bin/script").exists(), "script (bsdutils)") {
        return;
    }
    let server = EtcdProcess::start();
    for (k, form) in [("/c/dir/x", "value=1"), ("/c/key", "value=2")] {
        let r = request("PUT", &server.keys(k), Some(form)).expect("PUT");
        assert!(r.status < 300);
    }
    let tty = on_a_terminal(&server, "ls --sort /c", false);
    let text = String::from_utf8_lossy(&tty.stdout);
    assert!(text.contains(ESC), "no colour on a terminal: {text:?}");
    let dir_line = text
        .lines()
        .find(|l| l.contains("/c/dir"))
        .expect("dir listed");
    let key_line = text
        .lines()
        .find(|l| l.contains("/c/key"))
        .expect("key listed");
    assert!(
        dir_line.contains(ESC) && !key_line.contains(ESC),
        "{text:?}"
    );

    let err = on_a_terminal(&server, "get /c/none", false);
    assert!(String::from_utf8_lossy(&err.stdout).contains(&format!("{ESC}31m")));

    let plain = on_a_terminal(&server, "ls --sort /c", true);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains(ESC));

    let piped = Command::new(env!("CARGO_BIN_EXE_etcdctl"))
        .env_remove("NO_COLOR")
        .args(["--endpoints", &server.client_url(), "ls", "/c"])
        .output()
        .expect("run etcdctl");
    assert!(!String::from_utf8_lossy(&piped.stdout).contains(ESC));
}
