//! `member list|add|remove` over `/v2/members`, printed as the Go etcdctl (2.x) prints them.
//! Like the Go tool, membership errors are printed as they come and exit 1.

use common::{Member, MemberList};
use serde::Serialize;

use crate::cli::MemberCmd;
use crate::client::{Body, Client};
use crate::failure::Failure;

/// The reason a members request failed, in the server's words when it gave some.
fn server_message(status: u16, body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Msg {
        message: String,
    }
    match serde_json::from_str::<Msg>(body) {
        Ok(m) => m.message,
        Err(_) => format!("unexpected HTTP {status}: {}", body.trim()),
    }
}

/// `GET /v2/members`.
pub fn list(client: &Client) -> Result<Vec<Member>, Failure> {
    let (r, _) = client.request(reqwest::Method::GET, "/v2/members", None, false)?;
    if r.status != 200 {
        return Err(Failure::Plain(server_message(r.status, &r.body)));
    }
    serde_json::from_str::<MemberList>(&r.body)
        .map(|l| l.members)
        .map_err(|e| Failure::Plain(format!("unexpected member list: {e}")))
}

/// One line of `member list`.
pub fn list_line(m: &Member, leader_id: &str) -> String {
    if m.name.is_empty() {
        format!("{}[unstarted]: peerURLs={}", m.id, m.peer_urls.join(","))
    } else {
        format!(
            "{}: name={} peerURLs={} clientURLs={} isLeader={}",
            m.id,
            m.name,
            m.peer_urls.join(","),
            m.client_urls.join(","),
            m.id == leader_id
        )
    }
}

/// The `ETCD_INITIAL_CLUSTER` value after adding `new_id` as `new_name`.
pub fn initial_cluster(members: &[Member], new_id: &str, new_name: &str) -> String {
    members
        .iter()
        .flat_map(|m| {
            let name = if m.id == new_id { new_name } else { &m.name };
            m.peer_urls.iter().map(move |u| format!("{name}={u}"))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs a member subcommand.
pub fn run(cmd: &MemberCmd, client: &Client) -> Result<(), Failure> {
    match cmd {
        MemberCmd::List => {
            let members = list(client)?;
            let (r, _) = client.request(reqwest::Method::GET, "/v2/members/leader", None, false)?;
            if r.status != 200 {
                eprintln!(
                    "Failed to get leader:  {}",
                    server_message(r.status, &r.body)
                );
                return Err(Failure::Reported);
            }
            let leader: Member = serde_json::from_str(&r.body)
                .map_err(|e| Failure::Plain(format!("unexpected leader: {e}")))?;
            for m in &members {
                println!("{}", list_line(m, &leader.id));
            }
        }
        MemberCmd::Add { name, peer_urls } => {
            #[derive(Serialize)]
            struct Add<'a> {
                #[serde(rename = "peerURLs")]
                peer_urls: Vec<&'a str>,
            }
            let urls: Vec<&str> = peer_urls.split(',').map(str::trim).collect();
            let body = Body {
                content_type: "application/json",
                text: serde_json::to_string(&Add { peer_urls: urls })
                    .map_err(|e| Failure::Plain(e.to_string()))?,
            };
            let (r, _) =
                client.request(reqwest::Method::POST, "/v2/members", Some(&body), false)?;
            if r.status != 201 && r.status != 200 {
                return Err(Failure::Plain(server_message(r.status, &r.body)));
            }
            let added: Member = serde_json::from_str(&r.body)
                .map_err(|e| Failure::Plain(format!("unexpected answer: {e}")))?;
            println!("Added member named {name} with ID {} to cluster", added.id);
            let members = list(client)?;
            println!();
            println!("ETCD_NAME={name:?}");
            println!(
                "ETCD_INITIAL_CLUSTER={:?}",
                initial_cluster(&members, &added.id, name)
            );
            println!("ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
        }
        MemberCmd::Remove { id } => {
            let members = list(client).map_err(|e| match e {
                Failure::Plain(m) => Failure::Plain(format!(
                    "Error while verifying ID against known members: {m}"
                )),
                other => other,
            })?;
            for m in members
                .iter()
                .filter(|m| !m.name.is_empty() && m.name == *id)
            {
                eprintln!(
                    "Found a member named {}; if this is correct, please use its ID, eg:\n\tetcdctl member remove {}\n",
                    m.name, m.id
                );
            }
            if !members.iter().any(|m| m.id == *id) {
                return Err(Failure::Plain(format!(
                    "Couldn't find a member in the cluster with an ID of {id}."
                )));
            }
            let path = format!("/v2/members/{}", crate::client::encode_path(id));
            let (r, _) = client.request(reqwest::Method::DELETE, &path, None, false)?;
            if !(200..300).contains(&r.status) {
                return Err(Failure::Plain(format!(
                    "Received an error trying to remove member {id}: {}",
                    server_message(r.status, &r.body)
                )));
            }
            println!("Removed member {id} from cluster");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, name: &str, peer: &str, client: &str) -> Member {
        Member {
            id: id.into(),
            name: name.into(),
            peer_urls: vec![peer.into()],
            client_urls: if client.is_empty() {
                vec![]
            } else {
                vec![client.into()]
            },
        }
    }

    #[test]
    fn list_lines_match_the_go_etcdctl() {
        let a = m("89f68cf4b69879ba", "machine0", "http://p:1", "http://c:1");
        assert_eq!(
            list_line(&a, "89f68cf4b69879ba"),
            "89f68cf4b69879ba: name=machine0 peerURLs=http://p:1 clientURLs=http://c:1 isLeader=true"
        );
        let b = m("aa", "", "http://p:2", "");
        assert_eq!(list_line(&b, "x"), "aa[unstarted]: peerURLs=http://p:2");
    }

    #[test]
    fn initial_cluster_names_the_new_member() {
        let ms = [
            m("a", "machine0", "http://p:1", "http://c:1"),
            m("b", "", "http://p:2", ""),
        ];
        assert_eq!(
            initial_cluster(&ms, "b", "n2"),
            "machine0=http://p:1,n2=http://p:2"
        );
    }

    #[test]
    fn server_messages_are_extracted() {
        assert_eq!(
            server_message(404, r#"{"message":"No such member: x"}"#),
            "No such member: x"
        );
        assert_eq!(server_message(502, "oops\n"), "unexpected HTTP 502: oops");
    }
}
