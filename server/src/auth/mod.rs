//! v2 auth, as etcd 2.1+ serves it: users with bcrypt-hashed passwords, roles with key
//! patterns, the built-in `root` role and user, the `guest` role of requests without
//! credentials, and the switch that turns it all on.
//!
//! [`AuthState`] is a pure state machine like the store: it changes only by applying an
//! [`AuthCommand`] from the raft log, so every member holds the same users and roles, and they
//! survive restart, snapshot and join with the rest of the state. Passwords are hashed before
//! proposing (a salt is random; applying never is), and checked against the hash at the edge,
//! with a cache of verified credentials (see [`credentials`]).

pub mod credentials;
pub mod model;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use model::{Permissions, Role, UserRecord, GUEST, ROOT};

/// An auth answer that is not a success: an HTTP status and etcd's message
/// (`{"message":"auth: …"}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    /// HTTP status.
    pub status: u16,
    /// The message, `auth: ` prefixed as etcd words it.
    pub message: String,
}

impl AuthError {
    fn new(status: u16, message: impl std::fmt::Display) -> AuthError {
        AuthError {
            status,
            message: format!("auth: {message}"),
        }
    }

    /// 400.
    pub fn bad_request(message: impl std::fmt::Display) -> AuthError {
        Self::new(400, message)
    }

    /// 403.
    pub fn forbidden(message: impl std::fmt::Display) -> AuthError {
        Self::new(403, message)
    }

    /// 404.
    pub fn not_found(message: impl std::fmt::Display) -> AuthError {
        Self::new(404, message)
    }

    /// 409.
    pub fn conflict(message: impl std::fmt::Display) -> AuthError {
        Self::new(409, message)
    }

    /// An error of the HTTP layer itself, without the `auth: ` prefix ("Invalid JSON in request
    /// body.").
    pub fn plain(status: u16, message: &str) -> AuthError {
        AuthError {
            status,
            message: message.into(),
        }
    }
}

impl From<common::EtcdError> for AuthError {
    /// A cluster failure (no leader, a timeout, stopping) on the way to applying a change.
    fn from(e: common::EtcdError) -> AuthError {
        AuthError::plain(
            e.code.http_status(),
            &format!("{}: {}", e.code.message(), e.cause),
        )
    }
}

/// One replicated change to users, roles or the switch. Passwords arrive hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthCommand {
    /// `PUT /v2/auth/users/<name>` with roles: create only.
    CreateUser {
        name: String,
        password_hash: Option<String>,
        roles: Vec<String>,
    },
    /// `PUT /v2/auth/users/<name>` with neither roles nor grant/revoke: create, or change the
    /// password of an existing user.
    CreateOrUpdateUser {
        name: String,
        password_hash: Option<String>,
    },
    /// `PUT /v2/auth/users/<name>` with grant or revoke.
    UpdateUser {
        name: String,
        password_hash: Option<String>,
        grant: Vec<String>,
        revoke: Vec<String>,
    },
    /// `DELETE /v2/auth/users/<name>`.
    DeleteUser { name: String },
    /// `PUT /v2/auth/roles/<name>` without grant/revoke.
    CreateRole { role: Role },
    /// `PUT /v2/auth/roles/<name>` with grant or revoke.
    UpdateRole {
        name: String,
        grant: Option<Permissions>,
        revoke: Option<Permissions>,
    },
    /// `DELETE /v2/auth/roles/<name>`.
    DeleteRole { name: String },
    /// `PUT /v2/auth/enable`.
    Enable,
    /// `DELETE /v2/auth/enable`.
    Disable,
}

/// What applying a command gives the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthAnswer {
    /// A user created (`true`: 201) or updated (200), as the answer shows it.
    User(UserRecord, bool),
    /// A role created (201) or updated (200).
    Role(Role, bool),
    /// Deleted, enabled or disabled.
    Done,
}

/// Users, roles and whether auth is on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthState {
    /// Whether requests are checked.
    pub enabled: bool,
    users: BTreeMap<String, UserRecord>,
    /// Stored roles (root is built in, never stored).
    roles: BTreeMap<String, Role>,
}

impl AuthState {
    /// Applies one command; errors leave the state as it was.
    pub fn apply(&mut self, cmd: &AuthCommand) -> Result<AuthAnswer, AuthError> {
        match cmd {
            AuthCommand::CreateUser {
                name,
                password_hash,
                roles,
            } => self.create_user(name, password_hash.as_deref(), Some(roles.clone())),
            AuthCommand::CreateOrUpdateUser {
                name,
                password_hash,
            } => match self.users.contains_key(name) {
                true => self.update_user(name, password_hash.as_deref(), &[], &[]),
                false => self.create_user(name, password_hash.as_deref(), None),
            },
            AuthCommand::UpdateUser {
                name,
                password_hash,
                grant,
                revoke,
            } => self.update_user(name, password_hash.as_deref(), grant, revoke),
            AuthCommand::DeleteUser { name } => {
                if self.enabled && name == ROOT {
                    return Err(AuthError::forbidden(
                        "Cannot delete root user while auth is enabled.",
                    ));
                }
                self.users
                    .remove(name)
                    .map(|_| AuthAnswer::Done)
                    .ok_or_else(|| AuthError::not_found(format!("User {name} does not exist")))
            }
            AuthCommand::CreateRole { role } => {
                if role.role == ROOT {
                    return Err(root_role_error(ROOT));
                }
                if self.roles.contains_key(&role.role) {
                    return Err(AuthError::conflict(format!(
                        "Role {} already exists.",
                        role.role
                    )));
                }
                self.roles.insert(role.role.clone(), role.clone());
                Ok(AuthAnswer::Role(role.clone(), true))
            }
            AuthCommand::UpdateRole {
                name,
                grant,
                revoke,
            } => {
                if name == ROOT {
                    return Err(root_role_error(name));
                }
                let old = self
                    .roles
                    .get(name)
                    .ok_or_else(|| AuthError::not_found(format!("Role {name} doesn't exist.")))?;
                let new = old.merged(grant.as_ref(), revoke.as_ref())?;
                if &new == old {
                    return Err(AuthError::bad_request(
                        "Role not updated. Use grant/revoke to update the role.",
                    ));
                }
                self.roles.insert(name.clone(), new.clone());
                Ok(AuthAnswer::Role(new, false))
            }
            AuthCommand::DeleteRole { name } => {
                if name == ROOT {
                    return Err(root_role_error(name));
                }
                self.roles
                    .remove(name)
                    .map(|_| AuthAnswer::Done)
                    .ok_or_else(|| AuthError::not_found(format!("Role {name} doesn't exist.")))
            }
            AuthCommand::Enable => {
                if self.enabled {
                    return Err(AuthError::conflict("already enabled"));
                }
                if !self.users.contains_key(ROOT) {
                    return Err(AuthError::conflict(
                        "No root user available, please create one",
                    ));
                }
                self.roles.entry(GUEST.into()).or_insert_with(|| Role {
                    role: GUEST.into(),
                    permissions: Permissions::everything(),
                });
                self.enabled = true;
                Ok(AuthAnswer::Done)
            }
            AuthCommand::Disable => {
                if !self.enabled {
                    return Err(AuthError::conflict("already disabled"));
                }
                self.enabled = false;
                Ok(AuthAnswer::Done)
            }
        }
    }

    fn create_user(
        &mut self,
        name: &str,
        password_hash: Option<&str>,
        roles: Option<Vec<String>>,
    ) -> Result<AuthAnswer, AuthError> {
        let Some(hash) = password_hash else {
            return Err(AuthError::bad_request(format!(
                "Cannot create user {name} with an empty password"
            )));
        };
        if self.users.contains_key(name) {
            return Err(AuthError::conflict(format!("User {name} already exists.")));
        }
        let mut user = UserRecord {
            user: name.into(),
            password: hash.into(),
            // etcd stores what the request said: no roles at all is `null`.
            roles: roles.filter(|r| !r.is_empty()),
        };
        if name == ROOT {
            user.roles = Some(user.role_names());
        }
        self.users.insert(name.into(), user.clone());
        Ok(AuthAnswer::User(user, true))
    }

    fn update_user(
        &mut self,
        name: &str,
        password_hash: Option<&str>,
        grant: &[String],
        revoke: &[String],
    ) -> Result<AuthAnswer, AuthError> {
        let old = self
            .user(name)
            .ok_or_else(|| AuthError::not_found(format!("User {name} doesn't exist.")))?;
        let new = old.merged(password_hash, grant, revoke)?;
        // etcd compares with reflect.DeepEqual, so a user stored with `"roles":null` counts as
        // changed by a merge that writes `[]`: the same answer here.
        if new == old {
            return Err(AuthError::bad_request(
                "User not updated. Use grant/revoke/password to update the user.",
            ));
        }
        self.users.insert(name.into(), new.clone());
        Ok(AuthAnswer::User(new, false))
    }

    /// A user as etcd reads it (the root user always with the root role).
    pub fn user(&self, name: &str) -> Option<UserRecord> {
        let mut u = self.users.get(name)?.clone();
        if u.user == ROOT {
            u.roles = Some(u.role_names());
        }
        Some(u)
    }

    /// A user's stored bcrypt hash.
    pub fn password_hash(&self, name: &str) -> Option<&str> {
        self.users.get(name).map(|u| u.password.as_str())
    }

    /// Every user name, sorted.
    pub fn user_names(&self) -> Vec<String> {
        self.users.keys().cloned().collect()
    }

    /// A role, root included.
    pub fn role(&self, name: &str) -> Option<Role> {
        if name == ROOT {
            return Some(Role::root());
        }
        self.roles.get(name).cloned()
    }

    /// Every role name, root included, sorted.
    pub fn role_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.roles.keys().cloned().collect();
        names.push(ROOT.into());
        names.sort();
        names
    }

    /// Whether `user` (already authenticated; `None`: no credentials, the guest role) holds
    /// the root role. With auth off everyone does.
    pub fn is_root(&self, user: Option<&str>) -> bool {
        !self.enabled
            || user
                .and_then(|u| self.users.get(u))
                .is_some_and(|u| u.user == ROOT || u.roles.iter().flatten().any(|r| r == ROOT))
    }

    /// Whether `user` may read (or write) `key`, and with `recursive` everything under it,
    /// by etcd's rules: some role of the user has a matching pattern; without credentials,
    /// the guest role (if it exists) does, and never recursively beyond its own patterns.
    pub fn may(&self, user: Option<&str>, key: &str, write: bool, recursive: bool) -> bool {
        if !self.enabled {
            return true;
        }
        let Some(user) = user else {
            // etcd checks the guest role with the simple match, recursive or not.
            return self.roles.get(GUEST).is_some_and(|r| r.may(key, write));
        };
        // Every request asks this: lookups only, no copies.
        let Some(user) = self.users.get(user) else {
            return false;
        };
        if self.is_root(Some(&user.user)) {
            return true;
        }
        user.roles
            .iter()
            .flatten()
            .filter_map(|r| self.roles.get(r))
            .any(|role| {
                if recursive {
                    role.may_recursively(key, write)
                } else {
                    role.may(key, write)
                }
            })
    }
}

fn root_role_error(name: &str) -> AuthError {
    AuthError::forbidden(format!("Cannot modify role {name}: is root role."))
}
