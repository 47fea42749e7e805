//! What a script meets: failures that say what is wrong, fail fast, exit with the Go
//! etcdctl's codes and write to stderr, never half an import.

use std::process::Output;

use etcd_integration::cluster::Cluster;
use etcd_integration::ctl::{stderr, Ctl};
use etcd_integration::{get, EtcdProcess};

fn etcdctl(endpoint: &str, args: &[&str], stdin: &[u8]) -> Output {
    Ctl::ours()
        .endpoints(endpoint)
        .args(args)
        .stdin(stdin)
        .output()
}

#[test]
fn a_value_on_stdin_that_is_not_utf8_is_named_as_such() {
    let server = EtcdProcess::start();
    let out = etcdctl(&server.client_url(), &["set", "/bin"], b"ok\xff\xfe");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.contains("not UTF-8") && err.contains("offset 2"),
        "{err}"
    );
    assert_eq!(get(&server.keys("/bin")).expect("GET").status, 404);
}

#[test]
fn import_into_an_unreachable_cluster_fails_fast_with_exit_2() {
    let dump = tempfile::NamedTempFile::new().expect("temp file");
    let nodes: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"key":"/k{i}","value":"v"}}"#))
        .collect();
    std::fs::write(
        dump.path(),
        format!(
            "{{\"format\":\"etcdctl-export/1\",\"root\":\"/\",\"nodes\":[\n{}\n]}}",
            nodes.join(",\n")
        ),
    )
    .expect("write dump");
    let dead = format!("http://127.0.0.1:{}", etcd_integration::free_port());
    let out = etcdctl(&dead, &["import", dump.path().to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains("connection refused"), "{err}");
    assert!(!err.contains("/k1"), "no node-by-node failures: {err}");
}

#[test]
fn import_refuses_a_bad_node_with_its_line_before_writing_anything() {
    let server = EtcdProcess::start();
    let dump = tempfile::NamedTempFile::new().expect("temp file");
    for (node, why) in [
        (r#"{"key":"/app/novalue"}"#, "neither a value nor"),
        (
            r#"{"key":"elsewhere","value":"v"}"#,
            "outside the exported root /app",
        ),
    ] {
        std::fs::write(
            dump.path(),
            format!(
                "{{\"format\":\"etcdctl-export/1\",\"root\":\"/app\",\"nodes\":[\n\
                 {{\"key\":\"/app/first\",\"value\":\"v\"}},\n{node}\n]}}"
            ),
        )
        .expect("write dump");
        let out = etcdctl(
            &server.client_url(),
            &["import", dump.path().to_str().unwrap()],
            b"",
        );
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = stderr(&out);
        assert!(err.contains(":3: ") && err.contains(why), "{err}");
        assert_eq!(get(&server.keys("/app/first")).expect("GET").status, 404);
    }
}

#[test]
fn member_list_without_a_leader_reports_on_stderr() {
    let mut cluster = Cluster::start(2, &[]);
    let leader = cluster.wait_for_leader(None);
    let survivor = 1 - leader;
    cluster.members[leader].kill9();
    let endpoint = cluster.members[survivor].client_url();
    // Wait until the survivor has noticed it has no leader (check-quorum steps it down).
    let mut out = etcdctl(&endpoint, &["--no-sync", "member", "list"], b"");
    for _ in 0..100 {
        if !out.status.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        out = etcdctl(&endpoint, &["--no-sync", "member", "list"], b"");
    }
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "errors go to stderr: {out:?}");
    assert!(stderr(&out).contains("Failed to get leader"), "{out:?}");
}
