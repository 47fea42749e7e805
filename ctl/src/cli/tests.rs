//! Parsing tests: durations, endpoints and the flags scripts rely on.

use super::*;
use clap::CommandFactory;

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_command_has_an_example_in_its_help() {
    fn check(cmd: &clap::Command, path: &str) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{path} {}", sub.get_name());
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                after.contains("Example") && after.contains("etcdctl "),
                "{name} has no example in --help"
            );
            check(sub, &name);
        }
    }
    check(&Cli::command(), "etcdctl");
}

#[test]
fn durations_parse_like_go() {
    assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
    assert!(parse_duration("").is_err());
    assert!(parse_duration("5x").is_err());
    assert!(parse_duration("-1").is_err());
    assert!(parse_duration("s").is_err());
}

#[test]
fn endpoints_are_normalized() {
    assert_eq!(
        normalize_endpoints(" 127.0.0.1:4001 ,, https://h:1/".split(',')),
        vec!["http://127.0.0.1:4001", "https://h:1"]
    );
}

#[test]
fn exec_watch_takes_the_command_after_dashes() {
    let cli = Cli::try_parse_from(["etcdctl", "exec-watch", "-r", "/k", "--", "sh", "-c", "x"])
        .expect("parses");
    match cli.command {
        Cmd::ExecWatch {
            key,
            command,
            recursive,
            ..
        } => {
            assert_eq!(key, "/k");
            assert!(recursive);
            assert_eq!(command, ["sh", "-c", "x"]);
        }
        other => panic!("parsed as {other:?}"),
    }
}
