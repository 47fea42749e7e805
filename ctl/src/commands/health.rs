//! `cluster-health`: asks every member's `/health`, as the Go etcdctl (2.x) does and prints.

use std::time::Duration;

use common::Member;

use crate::client::Client;
use crate::failure::Failure;

/// Pause between rounds with `--forever`, as in the Go etcdctl.
const FOREVER_INTERVAL: Duration = Duration::from_secs(10);

/// How one member answered.
fn check_member(client: &Client, m: &Member) -> (bool, Vec<String>) {
    let mut lines = Vec::new();
    if m.client_urls.is_empty() {
        lines.push(format!(
            "member {} is unreachable: no available published client urls",
            m.id
        ));
        return (false, lines);
    }
    #[derive(serde::Deserialize)]
    struct Health {
        health: String,
    }
    for url in &m.client_urls {
        let health = client
            .get_url(&format!("{}/health", url.trim_end_matches('/')))
            .and_then(|body| serde_json::from_str::<Health>(&body).map_err(|e| e.to_string()));
        match health {
            Err(e) => lines.push(format!(
                "failed to check the health of member {} on {url}: {e}",
                m.id
            )),
            Ok(h) if h.health == "true" => {
                lines.push(format!(
                    "member {} is healthy: got healthy result from {url}",
                    m.id
                ));
                return (true, lines);
            }
            Ok(_) => {
                lines.push(format!(
                    "member {} is unhealthy: got unhealthy result from {url}",
                    m.id
                ));
                return (false, lines);
            }
        }
    }
    lines.push(format!(
        "member {} is unreachable: [{}] are all unreachable",
        m.id,
        m.client_urls.join(" ")
    ));
    (false, lines)
}

/// The last line: all members healthy, none, or some.
pub fn verdict(healthy: usize, total: usize) -> &'static str {
    if healthy == total {
        "cluster is healthy"
    } else if healthy == 0 {
        "cluster is unavailable"
    } else {
        "cluster is degraded"
    }
}

/// Runs `cluster-health`; exit 5 when not every member is healthy.
pub fn run(client: &Client, forever: bool) -> Result<(), Failure> {
    let members = match super::members::list(client) {
        Ok(ms) => ms,
        Err(e) => {
            println!("cluster may be unhealthy: failed to list members");
            return Err(match e {
                Failure::Plain(m) => Failure::Server(m),
                other => other,
            });
        }
    };
    loop {
        let mut healthy = 0;
        for m in &members {
            let (ok, lines) = check_member(client, m);
            for l in lines {
                println!("{l}");
            }
            healthy += usize::from(ok);
        }
        println!("{}", verdict(healthy, members.len()));
        if !forever {
            return if healthy == members.len() {
                Ok(())
            } else {
                Err(Failure::Unhealthy)
            };
        }
        println!("\nnext check after 10 second...\n");
        std::thread::sleep(FOREVER_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(3, 3), "cluster is healthy");
        assert_eq!(verdict(0, 3), "cluster is unavailable");
        assert_eq!(verdict(1, 3), "cluster is degraded");
    }
}
