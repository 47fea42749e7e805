//! `user`, `role` and `auth`: etcd 2.1+'s `/v2/auth` API, with the Go etcdctl's requests,
//! output and exit codes (errors are the server's message on stderr, exit 1).

use std::io::{BufRead, IsTerminal};

use serde_json::{json, Value};

use crate::cli_auth::{AuthCmd, PermissionArgs, RoleCmd, UserCmd};
use crate::client::{Body, Client};
use crate::failure::Failure;

/// A password: asked for on a terminal without echo, else read as one line of stdin (so a
/// script can pipe it; the Go etcdctl insists on a terminal).
pub fn read_password(prompt: &str) -> Result<String, Failure> {
    let read = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|_| line.trim_end_matches(['\r', '\n']).to_string())
    };
    read.map_err(|e| Failure::Plain(format!("Error reading password: {e}")))
}

/// `user[:password]` as `--username` and `user add` take it; the password is asked for when
/// there is no colon.
pub fn split_credentials(arg: &str, prompt: &str) -> Result<(String, String), Failure> {
    match arg.split_once(':') {
        Some((user, pass)) => Ok((user.to_string(), pass.to_string())),
        None => Ok((arg.to_string(), read_password(prompt)?)),
    }
}

/// Talks to `/v2/auth` and turns failures into what the Go etcdctl prints.
struct AuthApi<'a> {
    client: &'a Client,
    /// Under `--no-sync` the Go tool prints a connection failure bare, exit 1 (after a sync
    /// attempt it is the sync's failure: `Error:` and exit 2, as for every command).
    no_sync: bool,
}

/// An answer of the auth API: status and parsed body.
struct Reply {
    status: u16,
    body: Value,
    text: String,
}

impl AuthApi<'_> {
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, Failure> {
        let body = body.map(|v| Body {
            content_type: "application/json",
            text: v.to_string(),
        });
        let (r, _) = match self.client.request(method, path, body.as_ref(), false) {
            Ok(r) => r,
            Err(Failure::Connection(errors)) if self.no_sync => {
                let mut s = "client: etcd cluster is unavailable or misconfigured".to_string();
                for e in &errors {
                    s.push_str(&format!("; {e}"));
                }
                return Err(Failure::Plain(s));
            }
            Err(f) => return Err(f),
        };
        Ok(Reply {
            status: r.status,
            body: serde_json::from_str(&r.body).unwrap_or(Value::Null),
            text: r.body,
        })
    }

    /// The call's answer when its status is one of `ok`, else the server's message.
    fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        ok: &[u16],
    ) -> Result<Value, Failure> {
        let r = self.call(method, path, body)?;
        if ok.contains(&r.status) {
            return Ok(r.body);
        }
        Err(Failure::Plain(match r.body["message"].as_str() {
            Some(m) => m.to_string(),
            None if r.text.trim().is_empty() => format!("unexpected status code {}", r.status),
            None => r.text.trim().to_string(),
        }))
    }
}

fn name_or(arg: &Option<String>, missing: &str) -> Result<String, Failure> {
    arg.clone()
        .ok_or_else(|| Failure::Plain(missing.to_string()))
}

fn no_arguments(extra: &[String]) -> Result<(), Failure> {
    if extra.is_empty() {
        Ok(())
    } else {
        Err(Failure::Plain("No arguments accepted".into()))
    }
}

fn user_path(name: &str) -> String {
    format!("/v2/auth/users/{}", crate::client::encode_path(name))
}

fn role_path(name: &str) -> String {
    format!("/v2/auth/roles/{}", crate::client::encode_path(name))
}

/// The names in a list answer, whose entries are objects (`{"user": ..}`, etcd 2.2+) or plain
/// strings (etcd 2.1).
fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().or_else(|| e[field].as_str()).map(String::from))
        .collect()
}

/// `Roles:` as the Go etcdctl prints it. Its client first decodes roles as strings; etcd
/// 2.2+ sends objects, each of which leaves an empty string before the names are appended.
fn roles_line(roles: &Value) -> String {
    let list = roles.as_array().map(Vec::as_slice).unwrap_or_default();
    let objects = list.iter().filter(|r| r.is_object()).count();
    let mut out: Vec<String> = vec![String::new(); objects];
    out.extend(names(roles, "role"));
    out.join(" ")
}

/// Runs a `user` subcommand.
pub fn user(cmd: &UserCmd, client: &Client, no_sync: bool) -> Result<(), Failure> {
    use reqwest::Method;
    let api = AuthApi { client, no_sync };
    const NAME: &str = "Please provide a username";
    match cmd {
        UserCmd::List { extra } => {
            no_arguments(extra)?;
            let list = api.expect(Method::GET, "/v2/auth/users", None, &[200])?;
            for u in names(&list["users"], "user") {
                println!("{u}");
            }
        }
        UserCmd::Add { user } => {
            let arg = name_or(user, NAME)?;
            let (name, password) = split_credentials(&arg, "New password: ")?;
            let body = json!({"user": name, "password": password, "roles": null});
            api.expect(Method::PUT, &user_path(&name), Some(body), &[200, 201])?;
            println!("User {name} created");
        }
        UserCmd::Get { user } => {
            let name = name_or(user, NAME)?;
            let u = api.expect(Method::GET, &user_path(&name), None, &[200])?;
            println!("User: {}", u["user"].as_str().unwrap_or(&name));
            println!("Roles: {}", roles_line(&u["roles"]));
        }
        UserCmd::Remove { user } => {
            let name = name_or(user, NAME)?;
            api.expect(Method::DELETE, &user_path(&name), None, &[200, 201])?;
            println!("User {name} removed");
        }
        UserCmd::Grant { user, roles } | UserCmd::Revoke { user, roles } => {
            if roles.is_empty() {
                return Err(Failure::Plain(
                    "No roles specified; please use `--roles`".into(),
                ));
            }
            let name = name_or(user, NAME)?;
            let change = if matches!(cmd, UserCmd::Grant { .. }) {
                "grant"
            } else {
                "revoke"
            };
            let body = json!({"user": name, "roles": null, change: roles});
            api.expect(Method::PUT, &user_path(&name), Some(body), &[200])?;
            println!("User {name} updated");
        }
        UserCmd::Passwd { user } => {
            let name = name_or(user, NAME)?;
            let password = read_password("New password: ")?;
            let body = json!({"user": name, "password": password, "roles": null});
            api.expect(Method::PUT, &user_path(&name), Some(body), &[200])?;
            println!("Password updated");
        }
    }
    Ok(())
}

/// Go's `pathutil.CanonicalURLPath`: rooted, cleaned, a trailing `/` kept.
fn canonical_path(p: &str) -> String {
    let rooted = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in rooted.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    if rooted.ends_with('/') && out != "/" {
        out.push('/');
    }
    out
}

/// The `{"kv": {"read": .., "write": ..}}` of a grant or revoke (Go sends `null` for none).
fn permission_change(perm: &PermissionArgs) -> Result<Value, Failure> {
    if perm.path.is_empty() {
        return Err(Failure::Plain(
            "No path specified; please use `--path`".into(),
        ));
    }
    let canonical = canonical_path(&perm.path);
    if canonical != perm.path {
        return Err(Failure::Plain(format!(
            "Not canonical path; please use `--path={canonical}`"
        )));
    }
    let (read, write) = match (perm.read, perm.write, perm.readwrite) {
        (true, false, false) => (json!([perm.path]), Value::Null),
        (false, true, false) => (Value::Null, json!([perm.path])),
        (false, false, true) => (json!([perm.path]), json!([perm.path])),
        _ => {
            return Err(Failure::Plain(
                "Please specify exactly one of --read, --write or --readwrite".into(),
            ))
        }
    };
    Ok(json!({"kv": {"read": read, "write": write}}))
}

/// Runs a `role` subcommand.
pub fn role(cmd: &RoleCmd, client: &Client, no_sync: bool) -> Result<(), Failure> {
    use reqwest::Method;
    let api = AuthApi { client, no_sync };
    const NAME: &str = "Please provide a role name";
    match cmd {
        RoleCmd::List { extra } => {
            no_arguments(extra)?;
            let r = api.call(Method::GET, "/v2/auth/roles", None)?;
            if r.status != 200 {
                return Err(Failure::Plain(format!(
                    "unexpected status code {}",
                    r.status
                )));
            }
            for role in names(&r.body["roles"], "role") {
                println!("{role}");
            }
        }
        RoleCmd::Add { role } => {
            let name = name_or(role, NAME)?;
            if api.call(Method::GET, &role_path(&name), None)?.status == 200 {
                return Err(Failure::Plain(format!("Role {name} already exists")));
            }
            let body = json!({"role": name, "permissions": {"kv": {"read": null, "write": null}}});
            api.expect(Method::PUT, &role_path(&name), Some(body), &[200, 201])?;
            println!("Role {name} created");
        }
        RoleCmd::Get { role } => {
            let name = name_or(role, NAME)?;
            let r = api.expect(Method::GET, &role_path(&name), None, &[200])?;
            println!("Role: {}", r["role"].as_str().unwrap_or(&name));
            println!("KV Read:");
            for p in names(&r["permissions"]["kv"]["read"], "") {
                println!("\t{p}");
            }
            println!("KV Write:");
            for p in names(&r["permissions"]["kv"]["write"], "") {
                println!("\t{p}");
            }
        }
        RoleCmd::Remove { role } => {
            let name = name_or(role, NAME)?;
            api.expect(Method::DELETE, &role_path(&name), None, &[200, 201])?;
            println!("Role {name} removed");
        }
        RoleCmd::Grant { role, perm } | RoleCmd::Revoke { role, perm } => {
            let change = permission_change(perm)?;
            let name = name_or(role, NAME)?;
            let before = api.expect(Method::GET, &role_path(&name), None, &[200])?;
            let grant = matches!(cmd, RoleCmd::Grant { .. });
            let key = if grant { "grant" } else { "revoke" };
            let body = json!({
                "role": name,
                "permissions": {"kv": {"read": null, "write": null}},
                key: change,
            });
            let after = api.expect(Method::PUT, &role_path(&name), Some(body), &[200])?;
            if after == before {
                // Go prints this without a line break, right before the next line.
                print!(
                    "Role unchanged; already {}",
                    if grant { "granted" } else { "revoked" }
                );
            }
            println!("Role {name} updated");
        }
    }
    Ok(())
}

/// Runs an `auth` subcommand.
pub fn auth(cmd: &AuthCmd, client: &Client, no_sync: bool) -> Result<(), Failure> {
    let api = AuthApi { client, no_sync };
    let (method, extra, done) = match cmd {
        AuthCmd::Enable { extra } => (reqwest::Method::PUT, extra, "Authentication Enabled"),
        AuthCmd::Disable { extra } => (reqwest::Method::DELETE, extra, "Authentication Disabled"),
    };
    no_arguments(extra)?;
    api.expect(method, "/v2/auth/enable", None, &[200, 201])?;
    println!("{done}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_canonical_as_go_does() {
        assert_eq!(canonical_path("/foo/*"), "/foo/*");
        assert_eq!(canonical_path("foo"), "/foo");
        assert_eq!(canonical_path("/a//b/./c/../d/"), "/a/b/d/");
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path(""), "/");
    }

    #[test]
    fn roles_print_as_the_go_client_decodes_them() {
        assert_eq!(roles_line(&json!([{"role": "root"}])), " root");
        assert_eq!(
            roles_line(&json!([{"role": "r1"}, {"role": "root"}])),
            "  r1 root"
        );
        assert_eq!(roles_line(&json!(["r1", "root"])), "r1 root");
        assert_eq!(roles_line(&Value::Null), "");
    }

    #[test]
    fn credentials_split_at_the_first_colon() {
        let (u, p) = split_credentials("root:pa:ss", "").unwrap();
        assert_eq!((u.as_str(), p.as_str()), ("root", "pa:ss"));
    }
}
