//! `-config FILE`: etcd 0.2's TOML file, overridden by `ETCD_*` variables, overridden by
//! flags; a bad file stops the start naming its line.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etcd_integration::{free_port, get, workspace_bin};

/// A server started by hand (the harness passes -name and the ports as flags, which would
/// hide the file); killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(workspace_bin("etcd"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ETCD_")) {
        cmd.env_remove(k);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Server(cmd.spawn().expect("start etcd"))
}

/// `GET /v2/stats/self` once the server on `port` is healthy.
fn stats_self(port: u16) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let healthy = get(&format!("http://127.0.0.1:{port}/health"))
            .is_ok_and(|r| r.status == 200 && r.body.contains("true"));
        if healthy {
            let r = get(&format!("http://127.0.0.1:{port}/v2/stats/self")).expect("stats");
            return r.json();
        }
        assert!(Instant::now() < deadline, "no server on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The CORS origin the server on `port` allows for `origin`, if any.
fn allowed_origin(port: u16, origin: &str) -> Option<String> {
    let r = ureq::get(&format!("http://127.0.0.1:{port}/v2/keys/"))
        .set("Origin", origin)
        .call()
        .expect("GET");
    r.header("Access-Control-Allow-Origin").map(String::from)
}

fn write_config(dir: &Path, client: u16, peer: u16, extra: &str) -> String {
    let path = dir.join("etcd.conf");
    let text = format!(
        "name = \"from-file\"\ndata_dir = \"{}\"\naddr = \"127.0.0.1:{client}\"\n\
         cors = [\"http://file.example\"]\n{extra}\n[peer]\naddr = \"127.0.0.1:{peer}\"\n",
        dir.join("data").display()
    );
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

#[test]
fn the_file_configures_a_server_started_with_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (client, peer) = (free_port(), free_port());
    let conf = write_config(dir.path(), client, peer, "snapshot_count = 3");
    let _s = spawn(&["-config", &conf], &[]);
    assert_eq!(stats_self(client)["name"], "from-file");
    assert!(
        dir.path().join("data").join("log").exists(),
        "data_dir used"
    );
    let machines = get(&format!("http://127.0.0.1:{client}/v2/machines")).unwrap();
    assert_eq!(machines.body.trim(), format!("http://127.0.0.1:{client}"));
    let leader = get(&format!("http://127.0.0.1:{client}/v2/leader")).unwrap();
    assert_eq!(leader.body.trim(), format!("http://127.0.0.1:{peer}"));
    assert_eq!(
        allowed_origin(client, "http://file.example").as_deref(),
        Some("http://file.example")
    );
}

#[test]
fn an_environment_variable_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (client, peer) = (free_port(), free_port());
    let conf = write_config(dir.path(), client, peer, "");
    let _s = spawn(
        &["-config", &conf],
        &[
            ("ETCD_NAME", "from-env"),
            ("ETCD_CORS", "http://env.example"),
        ],
    );
    assert_eq!(stats_self(client)["name"], "from-env");
    assert_eq!(allowed_origin(client, "http://file.example"), None);
    assert_eq!(
        allowed_origin(client, "http://env.example").as_deref(),
        Some("http://env.example")
    );
}

#[test]
fn a_flag_beats_the_environment_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (client, peer) = (free_port(), free_port());
    let conf = write_config(dir.path(), client, peer, "");
    let _s = spawn(
        &[
            "-config",
            &conf,
            "-name",
            "from-flag",
            "-cors",
            "http://flag.example",
        ],
        &[
            ("ETCD_NAME", "from-env"),
            ("ETCD_CORS", "http://env.example"),
        ],
    );
    assert_eq!(stats_self(client)["name"], "from-flag");
    assert_eq!(allowed_origin(client, "http://env.example"), None);
    assert_eq!(
        allowed_origin(client, "http://flag.example").as_deref(),
        Some("http://flag.example")
    );
}

#[test]
fn a_bad_file_stops_the_start_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("etcd.conf");
    std::fs::write(
        &conf,
        "name = \"x\"\n\n[peer]\nheartbeat_timeout = \"fast\"\n",
    )
    .unwrap();
    let out = Command::new(workspace_bin("etcd"))
        .args(["-config", conf.to_str().unwrap()])
        .output()
        .expect("run etcd");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("etcd.conf") && err.contains("line 4"), "{err}");
}
