//! Fresh deployments for one measurement: ours or etcd 3.4, one member or a cluster, plain
//! HTTP or HTTPS, with the suite's flags; the leader found so load goes where writes commit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use etcd_integration::cluster::Cluster;
use etcd_integration::{EtcdProcess, Flavor, Options};

use crate::tls;

/// Which server, and how it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// Our `etcd`, linearizable GETs (its default).
    Ours,
    /// Our `etcd` with `-local-reads` (etcd 2's stale local GETs).
    OursLocalReads,
    /// The reference etcd 3.4 with `--enable-v2`.
    Etcd,
}

impl Server {
    /// The name the tables and the JSON use.
    pub fn label(self) -> &'static str {
        match self {
            Server::Ours => "ours",
            Server::OursLocalReads => "ours -local-reads",
            Server::Etcd => "etcd 3.4",
        }
    }
}

/// How to start a deployment.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Which server.
    pub server: Server,
    /// Members (1 or 3).
    pub members: usize,
    /// `-snapshot-count` / `--snapshot-count`; `None` keeps the server's default.
    pub snapshot_count: Option<u64>,
    /// Serve clients over HTTPS with the fixture certificate (one member only).
    pub https: Option<Arc<rustls::ClientConfig>>,
}

/// Running members, killed on drop.
pub enum Members {
    /// Ours, started through the harness's cluster (the first new, the others joined).
    Ours(Cluster),
    /// Processes started one by one (etcd 3.4, or ours on HTTPS).
    Processes(Vec<EtcdProcess>),
}

/// A fresh deployment under test.
pub struct Deployment {
    /// The members.
    pub members: Members,
    /// `http(s)://127.0.0.1:<port>` of each member.
    pub bases: Vec<String>,
    /// Index of the leader when the deployment was started (the load goes there).
    pub leader: usize,
    /// The TLS client config when serving HTTPS.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Starts `flavor` as one member serving HTTPS with the fixture certificate, once `/health`
/// answers through `tls`, with `extra` flags; `None` when etcd 3.4 is not installed.
pub fn start_https(
    flavor: Flavor,
    tls: &Arc<rustls::ClientConfig>,
    extra: &[String],
) -> Option<EtcdProcess> {
    let crt = tls::fixtures().join("server.crt").display().to_string();
    let key = tls::fixtures()
        .join("server.key.insecure")
        .display()
        .to_string();
    // etcd 3.4 spells its flags with two dashes, ours with one (as etcd 0.2 did).
    let dash = if flavor == Flavor::Ours { "-" } else { "--" };
    let mut flags = vec![
        format!("{dash}cert-file"),
        crt,
        format!("{dash}key-file"),
        key,
    ];
    flags.extend(extra.iter().cloned());
    let mut process = match flavor {
        Flavor::Ours => EtcdProcess::start_unready(Options {
            extra: flags,
            ..Options::default()
        }),
        Flavor::Reference => {
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            EtcdProcess::start_reference_unready(&flags, "https")?
        }
    };
    let probe = tls::agent(&Some(tls.clone()), Duration::from_secs(5));
    process.wait_ready_by(|p| {
        let health = format!("https://127.0.0.1:{}/health", p.client_port);
        probe
            .get(&health)
            .call()
            .is_ok_and(|r| r.into_string().unwrap_or_default().contains("true"))
    });
    Some(process)
}

impl Setup {
    fn flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        let dash = if self.server == Server::Etcd {
            "--"
        } else {
            "-"
        };
        if let Some(n) = self.snapshot_count {
            f.push(format!("{dash}snapshot-count"));
            f.push(n.to_string());
        }
        if self.server == Server::OursLocalReads {
            f.push("-local-reads".into());
        }
        f
    }

    /// Starts the deployment; `None` when it needs etcd 3.4 and that is not installed.
    pub fn start(&self) -> Option<Deployment> {
        let flags = self.flags();
        let flavor = match self.server {
            Server::Etcd => Flavor::Reference,
            _ => Flavor::Ours,
        };
        let members = match (&self.https, flavor) {
            (Some(t), _) => {
                assert_eq!(self.members, 1, "HTTPS runs on one member");
                Members::Processes(vec![start_https(flavor, t, &flags)?])
            }
            (None, Flavor::Ours) => {
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                Members::Ours(Cluster::start(self.members, &flags))
            }
            (None, Flavor::Reference) => {
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                Members::Processes(EtcdProcess::start_reference_cluster_with(
                    self.members,
                    &flags,
                )?)
            }
        };
        let scheme = if self.https.is_some() {
            "https"
        } else {
            "http"
        };
        let mut d = Deployment {
            bases: Vec::new(),
            members,
            leader: 0,
            tls: self.https.clone(),
        };
        d.bases = d
            .processes()
            .iter()
            .map(|p| format!("{scheme}://127.0.0.1:{}", p.client_port))
            .collect();
        d.leader = d.find_leader();
        Some(d)
    }
}

impl Deployment {
    /// The member processes.
    pub fn processes(&self) -> &[EtcdProcess] {
        match &self.members {
            Members::Ours(c) => &c.members,
            Members::Processes(p) => p,
        }
    }

    /// The member processes, to restart them.
    pub fn processes_mut(&mut self) -> &mut [EtcdProcess] {
        match &mut self.members {
            Members::Ours(c) => &mut c.members,
            Members::Processes(p) => p,
        }
    }

    /// The server processes' ids (for their CPU time).
    pub fn pids(&self) -> Vec<u32> {
        self.processes().iter().filter_map(|p| p.pid()).collect()
    }

    /// A keep-alive agent speaking this deployment's scheme.
    pub fn agent(&self, timeout: Duration) -> ureq::Agent {
        tls::agent(&self.tls, timeout)
    }

    /// Where a write load under `/v2/keys<prefix>` on the leader goes: the lean client over
    /// plain HTTP, ureq (with `timeout`) over HTTPS.
    pub fn write_target(&self, prefix: &str, timeout: Duration) -> crate::load::Target {
        match &self.tls {
            None => crate::load::Target::Raw {
                port: self.processes()[self.leader].client_port,
                prefix: format!("/v2/keys{prefix}"),
            },
            Some(_) => {
                let tls = self.tls.clone();
                crate::load::Target::Agent {
                    base: format!("{}{prefix}", self.leader_keys()),
                    agent: std::sync::Arc::new(move || tls::agent(&tls, timeout)),
                }
            }
        }
    }

    /// `<leader>/v2/keys`.
    pub fn leader_keys(&self) -> String {
        format!("{}/v2/keys", self.bases[self.leader])
    }

    /// Which member says it leads (both servers answer `/v2/stats/self` with a `state`);
    /// waits for one, as a cluster just started may still be electing.
    fn find_leader(&self) -> usize {
        if self.bases.len() == 1 {
            return 0;
        }
        let agent = self.agent(Duration::from_secs(5));
        for _ in 0..600 {
            for (i, base) in self.bases.iter().enumerate() {
                let state = agent
                    .get(&format!("{base}/v2/stats/self"))
                    .call()
                    .ok()
                    .and_then(crate::load::json_body)
                    .map(|v| v["state"] == "StateLeader");
                if state == Some(true) {
                    return i;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no member of {:?} leads", self.bases);
    }

    /// VmRSS of member `i` in MiB (0 once it is gone).
    pub fn rss_mib(&self, i: usize) -> f64 {
        let Some(pid) = self.processes()[i].pid() else {
            return 0.0;
        };
        crate::procfs::status_mib(pid, "VmRSS")
    }

    /// Bytes under member `i`'s data dir.
    pub fn data_dir_bytes(&self, i: usize) -> u64 {
        dir_bytes(&self.processes()[i].data_dir)
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}
