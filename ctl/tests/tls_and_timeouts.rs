//! `--ca-file`, `--cert-file`, `--key-file` (and their `ETCDCTL_*` variables) against the
//! reference etcd 3.4 serving HTTPS with client-certificate auth (our server's TLS comes
//! later), and `--total-timeout` against a server that never answers.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use etcd_integration::ctl::Ctl;
use etcd_integration::{reference_available, tool_available, EtcdProcess};

fn etcdctl(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let with_env = |c: Ctl, (k, v): &(&str, &Path)| c.env(k, v);
    env.iter().fold(Ctl::ours().args(args), with_env).output()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA and two leaves it signed (server for 127.0.0.1, client), as PEM files in `dir`.
fn make_pki(dir: &Path) {
    std::fs::write(
        dir.join("ext.cnf"),
        "[srv]\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n\
         [cli]\nextendedKeyUsage=clientAuth\n",
    )
    .expect("write ext");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    for (name, ext) in [("server", "srv"), ("client", "cli")] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
}

/// The reference etcd on HTTPS with client-certificate auth, once `etcdctl ls` gets through;
/// its `https://` URL beside it.
fn start_tls_etcd(dir: &Path) -> (EtcdProcess, String) {
    let p = |f: &str| dir.join(f).display().to_string();
    let (cert, key, ca) = (p("server.pem"), p("server.key"), p("ca.pem"));
    let tls = [
        "--cert-file",
        &cert,
        "--key-file",
        &key,
        "--trusted-ca-file",
        &ca,
        "--client-cert-auth",
    ];
    let mut server =
        EtcdProcess::start_reference_unready(&tls, "https").expect("checked: etcd 3.4 installed");
    let url = format!("https://127.0.0.1:{}", server.client_port);
    let env_owned = tls_env(dir);
    let env: Vec<(&str, &Path)> = env_owned.iter().map(|(k, v)| (*k, v.as_path())).collect();
    server.wait_ready_by(|_| {
        etcdctl(&["--endpoints", &url, "--no-sync", "ls", "/"], &env)
            .status
            .success()
    });
    (server, url)
}

fn tls_env(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("ETCDCTL_CA_FILE", dir.join("ca.pem")),
        ("ETCDCTL_CERT_FILE", dir.join("client.pem")),
        ("ETCDCTL_KEY_FILE", dir.join("client.key")),
    ]
}

#[test]
fn client_certificates_reach_an_https_etcd() {
    if !tool_available(Path::new("/usr/bin/openssl").exists(), "openssl") || !reference_available()
    {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    make_pki(dir);
    let env_owned = tls_env(dir);
    let env: Vec<(&str, &Path)> = env_owned.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let (_server, url) = start_tls_etcd(dir);

    // Through the environment, with the member-list sync on.
    let set = etcdctl(&["--endpoints", &url, "set", "/tls", "yes"], &env);
    assert!(set.status.success(), "{set:?}");
    assert_eq!(String::from_utf8_lossy(&set.stdout), "yes\n");

    // Through flags.
    let path = |f: &str| dir.join(f).display().to_string();
    let (ca, cert, key) = (path("ca.pem"), path("client.pem"), path("client.key"));
    let get = etcdctl(
        &[
            "--endpoints",
            &url,
            "--ca-file",
            &ca,
            "--cert-file",
            &cert,
            "--key-file",
            &key,
            "get",
            "/tls",
        ],
        &[],
    );
    assert!(get.status.success(), "{get:?}");
    assert_eq!(String::from_utf8_lossy(&get.stdout), "yes\n");

    // Without a client certificate the server refuses the handshake.
    let anon = etcdctl(
        &[
            "--endpoints",
            &url,
            "--no-sync",
            "--ca-file",
            &ca,
            "get",
            "/tls",
        ],
        &[],
    );
    assert_eq!(anon.status.code(), Some(4), "{anon:?}");
    // Without the CA our client does not trust the server.
    let untrusted = etcdctl(
        &[
            "--endpoints",
            &url,
            "--no-sync",
            "--cert-file",
            &cert,
            "--key-file",
            &key,
            "get",
            "/tls",
        ],
        &[],
    );
    assert_eq!(untrusted.status.code(), Some(4), "{untrusted:?}");
}

#[test]
fn unreadable_tls_files_are_bad_arguments() {
    let out = etcdctl(
        &["--ca-file", "/nonexistent/ca.pem", "--no-sync", "get", "/k"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read CA file"));
}

#[test]
fn total_timeout_ends_a_command_against_a_silent_server() {
    // Accepts connections (the kernel completes the handshake) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let out = etcdctl(
        &[
            "--endpoints",
            &url,
            "--no-sync",
            "--timeout",
            "30s",
            "--total-timeout",
            "300ms",
            "get",
            "/k",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timeout"),
        "{out:?}"
    );
}
