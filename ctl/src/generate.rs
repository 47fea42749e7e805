//! Shell completions and man pages, generated from the clap definition in `cli.rs` (the one
//! source of truth, as ripgrep and fd do). The files under `completions/` and `man/` are
//! these functions' output, refreshed by `./generate` and checked by `ctl/tests/generated.rs`.
//!
//! The functions take any `clap::Command`, so the server binary (`etcd`) can produce its own
//! files the same way: see the note for `etcd` in `./generate`.

use clap::CommandFactory;
use clap_complete::Shell as ClapShell;

use crate::cli::{Cli, Shell};

/// The completion script for `cmd` (named `bin`) in `shell`.
pub fn completion_script(mut cmd: clap::Command, bin: &str, shell: Shell) -> Vec<u8> {
    let shell = match shell {
        Shell::Bash => ClapShell::Bash,
        Shell::Zsh => ClapShell::Zsh,
        Shell::Fish => ClapShell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, bin, &mut out);
    out
}

/// Renders one roff page.
fn render(cmd: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd).render(&mut out);
    out
}

/// Man pages for `cmd`: `<bin>.1`, then `<bin>-<sub>.1` for each subcommand (recursively,
/// e.g. `etcdctl-member-add.1`), as `(file name, roff)` pairs.
pub fn man_pages(cmd: clap::Command) -> Vec<(String, Vec<u8>)> {
    let mut cmd = cmd;
    // Propagates global flags into subcommands so each page lists them.
    cmd.build();
    let mut pages = Vec::new();
    let version = cmd.get_version().unwrap_or_default().to_string();
    collect_pages(&cmd, cmd.get_name().to_string(), &version, &mut pages);
    pages
}

fn collect_pages(
    cmd: &clap::Command,
    name: String,
    version: &str,
    pages: &mut Vec<(String, Vec<u8>)>,
) {
    // Subcommands carry no version of their own; the page footer should show the tool's.
    let page = cmd.clone().name(name.clone()).version(version.to_string());
    pages.push((format!("{name}.1"), render(page)));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect_pages(sub, format!("{name}-{}", sub.get_name()), version, pages);
    }
}

/// `etcdctl completion <shell>`.
pub fn etcdctl_completion(shell: Shell) -> Vec<u8> {
    completion_script(Cli::command(), "etcdctl", shell)
}

/// `etcdctl man`: every page of etcdctl.
pub fn etcdctl_man_pages() -> Vec<(String, Vec<u8>)> {
    man_pages(Cli::command())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_page_and_completions_name_them() {
        let pages = etcdctl_man_pages();
        let names: Vec<_> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "etcdctl.1",
            "etcdctl-watch.1",
            "etcdctl-exec-watch.1",
            "etcdctl-member-add.1",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let bash = String::from_utf8(etcdctl_completion(Shell::Bash)).expect("utf-8");
        assert!(bash.contains("exec-watch") && bash.contains("cluster-health"));
    }
}
