//! People and sessions (`docs/TENANCY.md`, section 3): the `/v1/auth/…`
//! routes of a browser session (login, the session, logout, switching
//! tenants, accepting an invitation, a reset, TOTP), and the key-authenticated
//! `/v1/members` and `/v1/invitations`, in the order of
//! `weft_api::routes::ROUTES`.
//!
//! A session is the `weft_session` cookie and its CSRF token, held in a
//! [`Session`] and sent with each session call (the client's API key, if any,
//! is sent too but a session route reads only the cookie).

use crate::raw::decode;
use crate::{Body, Client, Error, Result};
use reqwest::Method;
use reqwest::header::{COOKIE, HeaderMap, HeaderValue, SET_COOKIE};
use weft_model::List;
use weft_model::people::{
    AcceptInvitation, Invitation, Login, Member, MemberPatch, NewInvitation, ResetPassword,
    SessionInfo, SwitchTenant, TotpConfirm, TotpDisable, TotpSetup, TotpSetupRequest,
};

/// A signed-in session: the cookie and who it is (with the CSRF token).
#[derive(Clone)]
pub struct Session {
    cookie: HeaderValue,
    /// Who, where, and the CSRF token.
    pub info: SessionInfo,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("cookie", &"…")
            .field("user_id", &self.info.user_id)
            .field("tenant_id", &self.info.tenant_id)
            .finish()
    }
}

impl Session {
    fn headers(&self) -> Result<HeaderMap> {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, self.cookie.clone());
        let mut csrf = HeaderValue::from_str(&self.info.csrf_token)
            .map_err(|_| Error::Setup("the CSRF token is not a header value".into()))?;
        csrf.set_sensitive(true);
        h.insert("x-csrf-token", csrf);
        Ok(h)
    }
}

impl Client {
    async fn session_call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Body,
        session: Option<&Session>,
    ) -> Result<(T, HeaderMap)> {
        let url = self.url(segments, &[])?;
        let headers = match session {
            Some(s) => s.headers()?,
            None => HeaderMap::new(),
        };
        let resp = self
            .send(method.clone(), url.clone(), body, &headers)
            .await?;
        let set = resp.headers.clone();
        Ok((decode(method, &url, resp)?, set))
    }

    async fn started(
        &self,
        method: Method,
        segments: &[&str],
        body: Body,
        session: Option<&Session>,
    ) -> Result<Session> {
        let (info, headers): (SessionInfo, _) =
            self.session_call(method, segments, body, session).await?;
        let cookie = headers
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .and_then(|c| HeaderValue::from_str(c.trim()).ok())
            .ok_or_else(|| Error::Setup("the answer set no session cookie".into()))?;
        let mut cookie = cookie;
        cookie.set_sensitive(true);
        Ok(Session { cookie, info })
    }

    /// `POST /v1/auth/login` (with `totp` when the account has it on).
    ///
    /// # Errors
    /// [`crate::Error`]: 401 `unauthenticated`, `totp_required`,
    /// `totp_invalid`; 429 while throttled.
    pub async fn login(&self, login: &Login) -> Result<Session> {
        self.started(
            Method::POST,
            &["v1", "auth", "login"],
            Body::json(login)?,
            None,
        )
        .await
    }

    /// `POST /v1/auth/logout`: the session ends at once.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn logout(&self, session: &Session) -> Result<()> {
        self.session_call(
            Method::POST,
            &["v1", "auth", "logout"],
            Body::None,
            Some(session),
        )
        .await
        .map(|(v, _)| v)
    }

    /// `GET /v1/auth/session`.
    ///
    /// # Errors
    /// [`crate::Error`] (401 for a session that ended).
    pub async fn session(&self, session: &Session) -> Result<SessionInfo> {
        self.session_call(
            Method::GET,
            &["v1", "auth", "session"],
            Body::None,
            Some(session),
        )
        .await
        .map(|(v, _)| v)
    }

    /// `POST /v1/auth/switch`: a new session in another of the user's tenants.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn switch_tenant(&self, session: &Session, tenant: &str) -> Result<Session> {
        let body = Body::json(&SwitchTenant {
            tenant: tenant.into(),
        })?;
        self.started(Method::POST, &["v1", "auth", "switch"], body, Some(session))
            .await
    }

    /// `POST /v1/auth/accept-invitation`: joins and signs in.
    ///
    /// # Errors
    /// [`crate::Error`]: 422 `invalid_token`, 400 for a weak password.
    pub async fn accept_invitation(&self, accept: &AcceptInvitation) -> Result<Session> {
        let body = Body::json(accept)?;
        self.started(
            Method::POST,
            &["v1", "auth", "accept-invitation"],
            body,
            None,
        )
        .await
    }

    /// `POST /v1/auth/reset`: uses a reset link.
    ///
    /// # Errors
    /// [`crate::Error`]: 422 `invalid_token`.
    pub async fn reset_password(&self, reset: &ResetPassword) -> Result<()> {
        let body = Body::json(reset)?;
        self.call(Method::POST, &["v1", "auth", "reset"], &[], body)
            .await
    }

    /// `POST /v1/auth/totp/setup`, proven by the account's `password`: a new
    /// secret, pending until confirmed.
    ///
    /// # Errors
    /// [`crate::Error`]: 409 when TOTP is on already; 422
    /// `invalid_password`.
    pub async fn totp_setup(&self, session: &Session, password: &str) -> Result<TotpSetup> {
        let body = Body::json(&TotpSetupRequest {
            password: password.into(),
        })?;
        let path = ["v1", "auth", "totp", "setup"];
        self.session_call(Method::POST, &path, body, Some(session))
            .await
            .map(|(v, _)| v)
    }

    /// `POST /v1/auth/totp/confirm`: TOTP on; answers the rotated session.
    ///
    /// # Errors
    /// [`crate::Error`]: 422 `totp_invalid`.
    pub async fn totp_confirm(&self, session: &Session, code: &str) -> Result<Session> {
        let body = Body::json(&TotpConfirm { code: code.into() })?;
        let path = ["v1", "auth", "totp", "confirm"];
        self.started(Method::POST, &path, body, Some(session)).await
    }

    /// `DELETE /v1/auth/totp`: TOTP off, with a current code or the password.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn totp_disable(&self, session: &Session, proof: &TotpDisable) -> Result<()> {
        let body = Body::json(proof)?;
        self.session_call(Method::DELETE, &["v1", "auth", "totp"], body, Some(session))
            .await
            .map(|(v, _)| v)
    }

    /// `GET /v1/members`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn members(&self) -> Result<Vec<Member>> {
        let l: List<Member> = self
            .call(Method::GET, &["v1", "members"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `PATCH /v1/members/{user_id}`: a new role (owners).
    ///
    /// # Errors
    /// [`crate::Error`]: 409 for the last owner.
    pub async fn update_member(&self, user_id: &str, patch: &MemberPatch) -> Result<Member> {
        let body = Body::json(patch)?;
        self.call(Method::PATCH, &["v1", "members", user_id], &[], body)
            .await
    }

    /// `DELETE /v1/members/{user_id}`.
    ///
    /// # Errors
    /// [`crate::Error`]: 409 for the last owner.
    pub async fn remove_member(&self, user_id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "members", user_id], &[], Body::None)
            .await
    }

    /// `POST /v1/members/{user_id}/reset`: a reset link (the token once).
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn reset_member(&self, user_id: &str) -> Result<Invitation> {
        let path = ["v1", "members", user_id, "reset"];
        self.call(Method::POST, &path, &[], Body::None).await
    }

    /// `POST /v1/invitations` (the token once).
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn create_invitation(&self, new: &NewInvitation) -> Result<Invitation> {
        let body = Body::json(new)?;
        self.call(Method::POST, &["v1", "invitations"], &[], body)
            .await
    }

    /// `GET /v1/invitations`: the open ones.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn invitations(&self) -> Result<Vec<Invitation>> {
        let l: List<Invitation> = self
            .call(Method::GET, &["v1", "invitations"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `DELETE /v1/invitations/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn delete_invitation(&self, id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "invitations", id], &[], Body::None)
            .await
    }

    /// `POST /v1/ops/users/totp/remove` (operator key): a user's TOTP off.
    ///
    /// # Errors
    /// [`crate::Error`]: 404 for an unknown email.
    pub async fn op_remove_totp(&self, email: &str) -> Result<()> {
        let body = Body::json(&weft_model::ops::UserReset {
            email: email.into(),
        })?;
        let path = ["v1", "ops", "users", "totp", "remove"];
        self.call(Method::POST, &path, &[], body).await
    }
}
