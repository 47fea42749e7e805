use super::credentials::{parse_basic, Verifier};
use super::model::{prefix_match, simple_match, RwPermission};
use super::*;

fn perms(read: &[&str], write: &[&str]) -> Permissions {
    Permissions {
        kv: RwPermission {
            read: Some(read.iter().map(|s| s.to_string()).collect()),
            write: Some(write.iter().map(|s| s.to_string()).collect()),
        },
    }
}

fn create_user(name: &str, roles: &[&str]) -> AuthCommand {
    AuthCommand::CreateUser {
        name: name.into(),
        password_hash: Some(format!("hash-of-{name}")),
        roles: roles.iter().map(|s| s.to_string()).collect(),
    }
}

fn create_role(name: &str, p: Permissions) -> AuthCommand {
    AuthCommand::CreateRole {
        role: Role {
            role: name.into(),
            permissions: p,
        },
    }
}

#[test]
fn patterns_match_as_etcd_matches_them() {
    assert!(simple_match("/foo", "/foo"));
    assert!(!simple_match("/foo", "/foo/bar"));
    assert!(simple_match("/foo/*", "/foo/bar"));
    assert!(simple_match("/foo*", "/foobar"));
    assert!(!simple_match("/foo/*", "/foo"));
    assert!(prefix_match("/foo/*", "/foo/bar"));
    assert!(!prefix_match("/foo/bar", "/foo/bar"));
}

#[test]
fn enabling_needs_a_root_user_and_creates_the_guest_role() {
    let mut a = AuthState::default();
    let err = a.apply(&AuthCommand::Enable).unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (409, "auth: No root user available, please create one")
    );
    a.apply(&create_user("root", &[])).unwrap();
    assert_eq!(a.user("root").unwrap().roles, Some(vec!["root".into()]));
    a.apply(&AuthCommand::Enable).unwrap();
    assert!(a.enabled);
    assert_eq!(
        a.role(GUEST).unwrap().permissions,
        Permissions::everything()
    );
    assert_eq!(
        a.apply(&AuthCommand::Enable).unwrap_err().message,
        "auth: already enabled"
    );
    let err = a
        .apply(&AuthCommand::DeleteUser {
            name: "root".into(),
        })
        .unwrap_err();
    assert_eq!(err.status, 403);
    a.apply(&AuthCommand::Disable).unwrap();
    assert_eq!(
        a.apply(&AuthCommand::Disable).unwrap_err().message,
        "auth: already disabled"
    );
}

#[test]
fn users_and_roles_follow_etcds_rules_and_messages() {
    let mut a = AuthState::default();
    a.apply(&create_role("app", perms(&["/app/*"], &["/app/conf"])))
        .unwrap();
    let err = a
        .apply(&create_role("app", Permissions::default()))
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (409, "auth: Role app already exists.")
    );
    let err = a
        .apply(&create_role("root", Permissions::default()))
        .unwrap_err();
    assert_eq!(err.message, "auth: Cannot modify role root: is root role.");
    a.apply(&create_user("alice", &["app"])).unwrap();
    let err = a.apply(&create_user("alice", &["app"])).unwrap_err();
    assert_eq!(err.message, "auth: User alice already exists.");
    let err = a
        .apply(&AuthCommand::CreateOrUpdateUser {
            name: "bob".into(),
            password_hash: None,
        })
        .unwrap_err();
    assert_eq!(
        err.message,
        "auth: Cannot create user bob with an empty password"
    );
    let grant = |g: &[&str], r: &[&str]| AuthCommand::UpdateUser {
        name: "alice".into(),
        password_hash: None,
        grant: g.iter().map(|s| s.to_string()).collect(),
        revoke: r.iter().map(|s| s.to_string()).collect(),
    };
    let err = a.apply(&grant(&["app"], &[])).unwrap_err();
    assert_eq!(
        err.message,
        "auth: Granting duplicate role app for user alice"
    );
    let err = a.apply(&grant(&[], &["ops"])).unwrap_err();
    assert_eq!(
        err.message,
        "auth: Revoking ungranted role ops for user alice"
    );
    a.apply(&grant(&["ops"], &["app"])).unwrap();
    assert_eq!(a.user("alice").unwrap().roles, Some(vec!["ops".into()]));
    let update = |g: Option<Permissions>, r: Option<Permissions>| AuthCommand::UpdateRole {
        name: "app".into(),
        grant: g,
        revoke: r,
    };
    let err = a
        .apply(&update(Some(perms(&["/app/*"], &[])), None))
        .unwrap_err();
    assert_eq!(
        err.message,
        "auth: Granting duplicate read permission /app/*"
    );
    let err = a
        .apply(&update(None, Some(perms(&["/nope"], &[]))))
        .unwrap_err();
    assert_eq!(
        err.message,
        "auth: Role not updated. Use grant/revoke to update the role."
    );
    let err = a
        .apply(&AuthCommand::DeleteRole {
            name: "gone".into(),
        })
        .unwrap_err();
    assert_eq!(
        (err.status, err.message.as_str()),
        (404, "auth: Role gone doesn't exist.")
    );
    let err = a
        .apply(&AuthCommand::DeleteUser {
            name: "gone".into(),
        })
        .unwrap_err();
    assert_eq!(err.message, "auth: User gone does not exist");
    assert_eq!(a.role_names(), vec!["app", "root"]);
    assert_eq!(a.user_names(), vec!["alice"]);
}

#[test]
fn access_follows_roles_and_the_guest_role() {
    let mut a = AuthState::default();
    a.apply(&create_role(
        "app",
        perms(&["/app/*", "/shared"], &["/app/conf"]),
    ))
    .unwrap();
    a.apply(&create_user("alice", &["app"])).unwrap();
    a.apply(&create_user("root", &[])).unwrap();
    assert!(
        a.may(Some("nobody"), "/secret", true, false),
        "auth off: all allowed"
    );
    a.apply(&AuthCommand::Enable).unwrap();
    // The default guest role may do anything, as etcd's does.
    assert!(a.may(None, "/anything", true, false));
    a.apply(&AuthCommand::UpdateRole {
        name: GUEST.into(),
        grant: None,
        revoke: Some(Permissions::everything()),
    })
    .unwrap();
    assert!(!a.may(None, "/anything", false, false));
    assert!(a.may(Some("alice"), "/app/x", false, false));
    assert!(a.may(Some("alice"), "/app/x", false, true));
    assert!(a.may(Some("alice"), "/shared", false, false));
    assert!(
        !a.may(Some("alice"), "/shared", false, true),
        "no * pattern: not recursive"
    );
    assert!(a.may(Some("alice"), "/app/conf", true, false));
    assert!(!a.may(Some("alice"), "/app/other", true, false));
    assert!(!a.may(Some("alice"), "/secret", false, false));
    assert!(!a.may(Some("nobody"), "/app/x", false, false));
    assert!(a.may(Some("root"), "/secret", true, true));
    assert!(a.is_root(Some("root")) && !a.is_root(Some("alice")) && !a.is_root(None));
}

#[test]
fn basic_credentials_are_parsed() {
    // "alice:s3cr:et" — a password may hold colons.
    assert_eq!(
        parse_basic("Basic YWxpY2U6czNjcjpldA=="),
        Some(("alice".into(), "s3cr:et".into()))
    );
    assert_eq!(parse_basic("Bearer abc"), None);
    assert_eq!(parse_basic("Basic !!!"), None);
}

#[test]
fn a_verified_password_is_remembered_and_a_wrong_one_never() {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let v = Verifier::default();
    assert!(!v.verify("alice", &hash, "wrong"));
    assert!(!v.remembers("alice", &hash, "wrong"));
    assert!(v.verify("alice", &hash, "pw"));
    assert!(v.remembers("alice", &hash, "pw"));
    // A new password is a new hash: the old pair no longer counts.
    let new_hash = bcrypt::hash("pw2", 4).unwrap();
    assert!(!v.remembers("alice", &new_hash, "pw"));
    assert!(!v.verify("alice", &new_hash, "pw"));
}
