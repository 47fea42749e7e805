//! Clusters of our real `etcd` processes on loopback: the first member starts a new cluster,
//! the others join it with `-peers`, as the seed README does. Optionally every peer link
//! crosses a fault-injecting [`Proxy`](crate::proxy::Proxy).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::proxy::{Faults, Proxy};
use crate::{get, request, EtcdProcess, Options, Reply};

/// How long the harness waits for a cluster to agree on something before failing the test.
pub const AGREEMENT_DEADLINE: Duration = Duration::from_secs(60);

/// A running cluster; every process is killed on drop.
pub struct Cluster {
    /// The members, in start order (`machine1`, `machine2`, ...).
    pub members: Vec<EtcdProcess>,
    /// Link faults, when the cluster runs behind proxies.
    pub faults: Option<Arc<Faults>>,
    proxies: Vec<(Proxy, Arc<Mutex<String>>)>,
    extra: Vec<String>,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// `n` members with `extra` flags each.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        Self::build(n, extra, false)
    }

    /// Three members behind proxies with a follower cut off from the others while the
    /// majority overwrites `/k` ("old", then "new"): the cluster, the follower, and the answer
    /// to the write it missed.
    pub fn with_stale_follower(extra: &[&str]) -> (Cluster, usize, Reply) {
        let c = Cluster::start_with_proxies(3, extra);
        let leader = c.wait_for_leader(None);
        c.put_acked(leader, "/k", "old");
        c.wait_converged();
        let follower = (0..3).find(|i| *i != leader).unwrap();
        c.faults
            .as_ref()
            .expect("started with proxies")
            .isolate(&c.id_of(follower));
        let missed = c.put_acked(leader, "/k", "new");
        (c, follower, missed)
    }

    /// `n` members whose peer links cross fault-injecting proxies.
    pub fn start_with_proxies(n: usize, extra: &[&str]) -> Cluster {
        Self::build(n, extra, true)
    }

    fn build(n: usize, extra: &[&str], proxied: bool) -> Cluster {
        let mut c = Cluster {
            members: Vec::new(),
            faults: proxied.then(|| Arc::new(Faults::default())),
            proxies: Vec::new(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for _ in 0..n {
            c.add_member();
        }
        c
    }

    /// Starts one more member, joining through the first running one; returns its index.
    pub fn add_member(&mut self) -> usize {
        let i = self.members.len();
        let name = format!("machine{}", i + 1);
        // The member picks its own ports (`:0`); a proxy in front of it starts first, as the
        // member advertises the proxy's port, and forwards once the member has bound its own.
        let advertised = self.faults.as_ref().map(|faults| {
            let id = Arc::new(Mutex::new(String::new()));
            let proxy = Proxy::start(id.clone(), faults.clone());
            let port = proxy.port;
            self.proxies.push((proxy, id));
            port
        });
        let mut extra = self.extra.clone();
        if let Some(via) = self.running().next() {
            extra.push("-peers".into());
            extra.push(format!("127.0.0.1:{}", self.advertised_peer_port(via)));
        }
        let mut p = EtcdProcess::start_unready(Options {
            name: name.clone(),
            extra,
            data_dir: Some(self.dir.path().join(&name)),
            advertised_peer_port: advertised,
            ..Options::default()
        });
        if let Some((proxy, _)) = self.proxies.get(i) {
            proxy.set_target(SocketAddr::from(([127, 0, 0, 1], p.peer_port)));
        }
        p.wait_ready();
        self.members.push(p);
        if let Some((_, id)) = self.proxies.get(i) {
            *id.lock().unwrap() = self.id_of(i);
        }
        i
    }

    /// The peer port member `i` advertises (its proxy's, when proxied).
    pub fn advertised_peer_port(&self, i: usize) -> u16 {
        match self.proxies.get(i) {
            Some((proxy, _)) => proxy.port,
            None => self.members[i].peer_port,
        }
    }

    /// Indexes of members whose process runs.
    pub fn running(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.members.len()).filter(|i| self.members[*i].pid().is_some())
    }

    /// Member `i`'s raft id, hex, as `/v2/members` lists it (asked of any running member).
    pub fn id_of(&self, i: usize) -> String {
        let name = &self.members[i].name;
        for j in self.running() {
            if let Ok(r) = get(&self.members[j].url("/v2/members")) {
                let v = r.json();
                if let Some(m) = v["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| m["name"] == name.as_str())
                {
                    return m["id"].as_str().unwrap_or_default().to_string();
                }
            }
        }
        panic!("no running member knows {name}");
    }

    /// Which running member says it leads, if any.
    pub fn leader(&self) -> Option<usize> {
        self.running().find(|i| {
            get(&self.members[*i].url("/v2/stats/self"))
                .map(|r| r.status == 200 && r.json()["state"] == "StateLeader")
                .unwrap_or(false)
        })
    }

    /// Waits until a running member other than `not` leads and the others agree; returns it.
    pub fn wait_for_leader(&self, not: Option<usize>) -> usize {
        let deadline = Instant::now() + AGREEMENT_DEADLINE;
        loop {
            if let Some(l) = self.leader().filter(|l| Some(*l) != not) {
                // http or https, as the members' peer links speak.
                let addr = format!("://127.0.0.1:{}", self.advertised_peer_port(l));
                let agreed = self.running().filter(|i| Some(*i) != not).all(|i| {
                    get(&self.members[i].url("/v2/leader"))
                        .map(|r| r.body.starts_with("http") && r.body.ends_with(&addr))
                        .unwrap_or(false)
                });
                if agreed {
                    return l;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no agreed leader within {AGREEMENT_DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `PUT /v2/keys<key>` with `value=<value>` on member `i`.
    pub fn put(&self, i: usize, key: &str, value: &str) -> Result<Reply, String> {
        request(
            "PUT",
            &self.members[i].keys(key),
            Some(&format!("value={value}")),
        )
    }

    /// `PUT /v2/keys<key>` with `value=<value>` on member `i`, which must be acknowledged
    /// (fails the test with the reply otherwise).
    pub fn put_acked(&self, i: usize, key: &str, value: &str) -> Reply {
        let r = self
            .put(i, key, value)
            .unwrap_or_else(|e| panic!("PUT {key} on member {i}: {e}"));
        assert!(
            r.is_written(),
            "PUT {key} on member {i}: {} {}",
            r.status,
            r.body
        );
        r
    }

    /// Waits until every running member has applied the same index (read locally through
    /// `X-Etcd-Index`); returns it.
    pub fn wait_converged(&self) -> u64 {
        let deadline = Instant::now() + AGREEMENT_DEADLINE;
        loop {
            let indexes: Vec<u64> = self
                .running()
                .filter_map(|i| get(&self.members[i].keys("/")).ok())
                .map(|r| r.etcd_index())
                .collect();
            let n = self.running().count();
            if indexes.len() == n && indexes.windows(2).all(|w| w[0] == w[1]) {
                return indexes[0];
            }
            assert!(
                Instant::now() < deadline,
                "members did not converge: {indexes:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
