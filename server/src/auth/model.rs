//! Users, roles and key permissions as etcd 2.x's `/v2/auth` shows them, and the rules that
//! change them (grant, revoke) and match keys against them.
//!
//! The JSON shapes are etcd's, nulls included: a role created without permissions stores
//! `"read":null`, one whose permissions were ever granted or revoked `[]`, and clients (the Go
//! etcdctl among them) see exactly that.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::AuthError;

/// The role that may do anything, and the user that always has it.
pub const ROOT: &str = "root";
/// The role of requests without credentials once auth is enabled.
pub const GUEST: &str = "guest";

/// Read and write patterns: a key, or a prefix ending in `*` (`/foo/*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RwPermission {
    /// Patterns readable.
    pub read: Option<Vec<String>>,
    /// Patterns writable.
    pub write: Option<Vec<String>>,
}

/// A role's permissions (`{"kv":{"read":[…],"write":[…]}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Permissions {
    /// Key-space permissions.
    #[serde(default)]
    pub kv: RwPermission,
}

impl Permissions {
    /// No pattern at all (etcd's `IsEmpty`, which a missing object also is).
    pub fn is_empty(p: Option<&Permissions>) -> bool {
        p.is_none_or(|p| {
            p.kv.read.as_ref().is_none_or(Vec::is_empty)
                && p.kv.write.as_ref().is_none_or(Vec::is_empty)
        })
    }

    /// Everything, as the root and the default guest role have.
    pub fn everything() -> Permissions {
        Permissions {
            kv: RwPermission {
                read: Some(vec!["/*".into()]),
                write: Some(vec!["/*".into()]),
            },
        }
    }
}

/// A role as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its name.
    pub role: String,
    /// What it may read and write.
    #[serde(default)]
    pub permissions: Permissions,
}

impl Role {
    /// The built-in root role (never stored).
    pub fn root() -> Role {
        Role {
            role: ROOT.into(),
            permissions: Permissions::everything(),
        }
    }

    /// Whether this role may read (or write) `key` itself.
    pub fn may(&self, key: &str, write: bool) -> bool {
        self.role == ROOT || self.patterns(write).any(|p| simple_match(p, key))
    }

    /// Whether this role may read (or write) everything under `key` (a `*` pattern covers it).
    pub fn may_recursively(&self, key: &str, write: bool) -> bool {
        self.role == ROOT || self.patterns(write).any(|p| prefix_match(p, key))
    }

    fn patterns(&self, write: bool) -> impl Iterator<Item = &str> {
        let kv = &self.permissions.kv;
        let list = if write { &kv.write } else { &kv.read };
        list.iter().flatten().map(String::as_str)
    }

    /// This role with `grant` added, then `revoke` taken away (etcd's `Role.merge`).
    pub fn merged(
        &self,
        grant: Option<&Permissions>,
        revoke: Option<&Permissions>,
    ) -> Result<Role, AuthError> {
        let mut kv = self.permissions.kv.clone();
        if let Some(g) = grant {
            kv.read = Some(grant_patterns(&kv.read, &g.kv.read, "read")?);
            kv.write = Some(grant_patterns(&kv.write, &g.kv.write, "write")?);
        }
        if let Some(r) = revoke {
            kv.read = Some(revoke_patterns(&kv.read, &r.kv.read));
            kv.write = Some(revoke_patterns(&kv.write, &r.kv.write));
        }
        Ok(Role {
            role: self.role.clone(),
            permissions: Permissions { kv },
        })
    }
}

fn grant_patterns(
    have: &Option<Vec<String>>,
    add: &Option<Vec<String>>,
    what: &str,
) -> Result<Vec<String>, AuthError> {
    let mut set: BTreeSet<String> = have.iter().flatten().cloned().collect();
    for p in add.iter().flatten() {
        if !set.insert(p.clone()) {
            return Err(AuthError::conflict(format!(
                "Granting duplicate {what} permission {p}"
            )));
        }
    }
    Ok(set.into_iter().collect())
}

/// Revoking a pattern never granted is not an error in etcd (it logs and goes on).
fn revoke_patterns(have: &Option<Vec<String>>, take: &Option<Vec<String>>) -> Vec<String> {
    let mut set: BTreeSet<String> = have.iter().flatten().cloned().collect();
    for p in take.iter().flatten() {
        set.remove(p);
    }
    set.into_iter().collect()
}

/// `pattern` names `key`: equal, or a `*` pattern whose prefix `key` starts with.
pub fn simple_match(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == pattern,
    }
}

/// `pattern` covers everything under `key`: only a `*` pattern can.
pub fn prefix_match(pattern: &str, key: &str) -> bool {
    pattern
        .strip_suffix('*')
        .is_some_and(|prefix| key.starts_with(prefix))
}

/// A user as stored: the password only as a salted hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Its name.
    pub user: String,
    /// bcrypt hash of the password.
    pub password: String,
    /// Role names, sorted (`None`: created without any, shown as `null` as etcd does).
    pub roles: Option<Vec<String>>,
}

impl UserRecord {
    /// The role names, with `root` for the root user (etcd attaches it on every read).
    pub fn role_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.roles.iter().flatten().cloned().collect();
        if self.user == ROOT && !names.iter().any(|r| r == ROOT) {
            names.push(ROOT.into());
        }
        names
    }

    /// This user with `grant` roles added and `revoke` roles taken away, and a new password
    /// hash if given (etcd's `User.merge`).
    pub fn merged(
        &self,
        password: Option<&str>,
        grant: &[String],
        revoke: &[String],
    ) -> Result<UserRecord, AuthError> {
        let mut roles: BTreeSet<String> = self.roles.iter().flatten().cloned().collect();
        for g in grant {
            if !roles.insert(g.clone()) {
                return Err(AuthError::conflict(format!(
                    "Granting duplicate role {g} for user {}",
                    self.user
                )));
            }
        }
        for r in revoke {
            if !roles.remove(r) {
                return Err(AuthError::conflict(format!(
                    "Revoking ungranted role {r} for user {}",
                    self.user
                )));
            }
        }
        Ok(UserRecord {
            user: self.user.clone(),
            password: password.map_or_else(|| self.password.clone(), Into::into),
            roles: Some(roles.into_iter().collect()),
        })
    }
}
