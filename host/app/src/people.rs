//! People (`docs/TENANCY.md`, section 3): passwords, members, invitations and
//! password resets. Sessions, login and TOTP are in `sessions.rs`.
//!
//! Who may (the seed matrix, as built):
//!
//! | action | owner | admin | member | viewer |
//! |---|---|---|---|---|
//! | list members | yes | yes | yes | no |
//! | change a role, remove a member | yes | no | no | no |
//! | invite | any role | member, viewer | no | no |
//! | list, revoke invitations | yes | yes | no | no |
//! | issue a reset link | any member* | members, viewers* | no | no |
//!
//! \* only for a user who belongs to no other tenant (a reset changes the
//! password everywhere; for anyone else it is the operator's).

use crate::{Actor, App, Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;
use weft_store::people::{Link, LinkKind, Member, User};
use weft_types::Role;
use weft_worker::{new_id, new_token, now_ms};

/// `[sessions]`: browser sessions, one-time links and the login throttle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionOptions {
    /// A session unused this long (ms) is over.
    pub idle_ms: i64,
    /// A session is over this long (ms) after login, used or not.
    pub absolute_ms: i64,
    /// How long an invitation link is valid by default (ms).
    pub invitation_ms: i64,
    /// How long a password reset link is valid (ms).
    pub reset_ms: i64,
    /// Failed logins of one account from one client address within
    /// `window_ms` before that address waits for that account (the growing
    /// delay: an attacker's failures delay the attacker's address only).
    pub account_failures: u32,
    /// Failed logins of one account from all addresses together within
    /// `window_ms` before every login of it waits (the growing delay again):
    /// the loose bound on an attacker spread over many addresses.
    pub account_ceiling: u32,
    /// Failed logins from one address within `window_ms` before it is refused.
    pub address_failures: u32,
    /// The throttle's window (ms).
    pub window_ms: i64,
    /// The first wait once an account is throttled (ms); doubles with each
    /// further failure, up to `max_delay_ms`.
    pub base_delay_ms: i64,
    /// The longest wait (ms): an account is never locked for longer.
    pub max_delay_ms: i64,
    /// Password hashes computed at once (each takes 19 MiB and a core).
    pub hash_concurrency: usize,
    /// Password checks waiting for a slot at most; one more is answered 503
    /// `unavailable` with `Retry-After` at once (a flood does not queue up
    /// in front of every legitimate login).
    pub hash_queue: usize,
    /// How long (ms) a password check waits for a slot before 503.
    pub hash_wait_ms: u64,
    /// Reverse proxies (addresses or CIDRs) whose `client_address_header`
    /// is believed: the client address is the rightmost hop that is not one
    /// of them. Empty (the default): the TCP peer.
    pub trusted_proxies: Vec<Cidr>,
    /// The ONE header the trusted proxies write (`x-forwarded-for`, the
    /// default, or `forwarded`); the other is the client's own and ignored
    /// (a proxy that appends to one passes the other through untouched).
    pub client_address_header: AddressHeader,
    /// Send the cookie with `Secure` even when the public URL is plain
    /// http on loopback (false: dropped there only, so a local console works).
    pub always_secure: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            idle_ms: 30 * 60_000,
            absolute_ms: 12 * 3_600_000,
            invitation_ms: 7 * 86_400_000,
            reset_ms: 3_600_000,
            account_failures: 5,
            account_ceiling: 100,
            address_failures: 20,
            window_ms: 15 * 60_000,
            base_delay_ms: 1_000,
            max_delay_ms: 15 * 60_000,
            hash_concurrency: 2,
            hash_queue: 16,
            hash_wait_ms: 2_000,
            trusted_proxies: Vec::new(),
            client_address_header: AddressHeader::XForwardedFor,
            always_secure: false,
        }
    }
}

/// Which header a trusted proxy writes the client's address in
/// (`sessions.client_address_header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, AWS ALB, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239: Envoy, some CDNs when configured so).
    Forwarded,
}

/// An address or a CIDR block (`10.0.0.0/8`, `::1`), as configured in
/// `sessions.trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as
    /// its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        let bad = || {
            format!(
                "trusted_proxies: `{s}` is not an address or a CIDR block (e.g. 10.0.0.0/8, ::1)"
            )
        };
        let (addr, bits) = s
            .trim()
            .split_once('/')
            .map_or((s.trim(), None), |(a, b)| (a, Some(b)));
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(bad)?,
        };
        Ok(Self { net, bits })
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> Self {
        format!("{}/{}", c.net, c.bits)
    }
}

impl SessionOptions {
    /// The client's address: the TCP `peer`, or, when the peer is one of
    /// `trusted_proxies`, the rightmost hop of `client_address_header` that
    /// is not a trusted proxy; the other header is ignored, whatever it
    /// says (the proxy passes it through from the client). Hops a client
    /// wrote itself are to the left of what its proxies append, so it
    /// cannot pick the address it is counted under.
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        forwarded: Option<&str>,
        x_forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        let trusted = |ip: IpAddr| self.trusted_proxies.iter().any(|c| c.contains(ip));
        if !trusted(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = match self.client_address_header {
            AddressHeader::Forwarded => forwarded
                .unwrap_or_default()
                .split(',')
                .filter_map(|el| {
                    el.split(';').find_map(|kv| {
                        let (k, v) = kv.trim().split_once('=')?;
                        k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
                    })
                })
                .collect(),
            AddressHeader::XForwardedFor => x_forwarded_for
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .collect(),
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !trusted(ip) {
                        break;
                    }
                }
                // Unreadable (`unknown`, an obfuscated name): the last
                // trusted hop is the best we know.
                None => break,
            }
        }
        Some(client)
    }
}

/// An address as a `Forwarded` `for=` or an `X-Forwarded-For` entry writes
/// it: `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let h = hop.trim().trim_matches('"');
    if let Ok(ip) = h.parse() {
        return Some(ip);
    }
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    h.rsplit_once(':')?
        .0
        .parse::<std::net::Ipv4Addr>()
        .ok()
        .map(IpAddr::V4)
}

/// The people service's state: its options and the bound on hash work.
pub(crate) struct PeopleCore {
    pub(crate) options: SessionOptions,
    hashing: Semaphore,
    queued: AtomicUsize,
}

impl PeopleCore {
    pub(crate) fn new(options: SessionOptions) -> Arc<Self> {
        let permits = options.hash_concurrency.max(1);
        Arc::new(Self {
            options,
            hashing: Semaphore::new(permits),
            queued: AtomicUsize::new(0),
        })
    }

    /// A slot for one password hash or check: at most `hash_queue` wait,
    /// each at most `hash_wait_ms`; otherwise 503 at once.
    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        struct Queued<'a>(&'a AtomicUsize);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if let Ok(p) = self.hashing.try_acquire() {
            return Ok(p);
        }
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.options.hash_queue {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let _queued = Queued(&self.queued);
        let wait = std::time::Duration::from_millis(self.options.hash_wait_ms);
        match tokio::time::timeout(wait, self.hashing.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(busy()),
        }
    }
}

fn busy() -> Error {
    Error::Unavailable("password checks are saturated: try again in a moment".into())
}

/// The most common breached passwords of 12 characters or more (a short
/// list; the length floor does the rest).
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "qwertyuiopas",
    "qwerty123456",
    "password1234",
    "password12345",
    "passwordpassword",
    "iloveyou1234",
    "111111111111",
    "123123123123",
    "abc123abc123",
    "qwertyqwerty",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "welcome12345",
    "letmein12345",
    "administrator",
    "changeme1234",
    "football1234",
    "baseball1234",
    "princess1234",
    "sunshine1234",
    "trustno1trustno1",
    "monkey123456",
    "dragon123456",
    "master123456",
    "superman1234",
    "asdfghjkl123",
    "passw0rd1234",
    "p@ssw0rd1234",
    "p@ssword1234",
    "correcthorsebatterystaple",
];

/// Checks a new password: at least 12 characters, not the email, not one
/// repeated character, not a common breached password.
///
/// # Errors
/// [`Error::Invalid`] naming the field `password` and what is wrong.
pub fn check_password(password: &str, email: &str) -> Result<()> {
    let n = password.chars().count();
    let bad = |why: &str| Err(Error::Invalid(format!("password: {why}")));
    if n < 12 {
        return bad(&format!("must be at least 12 characters (it has {n})"));
    }
    if n > 1024 {
        return bad("must be at most 1024 characters");
    }
    let lower = password.to_lowercase();
    if !email.is_empty() && (lower == email || lower == email.split('@').next().unwrap_or("")) {
        return bad("must not be the email address");
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return bad("must not be one repeated character");
    }
    if COMMON.contains(&lower.as_str()) {
        return bad("is one of the most common breached passwords");
    }
    Ok(())
}

/// Normalises and checks an email address.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn normalise_email(email: &str, field: &str) -> Result<String> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(e)
    } else {
        Err(Error::Invalid(format!(
            "{field}: `{}` is not an email address",
            email.trim()
        )))
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP: argon2id, 19 MiB, 2 passes, 1 lane. The numbers are constants
    // within the crate's accepted ranges, so `Params::new` cannot fail.
    #[allow(clippy::expect_used)]
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of no password, verified against for unknown emails so that they
/// cost the same work as known ones.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now("weft-no-such-user-decoy").unwrap_or_default())
}

fn hash_now(password: &str) -> Result<String> {
    let salt = &hex_bytes(&new_token())[..16];
    let salt = SaltString::encode_b64(salt).map_err(|e| Error::Internal(format!("salt: {e}")))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Internal(format!("password hash: {e}")))?
        .to_string())
}

fn hex_bytes(token: &str) -> Vec<u8> {
    (0..token.len() / 2)
        .filter_map(|i| u8::from_str_radix(token.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 of a token (how tokens and session ids are stored).
pub(crate) fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl App {
    /// Hashes a password off the async runtime, at most
    /// `hash_concurrency` at once.
    pub(crate) async fn hash_password(&self, password: &str) -> Result<String> {
        let _permit = self.people.slot().await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|e| Error::Internal(format!("password hash task: {e}")))?
    }

    /// Verifies a password off the async runtime (bounded like hashing); a
    /// missing hash (unknown email) is verified against a decoy, so the
    /// answer takes as long and is `false`.
    pub(crate) async fn verify_password(&self, password: &str, hash: Option<&str>) -> Result<bool> {
        let _permit = self.people.slot().await?;
        let (password, stored, real) = (
            password.to_owned(),
            hash.map_or_else(|| decoy().to_owned(), str::to_owned),
            hash.is_some(),
        );
        tokio::task::spawn_blocking(move || {
            let ok = PasswordHash::new(&stored)
                .is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
            ok && real
        })
        .await
        .map_err(|e| Error::Internal(format!("password check task: {e}")))
    }

    /// The tenant's members with their roles.
    ///
    /// # Errors
    /// `Forbidden` below member.
    pub async fn list_members(&self, actor: &Actor) -> Result<Vec<Member>> {
        actor.require(Role::Member)?;
        Ok(self.store().list_members(&actor.tenant_id).await?)
    }

    async fn owners_left_without(&self, tenant: &str, user_id: &str) -> Result<bool> {
        let members = self.store().list_members(tenant).await?;
        Ok(members
            .iter()
            .any(|m| m.membership.role == Role::Owner && m.membership.user_id != user_id))
    }

    /// Changes a member's role (owners only); their sessions in this tenant
    /// are revoked, so their next request logs in again with the new role.
    ///
    /// # Errors
    /// `Forbidden` below owner; `NotFound("member")`; `Conflict` when it
    /// would leave the tenant without an owner.
    pub async fn set_member_role(
        &self,
        actor: &Actor,
        user_id: &str,
        role: Role,
    ) -> Result<Member> {
        actor.require(Role::Owner)?;
        let m = self
            .store()
            .get_membership(&actor.tenant_id, user_id)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if m.role == Role::Owner
            && role != Role::Owner
            && !self.owners_left_without(&actor.tenant_id, user_id).await?
        {
            return Err(Error::Conflict(format!(
                "{user_id} is the tenant's last owner: make another member owner first"
            )));
        }
        self.store()
            .set_member_role(&actor.tenant_id, user_id, role, now_ms())
            .await?;
        self.audit(
            actor,
            "member.role",
            &format!("{user_id}:{}", role.as_str()),
        )
        .await?;
        self.store()
            .list_members(&actor.tenant_id)
            .await?
            .into_iter()
            .find(|x| x.membership.user_id == user_id)
            .ok_or(Error::NotFound("member"))
    }

    /// Removes a member (owners only); their sessions in this tenant are
    /// revoked in the same transaction.
    ///
    /// # Errors
    /// `Forbidden` below owner; `NotFound("member")`; `Conflict` for the last owner.
    pub async fn remove_member(&self, actor: &Actor, user_id: &str) -> Result<()> {
        actor.require(Role::Owner)?;
        let m = self
            .store()
            .get_membership(&actor.tenant_id, user_id)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if m.role == Role::Owner && !self.owners_left_without(&actor.tenant_id, user_id).await? {
            return Err(Error::Conflict(format!(
                "{user_id} is the tenant's last owner: make another member owner first"
            )));
        }
        self.store()
            .remove_membership(&actor.tenant_id, user_id, now_ms())
            .await?;
        self.revoke_resets_issued_by(&actor.tenant_id, user_id)
            .await?;
        self.audit(actor, "member.remove", user_id).await
    }

    /// Issues an invitation: a one-time token, shown once. Owners invite any
    /// role; admins members and viewers.
    ///
    /// # Errors
    /// `Forbidden` below admin, or an admin inviting an admin or owner;
    /// `OutOfScope` for an API key with scopes or an expiry;
    /// `Invalid` for a bad email or expiry.
    pub async fn create_invitation(
        &self,
        actor: &Actor,
        role: Role,
        email: Option<&str>,
        expires_in_ms: Option<i64>,
    ) -> Result<(Link, String)> {
        actor.require(Role::Admin)?;
        if role >= Role::Admin {
            actor.require(Role::Owner)?;
        }
        lasting_issuer(actor, "an invitation")?;
        let email = email.map(|e| normalise_email(e, "email")).transpose()?;
        let ttl = expires_in_ms.unwrap_or(self.people.options.invitation_ms);
        if !(60_000..=30 * 86_400_000).contains(&ttl) {
            return Err(Error::Invalid(
                "expires_in_ms: must be between 60000 (a minute) and 2592000000 (30 days)".into(),
            ));
        }
        let (link, token) = self
            .issue_link(actor, LinkKind::Invitation, role, email, None, ttl)
            .await?;
        self.audit(actor, "invitation.create", &link.id).await?;
        Ok((link, token))
    }

    pub(crate) async fn issue_link(
        &self,
        actor: &Actor,
        kind: LinkKind,
        role: Role,
        email: Option<String>,
        user_id: Option<String>,
        ttl: i64,
    ) -> Result<(Link, String)> {
        let token = new_token();
        let now = now_ms();
        let link = Link {
            id: new_id(if kind == LinkKind::Invitation {
                "inv"
            } else {
                "rst"
            }),
            token_hash: sha256(&token),
            kind,
            tenant_id: actor.tenant_id.clone(),
            role,
            email,
            user_id,
            created_by: actor.key_id.clone(),
            created_at: now,
            expires_at: now + ttl,
            used_at: None,
        };
        self.store().create_link(&link).await?;
        Ok((link, token))
    }

    /// The tenant's open invitations.
    ///
    /// # Errors
    /// `Forbidden` below admin.
    pub async fn list_invitations(&self, actor: &Actor) -> Result<Vec<Link>> {
        actor.require(Role::Admin)?;
        Ok(self
            .store()
            .list_links(&actor.tenant_id, LinkKind::Invitation, now_ms())
            .await?)
    }

    /// Revokes an unused invitation.
    ///
    /// # Errors
    /// `Forbidden` below admin; `NotFound("invitation")`.
    pub async fn delete_invitation(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store()
            .delete_link(&actor.tenant_id, LinkKind::Invitation, id)
            .await?;
        self.audit(actor, "invitation.delete", id).await
    }

    /// Issues a one-time password reset link for a member of this tenant.
    ///
    /// # Errors
    /// `Forbidden` below admin, or for a member whose role is not below the
    /// caller's (owners may reset owners), or who belongs to another tenant
    /// too (that is the operator's); `OutOfScope` for an API key with scopes
    /// or an expiry; `NotFound("member")`.
    pub async fn issue_reset(&self, actor: &Actor, user_id: &str) -> Result<(Link, String)> {
        actor.require(Role::Admin)?;
        lasting_issuer(actor, "a reset link")?;
        let m = self
            .store()
            .get_membership(&actor.tenant_id, user_id)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if m.role >= actor.role && actor.role != Role::Owner {
            return Err(Error::Forbidden { needs: Role::Owner });
        }
        let tenants = self.store().memberships_of(user_id).await?;
        if tenants.iter().any(|t| t.tenant_id != actor.tenant_id) {
            return Err(Error::Refused {
                code: "forbidden",
                message: format!(
                    "{user_id} also belongs to another tenant: only the operator can reset their password"
                ),
                problems: Vec::new(),
            });
        }
        let ttl = self.people.options.reset_ms;
        let (link, token) = self
            .issue_link(
                actor,
                LinkKind::Reset,
                m.role,
                None,
                Some(user_id.to_owned()),
                ttl,
            )
            .await?;
        self.audit(actor, "member.reset", user_id).await?;
        Ok((link, token))
    }

    pub(crate) async fn new_user(&self, email: &str, password: &str) -> Result<User> {
        check_password(password, email)?;
        let user = User {
            id: new_id("usr"),
            email: email.to_owned(),
            password_hash: self.hash_password(password).await?,
            totp_secret: None,
            totp_pending: None,
            totp_last_step: 0,
            created_at: now_ms(),
            disabled_at: None,
        };
        self.store().create_user(&user).await?;
        Ok(user)
    }
}

/// Refuses an API key narrower than its role (scopes or an expiry) as the
/// issuer of `what`: the link outlives the key and carries none of its
/// limits (an owner key scoped to `members:write`, expiring tomorrow, would
/// invite a permanent, unscoped owner). Sessions and unscoped, unexpiring
/// keys issue links.
fn lasting_issuer(actor: &Actor, what: &str) -> Result<()> {
    if actor.scopes.is_none() && actor.expires_at.is_none() {
        return Ok(());
    }
    Err(Error::OutOfScope {
        needs: format!(
            "a key without scopes or an expiry: {what} outlives this key and none of its \
             limits would hold for whoever uses it; use a session or an unscoped key"
        ),
    })
}

impl App {
    /// The role `created_by` (a link's issuer: a user id or an API key id of
    /// `tenant`) still has there: a membership, or a live key that could
    /// issue links today (not revoked, not expired, no scopes, no expiry).
    /// `None`: no longer any (removed, revoked, unknown).
    pub(crate) async fn issuer_role(&self, tenant: &str, created_by: &str) -> Result<Option<Role>> {
        if created_by.starts_with("key_") {
            return Ok(self
                .store()
                .list_api_keys(tenant)
                .await?
                .into_iter()
                .find(|k| k.id == created_by)
                .filter(|k| k.revoked_at.is_none() && k.scopes.is_none() && k.expires_at.is_none())
                .map(|k| k.role));
        }
        Ok(self
            .store()
            .get_membership(tenant, created_by)
            .await?
            .map(|m| m.role))
    }

    /// Deletes the open reset links `issuer` issued in `tenant` (they are
    /// leaving it: their links go with their authority).
    pub(crate) async fn revoke_resets_issued_by(&self, tenant: &str, issuer: &str) -> Result<()> {
        let now = now_ms();
        for l in self
            .store()
            .list_links(tenant, LinkKind::Reset, now)
            .await?
        {
            if l.created_by == issuer {
                match self
                    .store()
                    .delete_link(tenant, LinkKind::Reset, &l.id)
                    .await
                {
                    Ok(()) | Err(weft_store::Error::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}

fn closed() -> Error {
    Error::Unavailable("password hashing is shutting down".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_below_the_floor_are_refused_naming_why() {
        for (pw, why) in [
            ("short", "at least 12"),
            ("aaaaaaaaaaaaaaaa", "repeated"),
            ("ann@example.com", "email"),
            ("Password1234", "common"),
        ] {
            let e = check_password(pw, "ann@example.com")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("password:") && e.contains(why), "{pw}: {e}");
        }
        check_password("a long and unusual phrase", "ann@example.com").unwrap();
    }

    #[test]
    fn the_client_address_is_the_rightmost_untrusted_hop() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut o = SessionOptions::default();
        let xff = Some("6.6.6.6, 1.2.3.4, 10.0.0.7");
        // No trusted proxies: the peer, whatever the headers say.
        assert_eq!(
            o.client_address(Some(ip("10.0.0.1")), None, xff),
            Some(ip("10.0.0.1"))
        );
        o.trusted_proxies = vec![
            Cidr::try_from("10.0.0.0/8".to_owned()).unwrap(),
            Cidr::try_from("::1".to_owned()).unwrap(),
        ];
        // An untrusted peer's headers are ignored.
        assert_eq!(
            o.client_address(Some(ip("8.8.8.8")), None, xff),
            Some(ip("8.8.8.8"))
        );
        // A trusted peer: the rightmost untrusted hop, not the client's own claim.
        assert_eq!(
            o.client_address(Some(ip("10.0.0.1")), None, xff),
            Some(ip("1.2.3.4"))
        );
        let fwd = Some("for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.9");
        // The proxy writes X-Forwarded-For (the default): a `Forwarded` the
        // client sent through it is not believed, whatever it claims.
        for claim in [fwd, Some("for=10.9.1.2"), Some("for=10.9.1.3")] {
            assert_eq!(
                o.client_address(Some(ip("10.0.0.1")), claim, xff),
                Some(ip("1.2.3.4"))
            );
            assert_eq!(
                o.client_address(Some(ip("10.0.0.1")), claim, None),
                Some(ip("10.0.0.1")),
                "no X-Forwarded-For: the last trusted hop, not the claim"
            );
        }
        // The proxy writes `Forwarded`: then X-Forwarded-For is the client's.
        o.client_address_header = AddressHeader::Forwarded;
        assert_eq!(
            o.client_address(Some(ip("::1")), fwd, xff),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            o.client_address(Some(ip("::1")), None, Some("9.9.9.9")),
            Some(ip("::1"))
        );
        o.client_address_header = AddressHeader::XForwardedFor;
        assert_eq!(
            o.client_address(Some(ip("::ffff:10.1.2.3")), None, Some("5.5.5.5:80")),
            Some(ip("5.5.5.5"))
        );
        for bad in ["10.0.0.0/33", "nonsense", "::1/129"] {
            let e = Cidr::try_from(bad.to_owned()).unwrap_err();
            assert!(e.starts_with("trusted_proxies:") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email(" Ann@Example.COM ", "email").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "ann",
            "ann@",
            "@x.com",
            "ann@localhost",
            "a b@x.com",
            "a@b@c.com",
        ] {
            let e = normalise_email(bad, "email").unwrap_err().to_string();
            assert!(e.starts_with("email:"), "{bad}: {e}");
        }
    }

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_verify() {
        let h = hash_now("a long and unusual phrase").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(
            argon2()
                .verify_password(b"a long and unusual phrase", &parsed)
                .is_ok()
        );
        assert!(
            argon2()
                .verify_password(b"another phrase entirely", &parsed)
                .is_err()
        );
    }
}
