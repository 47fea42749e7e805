//! The `user`, `role` and `auth` commands of the Go etcdctl v2 (etcd 2.1+ auth), as clap
//! definitions. Names are optional here so that a missing one gets the Go tool's words
//! ("Please provide a username"), not clap's.

use clap::Subcommand;

/// `etcdctl user …`.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user (`name:password`, or the password is asked for).
    #[command(after_help = "Examples:\n  etcdctl user add alice\n  etcdctl user add alice:secret")]
    Add {
        /// The user, optionally `user:password`.
        user: Option<String>,
    },
    /// Show a user and its roles.
    #[command(after_help = "Example:\n  etcdctl user get alice")]
    Get {
        /// The user.
        user: Option<String>,
    },
    /// List the users.
    #[command(after_help = "Example:\n  etcdctl user list")]
    List {
        /// (No arguments are accepted.)
        #[arg(hide = true)]
        extra: Vec<String>,
    },
    /// Remove a user.
    #[command(after_help = "Example:\n  etcdctl user remove alice")]
    Remove {
        /// The user.
        user: Option<String>,
    },
    /// Grant roles to a user.
    #[command(after_help = "Example:\n  etcdctl user grant --roles readers --roles writers alice")]
    Grant {
        /// The user.
        user: Option<String>,
        /// A role to grant (repeat for more).
        #[arg(long)]
        roles: Vec<String>,
    },
    /// Revoke roles from a user.
    #[command(after_help = "Example:\n  etcdctl user revoke --roles writers alice")]
    Revoke {
        /// The user.
        user: Option<String>,
        /// A role to revoke (repeat for more).
        #[arg(long)]
        roles: Vec<String>,
    },
    /// Change a user's password (asked for on a terminal, else read from stdin).
    #[command(
        after_help = "Examples:\n  etcdctl user passwd alice\n  echo secret | etcdctl user passwd alice"
    )]
    Passwd {
        /// The user.
        user: Option<String>,
    },
}

/// Which access a role grant or revoke is about.
#[derive(Debug, clap::Args)]
pub struct PermissionArgs {
    /// The key path or prefix pattern (`/foo/*`).
    #[arg(long, default_value = "")]
    pub path: String,
    /// Read access.
    #[arg(long)]
    pub read: bool,
    /// Write access.
    #[arg(long)]
    pub write: bool,
    /// Read and write access.
    #[arg(long, visible_alias = "rw")]
    pub readwrite: bool,
}

/// `etcdctl role …`.
#[derive(Debug, Subcommand)]
pub enum RoleCmd {
    /// Add a role.
    #[command(after_help = "Example:\n  etcdctl role add readers")]
    Add {
        /// The role.
        role: Option<String>,
    },
    /// Show a role's permissions.
    #[command(after_help = "Example:\n  etcdctl role get readers")]
    Get {
        /// The role.
        role: Option<String>,
    },
    /// List the roles.
    #[command(after_help = "Example:\n  etcdctl role list")]
    List {
        /// (No arguments are accepted.)
        #[arg(hide = true)]
        extra: Vec<String>,
    },
    /// Remove a role.
    #[command(after_help = "Example:\n  etcdctl role remove readers")]
    Remove {
        /// The role.
        role: Option<String>,
    },
    /// Grant a role access to a path.
    #[command(after_help = "Example:\n  etcdctl role grant --path '/config/*' --read readers")]
    Grant {
        /// The role.
        role: Option<String>,
        /// What to grant.
        #[command(flatten)]
        perm: PermissionArgs,
    },
    /// Revoke a role's access to a path.
    #[command(after_help = "Example:\n  etcdctl role revoke --path '/config/*' --write writers")]
    Revoke {
        /// The role.
        role: Option<String>,
        /// What to revoke.
        #[command(flatten)]
        perm: PermissionArgs,
    },
}

/// `etcdctl auth …`.
#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Turn authentication on (a root user must exist).
    #[command(after_help = "Example:\n  etcdctl auth enable")]
    Enable {
        /// (No arguments are accepted.)
        #[arg(hide = true)]
        extra: Vec<String>,
    },
    /// Turn authentication off (as root).
    #[command(after_help = "Example:\n  etcdctl --username root auth disable")]
    Disable {
        /// (No arguments are accepted.)
        #[arg(hide = true)]
        extra: Vec<String>,
    },
}
