//! `/v2/auth`: users, roles and the auth switch, with etcd 3.4's JSON, statuses and messages
//! (its `v2http/client_auth.go`); and who a request comes from.
//!
//! Errors here are etcd's `{"message":"…"}` bodies, not the keys API's `errorCode` ones, as in
//! etcd.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use warp::http::{HeaderMap, Method};
use warp::reply::Response;

use super::{reply, AppState};
use crate::auth::credentials::parse_basic;
use crate::auth::{AuthAnswer, AuthCommand, AuthError, AuthState, Permissions, Role};
use crate::tls::ClientCertificate;

/// Who a request comes from, once auth is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials: the guest role applies.
    Guest,
    /// Credentials that match a user.
    User(String),
    /// Credentials given that do not match (etcd refuses these outright).
    Refused,
}

impl Caller {
    /// The user name for permission checks (`None`: guest). A refused caller has no name that
    /// any permission matches.
    pub fn name(&self) -> Option<&str> {
        match self {
            Caller::Guest => None,
            Caller::User(u) => Some(u),
            Caller::Refused => Some("\0refused"),
        }
    }
}

/// Who sent a request: the user of its `Authorization: Basic` header, checked against the
/// stored hash (bcrypt, on a blocking thread, unless this pair was verified before); without
/// one, the user its verified client certificate names, else the guest. `None` while auth is
/// off.
///
/// As etcd 3.4 (`hasKeyPrefixAccess`, `hasRootAccess`): Basic credentials, when sent, decide
/// alone, and wrong ones are refused even with a good certificate; an empty header counts as
/// none (Go's `Header.Get` is ""); the certificate is the first user named by a CN along its
/// verified chain, leaf first, CA last (see [`crate::tls::ClientCertificate`]), and a chain
/// naming no user leaves the guest role (which is never root).
pub async fn identify(
    st: &AppState,
    headers: &HeaderMap,
    cert: Option<&ClientCertificate>,
) -> Option<Caller> {
    if !st.raft.state.auth_enabled() {
        return None;
    }
    let Some(header) = headers.get("authorization").filter(|h| !h.is_empty()) else {
        let user = cert.and_then(|c| st.raft.state.first_user(c.common_names()));
        return Some(user.map_or(Caller::Guest, |u| Caller::User(u.to_string())));
    };
    let Some((name, password)) = header.to_str().ok().and_then(parse_basic) else {
        return Some(Caller::Refused);
    };
    let verifier = st.verifier.clone();
    // The fast path: a pair verified before, checked against the hash where it is stored.
    let checked = st.raft.state.with_password_hash(&name, |hash| {
        if verifier.remembers(&name, hash, &password) {
            None
        } else {
            Some(hash.to_string())
        }
    });
    let ok = match checked {
        None => return Some(Caller::Refused),
        Some(None) => true,
        Some(Some(hash)) => {
            let n = name.clone();
            tokio::task::spawn_blocking(move || verifier.verify(&n, &hash, &password))
                .await
                .unwrap_or(false)
        }
    };
    Some(if ok {
        Caller::User(name)
    } else {
        Caller::Refused
    })
}

/// `{"message":"…"}` with `status`, as etcd's HTTPError writes it (no newline).
pub fn message(status: u16, text: &str) -> Response {
    let body = serde_json::to_string(&serde_json::json!({ "message": text }))
        .expect("a message serialises");
    reply::with_body(status, "application/json", body)
}

fn error(e: &AuthError) -> Response {
    message(e.status, &e.message)
}

/// 401 for a caller without the root role.
pub fn insufficient() -> Response {
    message(401, "Insufficient credentials")
}

fn method_not_allowed(allow: &str) -> Response {
    let mut resp = reply::with_body(
        405,
        "text/plain; charset=utf-8",
        "Method Not Allowed\n".into(),
    );
    if let Ok(v) = warp::http::HeaderValue::from_str(allow) {
        resp.headers_mut().insert("allow", v);
    }
    resp
}

/// A JSON body as Go's encoder writes it (with its newline).
fn encoded<T: Serialize>(status: u16, value: &T) -> Response {
    let mut body = serde_json::to_string(value).expect("auth answers serialise");
    body.push('\n');
    reply::with_body(status, "application/json", body)
}

/// Routes `/v2/auth…`; `rest` is the path after `/v2/auth`.
pub async fn handle(
    st: &AppState,
    method: &Method,
    rest: &str,
    caller: Option<&Caller>,
    body: &Bytes,
) -> Response {
    let root = caller.is_none_or(|c| st.raft.state.is_root(c.name()));
    let pieces: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let mut resp = match pieces.as_slice() {
        ["enable"] => enable(st, method, root).await,
        ["users"] => list(method, root, || users_list(&st.raft.state.auth())),
        ["roles"] => list(method, root, || roles_list(&st.raft.state.auth())),
        ["users", name] => user(st, method, root, name, body).await,
        ["roles", name] => role(st, method, root, name, body).await,
        ["users" | "roles", ..] => message(400, "Invalid path"),
        _ => reply::not_found(),
    };
    reply::set_header(
        &mut resp,
        "x-etcd-cluster-id",
        format!("{:016x}", st.transport.cluster_id()),
    );
    resp
}

async fn enable(st: &AppState, method: &Method, root: bool) -> Response {
    let cmd = match *method {
        Method::GET | Method::HEAD => {
            let enabled = st.raft.state.auth_enabled();
            #[derive(Serialize)]
            struct Enabled {
                enabled: bool,
            }
            return encoded(200, &Enabled { enabled });
        }
        Method::PUT => AuthCommand::Enable,
        Method::DELETE => AuthCommand::Disable,
        _ => return method_not_allowed("GET,PUT,DELETE"),
    };
    if !root {
        return insufficient();
    }
    change(st, cmd).await
}

/// Proposes `cmd`; etcd answers a done enable, disable or delete with 200 and no body.
async fn change(st: &AppState, cmd: AuthCommand) -> Response {
    match st.raft.propose_auth(cmd).await {
        Ok(_) => reply::with_body(200, "application/json", String::new()),
        Err(e) => error(&e),
    }
}

/// The answer to a request on one user or role that is refused before it is read: a method
/// etcd does not allow there (checked first, as etcd does), or a caller without root.
fn refuse_item_request(method: &Method, root: bool) -> Option<Response> {
    if !matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE
    ) {
        return Some(method_not_allowed("GET,PUT,DELETE"));
    }
    (!root).then(insufficient)
}

fn list(method: &Method, root: bool, answer: impl FnOnce() -> Response) -> Response {
    if *method != Method::GET && *method != Method::HEAD {
        return method_not_allowed("GET");
    }
    if !root {
        return insufficient();
    }
    answer()
}

/// A user with its roles spelled out, as `GET /v2/auth/users[/name]` shows it.
#[derive(Serialize)]
struct UserWithRoles {
    user: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role>,
}

fn with_roles(auth: &AuthState, name: &str, strict: bool) -> Result<UserWithRoles, AuthError> {
    let user = auth
        .user(name)
        .ok_or_else(|| AuthError::not_found(format!("User {name} does not exist.")))?;
    let mut roles = Vec::new();
    for r in user.role_names() {
        match auth.role(&r) {
            Some(role) => roles.push(role),
            // A listing skips a role that is gone; a single user's answer fails on it.
            None if strict => {
                return Err(AuthError::not_found(format!("Role {r} does not exist.")))
            }
            None => {}
        }
    }
    Ok(UserWithRoles {
        user: user.user,
        roles,
    })
}

fn users_list(auth: &AuthState) -> Response {
    let users: Vec<UserWithRoles> = auth
        .user_names()
        .iter()
        .filter_map(|n| with_roles(auth, n, false).ok())
        .collect();
    // Go encodes an empty list it never appended to as null.
    #[derive(Serialize)]
    struct Users {
        users: Option<Vec<UserWithRoles>>,
    }
    let users = (!users.is_empty()).then_some(users);
    encoded(200, &Users { users })
}

fn roles_list(auth: &AuthState) -> Response {
    let roles: Vec<Role> = auth
        .role_names()
        .iter()
        .filter_map(|n| auth.role(n))
        .collect();
    #[derive(Serialize)]
    struct Roles {
        roles: Vec<Role>,
    }
    encoded(200, &Roles { roles })
}

/// The body of `PUT /v2/auth/users/<name>`.
#[derive(Deserialize)]
struct UserRequest {
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    grant: Option<Vec<String>>,
    #[serde(default)]
    revoke: Option<Vec<String>>,
}

/// What `PUT /v2/auth/users/<name>` answers: the user without its password.
#[derive(Serialize)]
struct UserAnswer {
    user: String,
    roles: Option<Vec<String>>,
}

async fn user(st: &AppState, method: &Method, root: bool, name: &str, body: &Bytes) -> Response {
    if let Some(refused) = refuse_item_request(method, root) {
        return refused;
    }
    match *method {
        Method::PUT => {}
        Method::DELETE => {
            return change(st, AuthCommand::DeleteUser { name: name.into() }).await;
        }
        _ => {
            return match with_roles(&st.raft.state.auth(), name, true) {
                Ok(u) => encoded(200, &u),
                Err(e) => error(&e),
            }
        }
    }
    let Ok(req) = serde_json::from_slice::<UserRequest>(body) else {
        return message(400, "Invalid JSON in request body.");
    };
    if req.user != name {
        return message(400, "User JSON name does not match the name in the URL");
    }
    let (grant, revoke) = (
        req.grant.unwrap_or_default(),
        req.revoke.unwrap_or_default(),
    );
    let roles = req.roles.unwrap_or_default();
    let grants_or_revokes = !grant.is_empty() || !revoke.is_empty();
    if grants_or_revokes && !roles.is_empty() {
        return message(400, "User JSON contains both roles and grant/revoke");
    }
    // bcrypt is slow on purpose: hash off the async threads, before proposing (a salt is
    // random; applying must not be).
    let password_hash = if req.password.is_empty() {
        None
    } else {
        let pw = req.password;
        match tokio::task::spawn_blocking(move || crate::auth::credentials::hash_password(&pw))
            .await
        {
            Ok(h) => Some(h),
            Err(_) => return message(500, "hashing the password failed"),
        }
    };
    let name = name.to_string();
    let (cmd, may_create) = if grants_or_revokes {
        let cmd = AuthCommand::UpdateUser {
            name,
            password_hash,
            grant,
            revoke,
        };
        (cmd, false)
    } else if !roles.is_empty() {
        let cmd = AuthCommand::CreateUser {
            name,
            password_hash,
            roles,
        };
        (cmd, false)
    } else {
        let cmd = AuthCommand::CreateOrUpdateUser {
            name,
            password_hash,
        };
        (cmd, true)
    };
    match st.raft.propose_auth(cmd).await {
        Ok(AuthAnswer::User(u, created)) => {
            // etcd answers 201 only when a user was made by the create-or-update path.
            let status = if may_create && created { 201 } else { 200 };
            encoded(
                status,
                &UserAnswer {
                    user: u.user,
                    roles: u.roles,
                },
            )
        }
        Ok(_) => message(500, "unexpected answer to a user change"),
        Err(e) => error(&e),
    }
}

/// The body of `PUT /v2/auth/roles/<name>`.
#[derive(Deserialize)]
struct RoleRequest {
    role: String,
    #[serde(default)]
    permissions: Permissions,
    #[serde(default)]
    grant: Option<Permissions>,
    #[serde(default)]
    revoke: Option<Permissions>,
}

async fn role(st: &AppState, method: &Method, root: bool, name: &str, body: &Bytes) -> Response {
    if let Some(refused) = refuse_item_request(method, root) {
        return refused;
    }
    match *method {
        Method::PUT => {}
        Method::DELETE => {
            return change(st, AuthCommand::DeleteRole { name: name.into() }).await;
        }
        _ => {
            return match st.raft.state.auth().role(name) {
                Some(r) => encoded(200, &r),
                None => error(&AuthError::not_found(format!(
                    "Role {name} does not exist."
                ))),
            }
        }
    }
    let Ok(req) = serde_json::from_slice::<RoleRequest>(body) else {
        return message(400, "Invalid JSON in request body.");
    };
    if req.role != name {
        return message(400, "Role JSON name does not match the name in the URL");
    }
    let creating =
        Permissions::is_empty(req.grant.as_ref()) && Permissions::is_empty(req.revoke.as_ref());
    let cmd = if creating {
        AuthCommand::CreateRole {
            role: Role {
                role: req.role,
                permissions: req.permissions,
            },
        }
    } else {
        if !Permissions::is_empty(Some(&req.permissions)) {
            return message(400, "Role JSON contains both permissions and grant/revoke");
        }
        AuthCommand::UpdateRole {
            name: req.role,
            grant: req.grant,
            revoke: req.revoke,
        }
    };
    match st.raft.propose_auth(cmd).await {
        Ok(AuthAnswer::Role(r, created)) => encoded(if created { 201 } else { 200 }, &r),
        Ok(_) => message(500, "unexpected answer to a role change"),
        Err(e) => error(&e),
    }
}
