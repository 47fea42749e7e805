//! Flag parsing: etcd 0.2 spellings, etcd 2.x aliases, environment variables, defaults and
//! the resolution into a `Config`.

use super::*;

fn parse(args: &[&str]) -> Config {
    let argv = normalise_args(args.iter().map(|s| s.to_string()));
    Config::from_flags(Flags::try_parse_from(argv).unwrap()).unwrap()
}

#[test]
fn port_zero_advertises_the_bound_port() {
    let mut c = parse(&["etcd", "-addr", "127.0.0.1:0", "-peer-addr", "127.0.0.1:0"]);
    assert_eq!(c.bind_addr, "127.0.0.1:0");
    assert_eq!(c.peer_bind_addr, "127.0.0.1:0");
    c.advertise_bound_ports(40001, 40002);
    assert_eq!(c.client_url, "http://127.0.0.1:40001");
    assert_eq!(c.peer_url, "http://127.0.0.1:40002");
    // A real advertised port stays even when the listener took port 0.
    let mut c = parse(&[
        "etcd",
        "-peer-addr",
        "127.0.0.1:7010",
        "-peer-bind-addr",
        "127.0.0.1:0",
    ]);
    c.advertise_bound_ports(40001, 40002);
    assert_eq!(c.peer_url, "http://127.0.0.1:7010");
    assert_eq!(c.client_url, "http://127.0.0.1:4001");
}

#[test]
fn client_cert_auth_is_accepted_only_with_the_ca_it_needs() {
    let from = |args: &[&str]| {
        let argv = normalise_args(args.iter().map(|s| s.to_string()));
        Config::from_flags(Flags::try_parse_from(argv).unwrap())
    };
    let ca = "--trusted-ca-file=ca.crt";
    assert!(from(&["etcd", ca, "--client-cert-auth"]).is_ok());
    assert!(from(&["etcd", ca, "-client-cert-auth=true"]).is_ok());
    let e = from(&["etcd", "--client-cert-auth"]).unwrap_err();
    assert!(e.contains("needs -ca-file"), "{e}");
    let e = from(&["etcd", ca, "--client-cert-auth=false"]).unwrap_err();
    assert!(e.contains("always requires"), "{e}");
    let e = from(&["etcd", "--peer-client-cert-auth"]).unwrap_err();
    assert!(e.contains("-peer-ca-file"), "{e}");
}

#[test]
fn seed_flags_with_one_dash() {
    let c = parse(&["etcd", "-data-dir", "machine0", "-name", "machine0"]);
    assert_eq!(c.name, "machine0");
    assert_eq!(c.data_dir, PathBuf::from("machine0"));
    assert_eq!(c.client_url, "http://127.0.0.1:4001");
    assert_eq!(c.peer_url, "http://127.0.0.1:7001");
    assert_eq!(c.bind_addr, "127.0.0.1:4001");
}

#[test]
fn cluster_flags_and_equals_form() {
    let c = parse(&[
        "etcd",
        "-peer-addr",
        "127.0.0.1:7002",
        "-addr=127.0.0.1:4002",
        "-peers",
        "127.0.0.1:7001",
        "--data-dir",
        "m2",
        "-name",
        "machine2",
        "-f",
    ]);
    assert_eq!(c.peer_url, "http://127.0.0.1:7002");
    assert_eq!(c.client_url, "http://127.0.0.1:4002");
    assert_eq!(c.peers, vec!["127.0.0.1:7001"]);
    assert!(c.force);
}

#[test]
fn force_new_cluster_is_a_switch_that_excludes_force() {
    assert!(parse(&["etcd", "-force-new-cluster"]).force_new_cluster);
    assert!(!parse(&["etcd"]).force_new_cluster);
    let argv = normalise_args(["etcd", "-force-new-cluster", "-f"].map(String::from));
    assert!(
        Flags::try_parse_from(argv).is_err(),
        "-f would wipe what it recovers"
    );
}

#[test]
fn bind_host_takes_the_advertised_port() {
    let c = parse(&[
        "etcd",
        "-name",
        "m",
        "-addr",
        "127.0.0.5:4005",
        "-bind-addr",
        "0.0.0.0",
    ]);
    assert_eq!(c.bind_addr, "0.0.0.0:4005");
    let c = parse(&["etcd", "-name", "m", "-cert-file", "c", "-key-file", "k"]);
    assert_eq!(c.client_url, "https://127.0.0.1:4001");
}
