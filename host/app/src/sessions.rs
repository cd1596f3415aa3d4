//! Browser sessions (`docs/TENANCY.md`, section 3): login with its throttle,
//! the session a cookie stands for, logout, switching tenants, accepting an
//! invitation and using a reset link.
//!
//! The cookie holds a 256-bit random id; the store keeps its SHA-256. The
//! CSRF token is derived from the id (SHA-256 of a label and the id), so it
//! can be answered again by `GET /v1/auth/session` without being stored; its
//! SHA-256 is stored with the session, and a request's token is compared
//! with it in constant time.

use crate::people::{normalise_email, sha256};
use crate::{Actor, App, Error, Result};
use std::time::Duration;
use subtle::ConstantTimeEq as _;
use weft_store::people::{LinkKind, Membership, Session, SessionAuth, User};
use weft_types::Role;
use weft_worker::{new_token, now_ms};

/// A session just started: what the cookie and the answer carry.
#[derive(Debug, Clone)]
pub struct Started {
    /// The cookie's value (shown once, never stored).
    pub secret: String,
    /// The CSRF token to send as `X-CSRF-Token`.
    pub csrf: String,
    /// Who.
    pub user: User,
    /// Every tenant the user belongs to.
    pub memberships: Vec<Membership>,
    /// The tenant the session acts in, and the role there.
    pub tenant_id: String,
    /// The role in that tenant.
    pub role: Role,
    /// When it ends at the latest.
    pub expires_at: i64,
}

/// Which counter a throttle key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// A client address: refused outright past `address_failures`.
    Address,
    /// An account at one address: the growing delay from `account_failures`.
    Pair,
    /// An account from anywhere: the growing delay from `account_ceiling`.
    Account,
}

/// A password check in progress, recorded as a failure until it succeeds.
#[derive(Debug)]
pub(crate) struct Attempt {
    keys: Vec<(Gate, String)>,
    at: i64,
}

/// A request's session, authenticated.
#[derive(Debug, Clone)]
pub struct Current {
    /// The tenant caller it acts as.
    pub actor: Actor,
    /// The row and the role.
    pub auth: SessionAuth,
}

/// The CSRF token of a session id.
pub fn csrf_token(secret: &str) -> String {
    sha256(&format!("weft-csrf\0{secret}"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl App {
    /// Logs in: throttled per account and per source address, the password
    /// checked (unknown emails cost the same work and get the same answer),
    /// then a new session in `tenant` (or the user's first tenant). A session
    /// the request came with is revoked (rotation: a pre-set id is never adopted).
    ///
    /// With TOTP on, `totp` (a code) is checked after the password: missing,
    /// 401 `totp_required` (not a failure); wrong or used before, 401
    /// `totp_invalid`, counted as a failed login.
    ///
    /// # Errors
    /// `Unauthenticated` for a wrong email or password (the same for both);
    /// `SecondFactor`; `Throttled` with the wait; `Forbidden` when the user
    /// has no membership (in `tenant`).
    #[allow(clippy::too_many_arguments)]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        totp: Option<&str>,
        tenant: Option<&str>,
        address: Option<&str>,
        previous: Option<&str>,
    ) -> Result<Started> {
        let email = normalise_email(email, "email").unwrap_or_else(|_| email.trim().to_lowercase());
        let attempt = self.begin_attempt(&email, address, now_ms()).await?;
        let user = self.store().user_by_email(&email).await;
        let checked = match user {
            Ok(user) => self
                .verify_password(password, user.as_ref().map(|u| u.password_hash.as_str()))
                .await
                .map(|ok| (ok, user)),
            Err(e) => Err(e.into()),
        };
        let user = match checked {
            Ok((true, Some(u))) if u.disabled_at.is_none() => u,
            Ok(_) => return Err(bad_login()),
            // No check was made (the store, or 503 for a saturated queue).
            Err(e) => {
                self.forget_attempt(&attempt).await;
                return Err(e);
            }
        };
        match self.second_factor(&user, totp, attempt.at).await {
            Ok(()) => {}
            Err(
                e @ Error::SecondFactor {
                    code: "totp_required",
                    ..
                },
            ) => {
                // The password was right; a missing code is not a failure.
                self.forget_attempt(&attempt).await;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        self.succeed_attempt(&attempt).await?;
        self.start_session(user, tenant, previous).await
    }

    /// Starts a password check for `email` from `address`, throttled
    /// (`docs/TENANCY.md`, section 3): the attempt is recorded as a failure
    /// BEFORE the password is checked and the counts read back with it, so
    /// concurrent attempts (here or in other processes) see each other and
    /// the count, not a race, decides how many are checked. Keys: the
    /// address (`addr:`), the account at that address (`pair:`, the growing
    /// delay), the account anywhere (`account:`, the loose ceiling).
    ///
    /// # Errors
    /// `Throttled` with the wait.
    pub(crate) async fn begin_attempt(
        &self,
        email: &str,
        address: Option<&str>,
        now: i64,
    ) -> Result<Attempt> {
        let mut keys = Vec::with_capacity(3);
        if let Some(a) = address {
            keys.push((Gate::Address, format!("addr:{a}")));
        }
        keys.push((
            Gate::Pair,
            format!("pair:{email}|{}", address.unwrap_or("-")),
        ));
        keys.push((Gate::Account, format!("account:{email}")));
        let attempt = Attempt { keys, at: now };
        // Refused already: nothing recorded (waiting out a delay is free).
        self.throttle(&attempt, false).await?;
        for (_, k) in &attempt.keys {
            self.store().record_login_failure(k, now).await?;
        }
        if let Err(e) = self.throttle(&attempt, true).await {
            self.forget_attempt(&attempt).await;
            return Err(e);
        }
        Ok(attempt)
    }

    /// The attempt succeeded: the account's counters are cleared, the
    /// address keeps its other failures (this one is forgotten).
    pub(crate) async fn succeed_attempt(&self, attempt: &Attempt) -> Result<()> {
        for (gate, k) in &attempt.keys {
            match gate {
                Gate::Address => self.store().forget_login_failure(k, attempt.at).await?,
                Gate::Pair | Gate::Account => self.store().clear_login_failures(k).await?,
            }
        }
        Ok(())
    }

    /// The attempt made no check (refused, or failed before it): it does not count.
    pub(crate) async fn forget_attempt(&self, attempt: &Attempt) {
        for (_, k) in &attempt.keys {
            if let Err(e) = self.store().forget_login_failure(k, attempt.at).await {
                tracing::warn!(key = %k, error = %e, "could not forget a login attempt");
            }
        }
    }

    /// The throttle's verdict on the attempt's keys; `own`: the attempt's
    /// rows are in the store (one row per key at `at` is not counted).
    async fn throttle(&self, attempt: &Attempt, own: bool) -> Result<()> {
        let o = &self.people.options;
        let now = attempt.at;
        let since = now - o.window_ms;
        for (gate, key) in &attempt.keys {
            let mut f = self.store().login_failures(key, since).await?;
            if own && let Some(i) = f.iter().rposition(|t| *t == now) {
                f.remove(i);
            }
            match gate {
                Gate::Address => {
                    let n = o.address_failures.max(1) as usize;
                    if f.len() >= n {
                        let wait = f[f.len() - n] + o.window_ms - now;
                        return Err(throttled("this address", wait));
                    }
                }
                Gate::Pair | Gate::Account => {
                    let n = if *gate == Gate::Pair {
                        o.account_failures
                    } else {
                        o.account_ceiling
                    } as usize;
                    if let Some(last) = f.iter().max()
                        && f.len() >= n.max(1)
                    {
                        let over = (f.len() - n.max(1)).min(30) as u32;
                        let delay = o
                            .base_delay_ms
                            .saturating_mul(1_i64 << over)
                            .min(o.max_delay_ms);
                        let wait = last + delay - now;
                        if wait > 0 {
                            return Err(throttled("this account", wait));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Starts a session for `user` in `tenant` (or its first tenant),
    /// revoking `previous` in the same transaction.
    pub(crate) async fn start_session(
        &self,
        user: User,
        tenant: Option<&str>,
        previous: Option<&str>,
    ) -> Result<Started> {
        let memberships = self.store().memberships_of(&user.id).await?;
        let chosen = match tenant {
            Some(t) => memberships.iter().find(|m| m.tenant_id == t),
            None => memberships.first(),
        }
        .cloned()
        .ok_or(Error::Refused {
            code: "forbidden",
            message: match tenant {
                Some(t) => format!("you are not a member of tenant {t}"),
                None => "you are not a member of any tenant".into(),
            },
            problems: Vec::new(),
        })?;
        let secret = new_token();
        let csrf = csrf_token(&secret);
        let now = now_ms();
        let o = &self.people.options;
        let session = Session {
            id_hash: sha256(&secret),
            user_id: user.id.clone(),
            tenant_id: chosen.tenant_id.clone(),
            csrf_hash: sha256(&csrf),
            created_at: now,
            last_seen_at: now,
            expires_at: now + o.absolute_ms,
            revoked_at: None,
        };
        let old = previous.map(sha256);
        self.store()
            .create_session(&session, old.as_deref())
            .await?;
        Ok(Started {
            secret,
            csrf,
            user,
            memberships,
            tenant_id: chosen.tenant_id,
            role: chosen.role,
            expires_at: session.expires_at,
        })
    }

    /// The session a cookie stands for, if it is live: not revoked, within
    /// its absolute and idle timeouts, its user's membership still there.
    /// Read from the store on every request (one indexed query).
    ///
    /// # Errors
    /// `Unauthenticated` otherwise.
    pub async fn session(&self, secret: &str) -> Result<Current> {
        let hash = sha256(secret);
        let auth = self
            .store()
            .session_auth(&hash)
            .await?
            .ok_or_else(dead_session)?;
        let now = now_ms();
        let s = &auth.session;
        let idle = self.people.options.idle_ms;
        if s.revoked_at.is_some() || now >= s.expires_at || now - s.last_seen_at >= idle {
            return Err(dead_session());
        }
        // The idle clock restarts; written at most every tenth of it.
        if now - s.last_seen_at >= (idle / 10).min(60_000) {
            self.store().touch_session(&hash, now).await?;
        }
        let mut actor = Actor::new(s.tenant_id.clone(), s.user_id.clone(), auth.role);
        actor.user_id = Some(s.user_id.clone());
        Ok(Current { actor, auth })
    }

    /// The session's user acting in another of their tenants for one
    /// request (`X-Weft-Tenant`), with their role there.
    ///
    /// # Errors
    /// `Denied` when the user is not a member of `tenant`.
    pub async fn session_in_tenant(&self, actor: &Actor, tenant: &str) -> Result<Actor> {
        let user = actor.user_id.as_deref().ok_or(Error::Unauthenticated)?;
        let m = self
            .store()
            .get_membership(tenant, user)
            .await?
            .ok_or_else(|| {
                Error::Denied(format!("X-Weft-Tenant: you are not a member of {tenant}"))
            })?;
        let mut a = Actor::new(m.tenant_id, user.to_owned(), m.role);
        a.user_id = Some(user.to_owned());
        Ok(a)
    }

    /// Whether `token` is the session's CSRF token (constant time).
    pub fn csrf_ok(&self, current: &Current, token: Option<&str>) -> bool {
        token.is_some_and(|t| {
            bool::from(
                sha256(t)
                    .as_slice()
                    .ct_eq(current.auth.session.csrf_hash.as_slice()),
            )
        })
    }

    /// Who a session is: the user and their memberships.
    ///
    /// # Errors
    /// `Unauthenticated`; store failures.
    pub async fn session_user(&self, current: &Current) -> Result<(User, Vec<Membership>)> {
        let user = self
            .store()
            .get_user(&current.auth.session.user_id)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let memberships = self.store().memberships_of(&user.id).await?;
        Ok((user, memberships))
    }

    /// Ends a session at once.
    ///
    /// # Errors
    /// Store failures.
    pub async fn logout(&self, secret: &str) -> Result<()> {
        Ok(self
            .store()
            .revoke_session(&sha256(secret), now_ms())
            .await?)
    }

    /// Moves the session to another of the user's tenants: a new id (the
    /// old one revoked in the same transaction).
    ///
    /// # Errors
    /// `Unauthenticated`; `Refused` when the user is not a member there.
    pub async fn switch_tenant(&self, secret: &str, tenant: &str) -> Result<Started> {
        let current = self.session(secret).await?;
        let (user, _) = self.session_user(&current).await?;
        self.start_session(user, Some(tenant), Some(secret)).await
    }

    /// Accepts an invitation: a new user (with `password`) or, for an email
    /// that has an account, a membership once the password is theirs; then
    /// a session in the tenant.
    ///
    /// # Errors
    /// `Refused` (`invalid_token`) for an unknown, used or expired token;
    /// `Invalid` for a password below the floor or an email other than the
    /// invitation's; `Unauthenticated` for an existing account's wrong password.
    pub async fn accept_invitation(
        &self,
        token: &str,
        email: Option<&str>,
        password: &str,
        totp: Option<&str>,
        address: Option<&str>,
        previous: Option<&str>,
    ) -> Result<Started> {
        let email = email.map(|e| normalise_email(e, "email")).transpose()?;
        let now = now_ms();
        let hash = sha256(token);
        // Everything is checked before the single-use link is spent, so a
        // mistyped password or a missing code does not burn the invitation.
        let link = self
            .store()
            .peek_link(&hash, LinkKind::Invitation, now)
            .await?
            .ok_or_else(invalid_token)?;
        // Its issuer must still be able to invite to that role, as a reset
        // link's must: an admin removed or demoted since, or a revoked key,
        // leaves no invitation behind. The operator's (`op:…`) always hold.
        if !link.created_by.starts_with("op:") {
            let issuer = self.issuer_role(&link.tenant_id, &link.created_by).await?;
            if !issuer.is_some_and(|r| r == Role::Owner || (r == Role::Admin && link.role < r)) {
                return Err(Error::Refused {
                    code: "invalid_token",
                    message: "token: this invitation no longer applies (whoever issued it is \
                              no longer a member or a live key of the tenant with the role to \
                              invite): ask for a new one"
                        .into(),
                    problems: Vec::new(),
                });
            }
        }
        let email = match (&link.email, email) {
            (Some(bound), Some(given)) if *bound != given => {
                return Err(Error::Invalid(format!(
                    "email: this invitation is for another address, not `{given}`"
                )));
            }
            (Some(bound), _) => bound.clone(),
            (None, Some(given)) => given,
            (None, None) => {
                return Err(Error::Invalid("email: required for this invitation".into()));
            }
        };
        let existing = self.store().user_by_email(&email).await?;
        let mut attempt = None;
        if let Some(u) = &existing {
            // An existing account proves its password (and second factor)
            // as a login would, throttled and counted like one (account and
            // address): an invitation token is not a way to guess another
            // account's password.
            let a = self.begin_attempt(&u.email, address, now).await?;
            match self.verify_password(password, Some(&u.password_hash)).await {
                Ok(true) => {}
                Ok(false) => return Err(bad_invitation_password()),
                Err(e) => {
                    self.forget_attempt(&a).await;
                    return Err(e);
                }
            }
            match self.second_factor(u, totp, now).await {
                Ok(()) => {}
                Err(
                    e @ Error::SecondFactor {
                        code: "totp_required",
                        ..
                    },
                ) => {
                    self.forget_attempt(&a).await;
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
            attempt = Some(a);
        } else {
            crate::people::check_password(password, &email)?;
        }
        if let Some(a) = &attempt {
            self.succeed_attempt(a).await?;
        }
        let link = self
            .store()
            .take_link(&hash, LinkKind::Invitation, now_ms())
            .await?
            .ok_or_else(invalid_token)?;
        let user = match existing {
            Some(u) => {
                self.revoke_tenant_resets(&u.id).await?;
                u
            }
            None => self.new_user(&email, password).await?,
        };
        self.store()
            .add_membership(&Membership {
                tenant_id: link.tenant_id.clone(),
                user_id: user.id.clone(),
                role: link.role,
                created_by: format!("invitation:{}", link.id),
                created_at: now_ms(),
            })
            .await?;
        let actor = Actor::new(link.tenant_id.clone(), user.id.clone(), link.role);
        self.audit(&actor, "invitation.accept", &link.id).await?;
        self.start_session(user, Some(&link.tenant_id), previous)
            .await
    }

    /// Uses a reset link: sets the password, revokes every session of the
    /// user, clears the account's login throttle.
    ///
    /// # Errors
    /// `Refused` (`invalid_token`); `Invalid` for a password below the floor.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<()> {
        let hash = sha256(token);
        // The new password is checked before the link is spent.
        let peeked = self
            .store()
            .peek_link(&hash, LinkKind::Reset, now_ms())
            .await?
            .ok_or_else(invalid_token)?;
        let user_id = peeked.user_id.clone().ok_or_else(invalid_token)?;
        let user = self
            .store()
            .get_user(&user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        self.reset_still_applies(&peeked).await?;
        crate::people::check_password(password, &user.email)?;
        let new = self.hash_password(password).await?;
        let link = self
            .store()
            .take_link(&hash, LinkKind::Reset, now_ms())
            .await?
            .ok_or_else(invalid_token)?;
        self.store().set_password(&user.id, &new, now_ms()).await?;
        self.store().clear_account_failures(&user.email).await?;
        let actor = Actor::new(link.tenant_id.clone(), user.id.clone(), link.role);
        self.audit(&actor, "password.reset", &user.id).await
    }
}

impl App {
    /// Whether a reset link issued in a tenant still covers its user: the
    /// issuer's authority was checked at issue time (the user belonged to
    /// that tenant alone, below the issuer's role) and must still hold at
    /// use, or an admin could keep a link until the user joins another
    /// tenant and take the account there. The issuer must also still be
    /// able to issue it: a member of the tenant (or a live, unscoped,
    /// unexpiring key of it) whose role is owner, or admin above the
    /// link's; an admin removed or demoted since, or a revoked key, leaves
    /// no link behind. Links the operator issued (`op:…`) cover any user.
    async fn reset_still_applies(&self, link: &weft_store::people::Link) -> Result<()> {
        if link.created_by.starts_with("op:") {
            return Ok(());
        }
        let issuer = self.issuer_role(&link.tenant_id, &link.created_by).await?;
        if !issuer.is_some_and(|r| r == Role::Owner || (r == Role::Admin && link.role < r)) {
            return Err(Error::Refused {
                code: "invalid_token",
                message: "token: this reset link no longer applies (whoever issued it is no \
                          longer a member or a live key of the tenant with the role to issue \
                          it): ask an admin for a new one"
                    .into(),
                problems: Vec::new(),
            });
        }
        let user = link.user_id.as_deref().ok_or_else(invalid_token)?;
        let ms = self.store().memberships_of(user).await?;
        match ms.as_slice() {
            [m] if m.tenant_id == link.tenant_id && m.role <= link.role => Ok(()),
            _ => Err(Error::Refused {
                code: "invalid_token",
                message: "token: this reset link no longer applies (the user's tenants or role \
                          changed since it was issued): ask the operator for a new one"
                    .into(),
                problems: Vec::new(),
            }),
        }
    }

    /// Deletes the open reset links tenants issued for `user_id` (it is
    /// joining another tenant: those tenants' admins no longer may reset it).
    async fn revoke_tenant_resets(&self, user_id: &str) -> Result<()> {
        let now = now_ms();
        for m in self.store().memberships_of(user_id).await? {
            for l in self
                .store()
                .list_links(&m.tenant_id, LinkKind::Reset, now)
                .await?
            {
                if l.user_id.as_deref() == Some(user_id) && !l.created_by.starts_with("op:") {
                    match self
                        .store()
                        .delete_link(&m.tenant_id, LinkKind::Reset, &l.id)
                        .await
                    {
                        Ok(()) | Err(weft_store::Error::NotFound(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Ok(())
    }
}

fn invalid_token() -> Error {
    Error::Refused {
        code: "invalid_token",
        message: "token: unknown, used or expired".into(),
        problems: Vec::new(),
    }
}

fn dead_session() -> Error {
    Error::BadCredentials(
        "weft_session: this session cookie is unknown, expired or revoked: log in again".into(),
    )
}

fn bad_login() -> Error {
    Error::BadCredentials("email or password: not a valid login".into())
}

fn bad_invitation_password() -> Error {
    Error::BadCredentials(
        "password: this email has an account; accepting needs its password, and this is not it"
            .into(),
    )
}

fn throttled(what: &str, wait_ms: i64) -> Error {
    let wait = Duration::from_millis(u64::try_from(wait_ms.max(1)).unwrap_or(1));
    Error::Throttled {
        message: format!(
            "too many failed logins from {what}: try again in {} s",
            wait.as_secs().max(1)
        ),
        retry_after: wait,
    }
}
