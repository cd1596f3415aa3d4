//! People: users, their memberships in tenants, one-time links (invitations
//! and password resets), browser sessions, the login-failure counters, and who
//! created each workflow (`docs/TENANCY.md`, section 3).
//!
//! Secrets never reach this port: passwords are argon2id PHC strings, link
//! tokens and session ids are stored as their SHA-256, TOTP secrets sealed.

use crate::Result;
use async_trait::async_trait;
use weft_types::Role;

/// The creator of workflows made before people existed: only admins and
/// owners change them.
pub const SYSTEM: &str = "system";

/// How long login failures are kept (a day, in ms): longer than any window.
pub const FAILURES_KEPT_MS: i64 = 86_400_000;

/// A person who logs in with an email and a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `usr_…`.
    pub id: String,
    /// Normalised (trimmed, lowercase); unique.
    pub email: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// The confirmed TOTP secret, sealed; `None`: no second factor.
    pub totp_secret: Option<Vec<u8>>,
    /// A TOTP secret set up but not confirmed yet, sealed.
    pub totp_pending: Option<Vec<u8>>,
    /// The last TOTP time step accepted (a code is not accepted twice).
    pub totp_last_step: i64,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// When it was disabled; a disabled user's sessions do not authenticate.
    pub disabled_at: Option<i64>,
}

/// A user's role in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The tenant.
    pub tenant_id: String,
    /// The user.
    pub user_id: String,
    /// What the user may do there.
    pub role: Role,
    /// Who added them (a user id, a key id, or `invitation:<id>`).
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// A membership with its user's email, as a tenant lists its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The user's email.
    pub email: String,
}

/// What a one-time link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Joins a tenant with a role (creating the user if needed).
    Invitation,
    /// Sets a user's password.
    Reset,
}

impl LinkKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Reset => "reset",
        }
    }

    /// The kind a stored name stands for.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invitation" => Some(Self::Invitation),
            "reset" => Some(Self::Reset),
            _ => None,
        }
    }
}

/// A one-time link: an invitation or a password reset. Stored in
/// `invitations`; the token is shown once, only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `inv_…` or `rst_…`.
    pub id: String,
    /// SHA-256 of the token; unique.
    pub token_hash: Vec<u8>,
    /// Invitation or reset.
    pub kind: LinkKind,
    /// The tenant it was issued in.
    pub tenant_id: String,
    /// The role an invitation grants (a reset: the issuer's view of the member's).
    pub role: Role,
    /// An invitation bound to one email; `None`: anyone holding the link.
    pub email: Option<String>,
    /// The user a reset is for.
    pub user_id: Option<String>,
    /// Who issued it (the audit actor).
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// After this it is refused.
    pub expires_at: i64,
    /// When it was used; a used link is refused.
    pub used_at: Option<i64>,
}

/// A browser session. The id (256 random bits, in the cookie) and the CSRF
/// token are stored as their SHA-256 only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the session id; the primary key.
    pub id_hash: Vec<u8>,
    /// The user.
    pub user_id: String,
    /// The tenant it acts in.
    pub tenant_id: String,
    /// SHA-256 of the CSRF token.
    pub csrf_hash: Vec<u8>,
    /// When it started.
    pub created_at: i64,
    /// The last request (for the idle timeout).
    pub last_seen_at: i64,
    /// The absolute timeout.
    pub expires_at: i64,
    /// When it was revoked (logout, rotation, removal, reset).
    pub revoked_at: Option<i64>,
}

/// A session as a request authenticates with it: the session row, the role
/// of its user's membership in its tenant, read in one query. `None` from
/// [`PeopleStore::session_auth`] when the membership or the user is gone or
/// the user is disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAuth {
    /// The session.
    pub session: Session,
    /// The membership's role now.
    pub role: Role,
}

/// What the store answers for a change that would leave a tenant without an
/// owner member (`Stale`, the caller's read lost a race or was wrong).
pub fn last_owner(user_id: &str) -> crate::Error {
    crate::Error::Stale(format!(
        "{user_id} is the tenant's last owner: make another member owner first"
    ))
}

/// The people port. Every adapter of [`crate::Store`] implements it.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    // ---- users

    /// Creates a user. # Errors: `Duplicate` when the email (or id) is taken.
    async fn create_user(&self, user: &User) -> Result<()>;
    /// A user by id.
    async fn get_user(&self, id: &str) -> Result<Option<User>>;
    /// A user by normalised email.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// Sets the password hash and revokes every session of the user, in one
    /// transaction. # Errors: `NotFound("user")`.
    async fn set_password(&self, user_id: &str, hash: &str, at: i64) -> Result<()>;
    /// Sets the confirmed and the pending TOTP secrets (sealed).
    /// # Errors: `NotFound("user")`.
    async fn set_totp(
        &self,
        user_id: &str,
        secret: Option<&[u8]>,
        pending: Option<&[u8]>,
    ) -> Result<()>;
    /// Records that the TOTP code of `step` was used; `false` when a step at
    /// or after it was used already (a replayed code).
    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool>;

    // ---- memberships

    /// Adds a membership. # Errors: `Duplicate` when the user is a member
    /// already; `NotFound` when the tenant or the user does not exist.
    async fn add_membership(&self, membership: &Membership) -> Result<()>;
    /// A user's membership in a tenant.
    async fn get_membership(&self, tenant: &str, user_id: &str) -> Result<Option<Membership>>;
    /// A tenant's members, oldest first.
    async fn list_members(&self, tenant: &str) -> Result<Vec<Member>>;
    /// A user's memberships, oldest first.
    async fn memberships_of(&self, user_id: &str) -> Result<Vec<Membership>>;
    /// Changes a member's role and revokes their sessions in that tenant, in
    /// one transaction. # Errors: `NotFound("member")`; `Stale` when it
    /// would demote the tenant's last owner member (checked in the same
    /// transaction, so two owners demoting each other at once leave one).
    async fn set_member_role(&self, tenant: &str, user_id: &str, role: Role, at: i64)
    -> Result<()>;
    /// Removes a membership and revokes the user's sessions in that tenant,
    /// in one transaction. # Errors: `NotFound("member")`; `Stale` for the
    /// tenant's last owner member (atomic, as [`PeopleStore::set_member_role`]).
    async fn remove_membership(&self, tenant: &str, user_id: &str, at: i64) -> Result<()>;

    // ---- one-time links

    /// Stores a link. # Errors: `Duplicate` on a token hash or id taken.
    async fn create_link(&self, link: &Link) -> Result<()>;
    /// A tenant's links of one kind, unused and unexpired at `now`, newest first.
    async fn list_links(&self, tenant: &str, kind: LinkKind, now: i64) -> Result<Vec<Link>>;
    /// Deletes an unused link. # Errors: `NotFound("invitation")`.
    async fn delete_link(&self, tenant: &str, kind: LinkKind, id: &str) -> Result<()>;
    /// Uses the link with this token hash: marks it used and answers it, if
    /// it is of `kind`, unused and unexpired at `now`; `None` otherwise. Two
    /// concurrent calls: one gets it.
    async fn take_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>>;
    /// The link with this token hash if it is of `kind`, unused and
    /// unexpired at `now`, without using it (checks before [`take_link`]:
    /// a request refused for its content does not spend the link).
    ///
    /// [`take_link`]: PeopleStore::take_link
    async fn peek_link(&self, token_hash: &[u8], kind: LinkKind, now: i64) -> Result<Option<Link>>;

    // ---- sessions

    /// Stores a new session and, in the same transaction, revokes the one
    /// it replaces (rotation). # Errors: `Duplicate` on an id taken.
    async fn create_session(&self, session: &Session, replaces: Option<&[u8]>) -> Result<()>;
    /// The session with this id hash, joined with its membership's role (one
    /// indexed query); revoked or expired sessions are answered too (the
    /// caller decides).
    async fn session_auth(&self, id_hash: &[u8]) -> Result<Option<SessionAuth>>;
    /// Records a request on the session (the idle timeout restarts).
    async fn touch_session(&self, id_hash: &[u8], at: i64) -> Result<()>;
    /// Revokes one session (no error when it is revoked already or missing).
    async fn revoke_session(&self, id_hash: &[u8], at: i64) -> Result<()>;
    /// Revokes a user's sessions (in one tenant, or all); how many.
    async fn revoke_sessions(&self, user_id: &str, tenant: Option<&str>, at: i64) -> Result<u64>;

    // ---- login throttling

    /// Records a failed login under `key` (`account:<email>`, `addr:<ip>`)
    /// and forgets this key's failures older than a day.
    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()>;
    /// The times of the failures under `key` at or after `since`, oldest first.
    async fn login_failures(&self, key: &str, since: i64) -> Result<Vec<i64>>;
    /// Forgets the failures under `key` (a successful login or a reset).
    async fn clear_login_failures(&self, key: &str) -> Result<()>;
    /// Forgets ONE failure under `key` at `at` (an attempt recorded before
    /// its check that turned out not to be a failure); none there: no error.
    async fn forget_login_failure(&self, key: &str, at: i64) -> Result<()>;
    /// Forgets an account's failures everywhere: `account:<email>` and every
    /// `pair:<email>|<address>` (a reset, the operator's reset).
    async fn clear_account_failures(&self, email: &str) -> Result<()>;

    // ---- retention

    /// Deletes, at most `limit` rows of each, what no request can use any
    /// more: sessions revoked or past their absolute expiry, links used or
    /// expired, login failures older than [`FAILURES_KEPT_MS`] (those of
    /// keys never seen again, such as random emails, too). How many rows.
    async fn prune_people(&self, now: i64, limit: u32) -> Result<u64>;

    // ---- workflows' creators (the seed matrix)

    /// Records who created a workflow. # Errors: `NotFound("workflow")`.
    async fn set_workflow_creator(&self, tenant: &str, workflow_id: &str, by: &str) -> Result<()>;
    /// Who created a workflow (`system` for those made before people
    /// existed); `None` when the workflow does not exist.
    async fn workflow_creator(&self, tenant: &str, workflow_id: &str) -> Result<Option<String>>;
}
