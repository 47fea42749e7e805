//! Shell completions and the man page of `etcd`, generated from its clap definitions (as
//! ripgrep's `rg --generate` does): `etcd --generate bash|zsh|fish|man`. The checked-in copies
//! in `completions/` and `man/` are made by `./generate`; a test fails while they are stale.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::config::Flags;

/// The completion script for `bash`, `zsh` or `fish`, or the man page for `man` (anything
/// else is refused by clap before it gets here and yields the man page).
pub fn generate(what: &str) -> Vec<u8> {
    let mut cmd = Flags::command();
    let mut out = Vec::new();
    let shell = match what {
        "bash" => Some(Shell::Bash),
        "zsh" => Some(Shell::Zsh),
        "fish" => Some(Shell::Fish),
        _ => None,
    };
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut cmd, "etcd", &mut out),
        None => clap_mangen::Man::new(cmd)
            .render(&mut out)
            .expect("rendering into memory cannot fail"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The committed files are what the code generates (run `./generate` after changing a flag).
    #[test]
    fn committed_completions_and_man_page_are_fresh() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (what, file) in [
            ("bash", "completions/etcd.bash"),
            ("zsh", "completions/_etcd"),
            ("fish", "completions/etcd.fish"),
            ("man", "man/etcd.1"),
        ] {
            let committed = std::fs::read(root.join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}; run ./generate"));
            assert!(
                committed == generate(what),
                "{file} is out of date with the flags; run ./generate"
            );
        }
    }

    #[test]
    fn the_bash_completion_loads_in_bash() {
        let script = String::from_utf8(generate("bash")).unwrap();
        let status = std::process::Command::new("bash")
            .args(["-c", &format!("{script}\ncomplete -p etcd")])
            .output()
            .expect("bash runs");
        assert!(status.status.success(), "{status:?}");
        assert!(String::from_utf8_lossy(&status.stdout).contains("etcd"));
    }
}
