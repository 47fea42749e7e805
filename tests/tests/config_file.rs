//! `-config FILE`: etcd 0.2's TOML file, overridden by `ETCD_*` variables, overridden by
//! flags; a bad file stops the start naming its line.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use etcd_integration::{get, read_ports, workspace_bin};

/// A server started by hand (the harness passes -name and the ports as flags, which would
/// hide the file); killed on drop.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The client and peer ports it bound (the file asks for port 0), read from the data dir
    /// the file names.
    fn ports(&mut self, dir: &Path) -> (u16, u16) {
        read_ports(&dir.join("data"), &mut self.child, &self.log).unwrap_or_else(|| {
            panic!(
                "etcd exited during start: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            )
        })
    }
}

/// Starts etcd with `args` and `env` (and no other `ETCD_*` variable), logging into `dir`.
fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(workspace_bin("etcd"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ETCD_")) {
        cmd.env_remove(k);
    }
    let log = dir.join("etcd.log");
    let out = std::fs::File::create(&log).expect("log file");
    cmd.args(args)
        .envs(env.iter().copied())
        .stdout(out.try_clone().expect("clone log"))
        .stderr(out);
    Server {
        child: cmd.spawn().expect("start etcd"),
        log,
    }
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

/// `dir/etcd.conf`, listening on ports the server picks (`:0`), with its data dir `dir/data`.
fn write_config(dir: &Path, extra: &str) -> String {
    let path = dir.join("etcd.conf");
    let text = format!(
        "name = \"from-file\"\ndata_dir = \"{}\"\naddr = \"127.0.0.1:0\"\n\
         cors = [\"http://file.example\"]\n{extra}\n[peer]\naddr = \"127.0.0.1:0\"\n",
        dir.join("data").display()
    );
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

#[test]
fn the_file_configures_a_server_started_with_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write_config(dir.path(), "snapshot_count = 3");
    let mut s = spawn(dir.path(), &["-config", &conf], &[]);
    let (client, peer) = s.ports(dir.path());
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
    let conf = write_config(dir.path(), "");
    let mut s = spawn(
        dir.path(),
        &["-config", &conf],
        &[
            ("ETCD_NAME", "from-env"),
            ("ETCD_CORS", "http://env.example"),
        ],
    );
    let (client, _) = s.ports(dir.path());
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
    let conf = write_config(dir.path(), "");
    let mut s = spawn(
        dir.path(),
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
    let (client, _) = s.ports(dir.path());
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
