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
        let now = now_ms();
        let account_key = format!("account:{email}");
        let address_key = address.map(|a| format!("addr:{a}"));
        self.throttle(&account_key, address_key.as_deref(), now)
            .await?;
        let user = self.store().user_by_email(&email).await?;
        let ok = self
            .verify_password(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match user {
            Some(u) if ok && u.disabled_at.is_none() => u,
            _ => {
                self.store().record_login_failure(&account_key, now).await?;
                if let Some(a) = &address_key {
                    self.store().record_login_failure(a, now).await?;
                }
                return Err(Error::Unauthenticated);
            }
        };
        self.second_factor(&user, totp, &account_key, address_key.as_deref(), now)
            .await?;
        self.store().clear_login_failures(&account_key).await?;
        self.start_session(user, tenant, previous).await
    }

    pub(crate) async fn throttle(
        &self,
        account: &str,
        address: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let o = &self.people.options;
        let since = now - o.window_ms;
        if let Some(a) = address {
            let f = self.store().login_failures(a, since).await?;
            if f.len() >= o.address_failures as usize {
                let wait = f[f.len() - o.address_failures as usize] + o.window_ms - now;
                return Err(throttled("this address", wait));
            }
        }
        let f = self.store().login_failures(account, since).await?;
        if let Some(last) = f.last()
            && f.len() >= o.account_failures as usize
        {
            let over = (f.len() - o.account_failures as usize).min(30) as u32;
            let delay = o
                .base_delay_ms
                .saturating_mul(1_i64 << over)
                .min(o.max_delay_ms);
            let wait = last + delay - now;
            if wait > 0 {
                return Err(throttled("this account", wait));
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
            .ok_or(Error::Unauthenticated)?;
        let now = now_ms();
        let s = &auth.session;
        let idle = self.people.options.idle_ms;
        if s.revoked_at.is_some() || now >= s.expires_at || now - s.last_seen_at >= idle {
            return Err(Error::Unauthenticated);
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
        if let Some(u) = &existing {
            // An existing account proves its password (and second factor)
            // as a login would, throttled like one: an invitation token is
            // not a way to guess another account's password.
            let key = format!("account:{}", u.email);
            self.throttle(&key, None, now).await?;
            if !self
                .verify_password(password, Some(&u.password_hash))
                .await?
            {
                self.store().record_login_failure(&key, now).await?;
                return Err(Error::Unauthenticated);
            }
            self.second_factor(u, totp, &key, None, now).await?;
        } else {
            crate::people::check_password(password, &email)?;
        }
        let link = self
            .store()
            .take_link(&hash, LinkKind::Invitation, now_ms())
            .await?
            .ok_or_else(invalid_token)?;
        let user = match existing {
            Some(u) => u,
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
        crate::people::check_password(password, &user.email)?;
        let new = self.hash_password(password).await?;
        let link = self
            .store()
            .take_link(&hash, LinkKind::Reset, now_ms())
            .await?
            .ok_or_else(invalid_token)?;
        self.store().set_password(&user.id, &new, now_ms()).await?;
        self.store()
            .clear_login_failures(&format!("account:{}", user.email))
            .await?;
        let actor = Actor::new(link.tenant_id.clone(), user.id.clone(), link.role);
        self.audit(&actor, "password.reset", &user.id).await
    }
}

fn invalid_token() -> Error {
    Error::Refused {
        code: "invalid_token",
        message: "token: unknown, used or expired".into(),
        problems: Vec::new(),
    }
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
