//! `user`, `role` and `auth` with both tools.

use super::*;

/// `user`, `role` and `auth` as a new administrator would run them, errors included: the same
/// stdout, stderr and exit codes as the Go etcdctl, against the reference etcd 3.4 (which has
/// etcd 2.x's v2 auth).
const AUTH_SCRIPT: &[&[&str]] = &[
    &["user", "list"],
    &["user", "add", "root:rootpw"],
    &["user", "add", "alice:alicepw"],
    &["user", "list"],
    &["user", "get", "root"],
    &["user", "get", "nobody"],
    &["user", "get"],
    &["user", "list", "extra"],
    &["role", "list"],
    &["role", "add", "readers"],
    &["role", "add", "readers"],
    &["role", "get", "readers"],
    &["role", "get", "nope"],
    &["role", "get"],
    &["role", "grant", "--path", "/conf/*", "--read", "readers"],
    &["role", "grant", "--path", "/conf/*", "--read", "readers"],
    &["role", "grant", "--path", "/conf/*", "--rw", "readers"],
    &["role", "grant", "--path", "conf", "--read", "readers"],
    &["role", "grant", "--path", "/x", "readers"],
    &["role", "grant", "--read", "readers"],
    &["role", "get", "readers"],
    &["role", "revoke", "--path", "/conf/*", "--write", "readers"],
    &["role", "revoke", "--path", "/nothere", "--write", "readers"],
    &["user", "grant", "--roles", "readers", "alice"],
    &["user", "grant", "alice"],
    &["user", "get", "alice"],
    &["user", "revoke", "--roles", "readers", "alice"],
    &["user", "revoke", "--roles", "readers", "alice"],
    &["auth", "enable"],
    &["auth", "enable", "now"],
    &["user", "list"],
    &["--username", "root:wrong", "user", "list"],
    &["--username", "root:rootpw", "user", "list"],
    &["--username", "root:rootpw", "role", "list"],
    &["--username", "alice:alicepw", "user", "list"],
    &["--username", "root:rootpw", "set", "/conf/a", "1"],
    &["--username", "alice:alicepw", "get", "/conf/a"],
    &["--username", "root:rootpw", "auth", "enable"],
    &["--username", "root:rootpw", "user", "remove", "alice"],
    &["--username", "root:rootpw", "user", "remove", "alice"],
    &["--username", "root:rootpw", "role", "remove", "readers"],
    &["--username", "root:rootpw", "role", "remove", "readers"],
    &["--username", "root:rootpw", "auth", "disable"],
    &["auth", "disable"],
];

#[test]
fn auth_commands_match_against_the_reference_etcd() {
    let Some((a, b)) = two_references() else {
        return;
    };
    for args in AUTH_SCRIPT {
        let mine = run_on(ours(), &a.client_url(), args, None);
        let theirs = run_on(Path::new(GO), &b.client_url(), args, None);
        assert_same(args, &mine, &theirs);
        assert_eq!(
            String::from_utf8_lossy(&mine.stderr),
            String::from_utf8_lossy(&theirs.stderr),
            "etcdctl {args:?}: stderr"
        );
    }
}

/// The Go etcdctl's user, role and auth commands against our server answer as they do against
/// etcd 3.4: our /v2/auth serves what the Go client expects.
#[test]
fn the_go_etcdctl_auth_commands_work_against_our_server() {
    if !go_available() {
        return;
    }
    let Some(reference) = EtcdProcess::start_reference() else {
        return;
    };
    let server = EtcdProcess::start();
    for args in AUTH_SCRIPT {
        let on_ours = run_on(Path::new(GO), &server.client_url(), args, None);
        let on_reference = run_on(Path::new(GO), &reference.client_url(), args, None);
        assert_same(args, &on_ours, &on_reference);
        assert_eq!(
            String::from_utf8_lossy(&on_ours.stderr),
            String::from_utf8_lossy(&on_reference.stderr),
            "Go etcdctl {args:?}: stderr"
        );
    }
}
