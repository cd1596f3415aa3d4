//! OAuth2 credentials (`docs/SECURITY.md`, OAuth2): the code flow with PKCE
//! (S256), client credentials, and the refresh every worker shares.
//!
//! The credential's sealed secret is [`Tokens`]: the client secret, and once
//! obtained the access token, the refresh token and the expiry. Every change
//! re-seals the whole value and writes it with a compare-and-set on the row's
//! nonce, so a token is never stored in clear and a row changed meanwhile is
//! never overwritten.
//!
//! One refresh at a time per credential across all workers: the worker that
//! needs a token takes the store's refresh lease (`OAuthStore`), reads the
//! row again (another may have refreshed it a moment ago), asks the token
//! URL, writes the new tokens (a rotated refresh token included) and only
//! then gives the lease back. A worker that finds the lease taken waits and
//! reads the row again: it uses the token the holder got, without a request
//! of its own. A refresh token the provider refuses (`invalid_grant`) marks
//! the credential as needing authorization again: shown in
//! `GET /v1/credentials`, and every step that needs it fails `auth` naming
//! `weft credentials authorize`.

use crate::{Error, Handle, Result, new_id, new_token, now_ms};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;
use weft_sandbox::egress::Outbound;
use weft_sandbox::{Refresh, Secret};
use weft_store::oauth::OAuthPending;
use weft_types::{CredentialRecord, Injection, OAuth2, OAuth2ClientAuth, OAuth2Grant};
use weft_vault::Zeroizing;

/// A token is refreshed when it expires within this.
pub const REFRESH_SKEW_MS: i64 = 60_000;
/// How long a pending authorization (its state and verifier) lives.
pub const PENDING_MS: i64 = 10 * 60_000;
/// How long one refresh may hold the lease (a holder that dies frees it then).
const LEASE_MS: i64 = 30_000;
/// How long a worker waits for another's refresh before giving up.
const WAIT_MS: i64 = 35_000;
/// A token request's timeout.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest token answer read.
const TOKEN_BODY: usize = 64 * 1024;

/// What an OAuth2 credential seals.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Tokens {
    /// The client secret (empty for a public client).
    client_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Unix ms; `None`: the provider gave no lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

impl Tokens {
    pub(crate) fn new(client_secret: String) -> Self {
        Self {
            client_secret,
            access_token: None,
            refresh_token: None,
            expires_at: None,
        }
    }

    pub(crate) fn parse(plain: &[u8], name: &str) -> Result<Self> {
        serde_json::from_slice(plain).map_err(|e| {
            Error::Vault(format!(
                "credential `{name}`: the sealed OAuth2 tokens are unreadable: {e}"
            ))
        })
    }

    pub(crate) fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        serde_json::to_vec(self)
            .map(Zeroizing::new)
            .map_err(|e| Error::Vault(e.to_string()))
    }

    /// The access token if it is not about to expire and is not `refused`.
    fn usable(&self, now: i64, refused: Option<&str>) -> Option<&str> {
        let t = self.access_token.as_deref()?;
        let fresh = self.expires_at.is_none_or(|e| e - REFRESH_SKEW_MS > now);
        (fresh && Some(t) != refused).then_some(t)
    }
}

impl Drop for Tokens {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.client_secret.zeroize();
        if let Some(t) = &mut self.access_token {
            t.zeroize();
        }
        if let Some(t) = &mut self.refresh_token {
            t.zeroize();
        }
    }
}

/// Checks an OAuth2 credential's settings when it is created.
///
/// # Errors
/// `Invalid`, naming the field.
pub(crate) fn check_settings(o: &OAuth2, secret: &str, allow_private: bool) -> Result<()> {
    let url = |field: &str, raw: &str| {
        crate::notifications::check_url(raw, allow_private)
            .map_err(|e| Error::Invalid(format!("/injection/{field}: {e}")))
    };
    url("token_url", &o.token_url)?;
    if o.client_id.is_empty() || o.client_id.len() > 1024 {
        return Err(Error::Invalid(
            "/injection/client_id: must be 1-1024 characters".into(),
        ));
    }
    if secret.len() > 16 * 1024 {
        return Err(Error::Invalid(
            "/secret: the client secret is over 16 KiB".into(),
        ));
    }
    match o.grant {
        OAuth2Grant::AuthorizationCode => match &o.authorize_url {
            Some(a) => {
                url("authorize_url", a)?;
            }
            None => {
                return Err(Error::Invalid(
                    "/injection/authorize_url: the authorization_code grant needs the provider's authorize URL".into(),
                ));
            }
        },
        OAuth2Grant::ClientCredentials => {
            if secret.is_empty() {
                return Err(Error::Invalid(
                    "/secret: the client_credentials grant needs the client secret".into(),
                ));
            }
        }
    }
    Ok(())
}

/// A token URL's answer.
#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// Why a token request failed.
enum TokenError {
    /// The provider refused the grant (`invalid_grant`, ...): its code and
    /// description. Not retried.
    Refused(String),
    /// Anything else (unreachable, 5xx, an unreadable answer): retryable.
    Failed(String),
}

/// The callback's outcome, for the page it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// The tenant.
    pub tenant_id: String,
    /// The credential's id.
    pub credential_id: String,
    /// The credential's name.
    pub name: String,
}

/// Where to send the user (`POST /v1/credentials/{id}/authorize`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeUrl {
    /// The provider's authorize URL with the request's parameters.
    pub url: String,
    /// Until when (Unix ms) the callback accepts the answer.
    pub expires_at: i64,
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn oauth2_of(record: &CredentialRecord) -> Result<OAuth2> {
    serde_json::from_value::<Injection>(record.injection.clone())
        .ok()
        .and_then(|i| i.oauth2().cloned())
        .ok_or_else(|| {
            Error::Conflict(format!(
                "credential `{}` is not an OAuth2 credential",
                record.name
            ))
        })
}

impl Handle {
    /// Starts the code flow for credential `id`: a pending authorization
    /// (state, PKCE verifier) stored for [`PENDING_MS`], and the URL to send
    /// the user to. `redirect_uri` is this deployment's callback.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` (not OAuth2, or the client-credentials grant);
    /// store failures.
    pub async fn oauth_authorize(
        &self,
        tenant: &str,
        id: &str,
        redirect_uri: &str,
    ) -> Result<AuthorizeUrl> {
        let record = self
            .store()
            .list_credentials(tenant)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(Error::NotFound("credential"))?;
        let o = oauth2_of(&record)?;
        let Some(authorize) = o
            .authorize_url
            .as_deref()
            .filter(|_| o.grant == OAuth2Grant::AuthorizationCode)
        else {
            return Err(Error::Conflict(format!(
                "credential `{}` uses the client_credentials grant: there is nothing for a user to authorize (its token is fetched when a step needs it)",
                record.name
            )));
        };
        let mut url = Url::parse(authorize)
            .map_err(|e| Error::Invalid(format!("/injection/authorize_url: {e}")))?;
        let state = new_token();
        let verifier = new_token();
        let expires_at = now_ms() + PENDING_MS;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &o.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("state", &state)
                .append_pair("code_challenge", &s256(&verifier))
                .append_pair("code_challenge_method", "S256");
            if !o.scopes.is_empty() {
                q.append_pair("scope", &o.scopes.join(" "));
            }
        }
        self.store()
            .put_oauth_pending(&OAuthPending {
                state,
                tenant_id: tenant.to_owned(),
                credential_id: record.id,
                verifier,
                redirect_uri: redirect_uri.to_owned(),
                expires_at,
            })
            .await?;
        Ok(AuthorizeUrl {
            url: url.into(),
            expires_at,
        })
    }

    /// Finishes the code flow: takes the pending authorization `state`
    /// (single use), exchanges `code` with its verifier, seals the tokens and
    /// clears a re-authorization mark.
    ///
    /// # Errors
    /// `Invalid` (unknown, used or expired state), `NotFound` (the
    /// credential was deleted), `Auth` (the provider refused the code),
    /// `Conflict` (the token URL failed or the row changed meanwhile).
    pub async fn oauth_callback(&self, state: &str, code: &str) -> Result<Authorized> {
        let pending = self
            .store()
            .take_oauth_pending(state, now_ms())
            .await?
            .ok_or_else(|| {
                Error::Invalid(
                    "this authorization link is unknown, was already used, or expired (they last 10 minutes): start again with `weft credentials authorize`".into(),
                )
            })?;
        let record = self
            .store()
            .list_credentials(&pending.tenant_id)
            .await?
            .into_iter()
            .find(|c| c.id == pending.credential_id)
            .ok_or(Error::NotFound("credential"))?;
        let (plain, _) = self.open_credential(&record).await?;
        let o = oauth2_of(&record)?;
        let mut tokens = Tokens::parse(&plain, &record.name)?;
        let answer = self
            .token_request(
                &o,
                &tokens.client_secret,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", &pending.redirect_uri),
                    ("code_verifier", &pending.verifier),
                ],
            )
            .await
            .map_err(|e| match e {
                TokenError::Refused(why) => Error::Auth(format!(
                    "the provider refused the authorization code: {why}"
                )),
                TokenError::Failed(why) => {
                    Error::Conflict(format!("the token request failed: {why}"))
                }
            })?;
        apply(&mut tokens, answer, now_ms());
        let new = self.seal_credential(&record, &tokens.to_bytes()?).await?;
        if !self.store().reseal_credential(&new, &record.nonce).await? {
            return Err(Error::Conflict(format!(
                "credential `{}` changed meanwhile; authorize again",
                record.name
            )));
        }
        self.store()
            .set_oauth_reauthorize(&record.tenant_id, &record.id, None, now_ms())
            .await?;
        tracing::info!(tenant.id = %record.tenant_id, credential.id = %record.id, "OAuth2 credential authorized");
        Ok(Authorized {
            tenant_id: record.tenant_id,
            credential_id: record.id,
            name: record.name,
        })
    }

    /// A usable access token for an OAuth2 credential: the sealed one while
    /// it is not about to expire (and is not `refused`, the one a server
    /// just answered 401 to), else a new one, one refresh at a time across
    /// every worker.
    ///
    /// # Errors
    /// `Auth` (never authorized, or needs authorization again), `Conflict`
    /// (the token URL failed, or another worker's refresh did not finish in
    /// time), store or vault failures.
    pub(crate) async fn oauth_token(
        &self,
        record: &CredentialRecord,
        o: &OAuth2,
        tokens: Tokens,
        refused: Option<&str>,
    ) -> Result<String> {
        if let Some(t) = tokens.usable(now_ms(), refused) {
            return Ok(t.to_owned());
        }
        let (tenant, id, name) = (&record.tenant_id, &record.id, &record.name);
        // Never authorized: nothing to refresh, and no lease taken (the
        // credential has no OAuth2 row until its first tokens, which is how
        // its listing says it awaits authorization).
        if o.grant == OAuth2Grant::AuthorizationCode
            && tokens.access_token.is_none()
            && tokens.refresh_token.is_none()
        {
            return Err(not_authorized(name));
        }
        let holder = new_id("lease");
        let give_up = now_ms() + WAIT_MS;
        let mut waited = Duration::from_millis(20);
        loop {
            if let Some(why) = self
                .store()
                .oauth_states(tenant)
                .await?
                .into_iter()
                .find(|s| &s.credential_id == id)
                .and_then(|s| s.reauthorize)
            {
                return Err(needs_authorization(name, &why));
            }
            let now = now_ms();
            if self
                .store()
                .lease_oauth_refresh(tenant, id, &holder, now, now + LEASE_MS)
                .await?
            {
                let out = self.refresh_leased(tenant, name, o, refused).await;
                if let Err(e) = self
                    .store()
                    .release_oauth_refresh(tenant, id, &holder)
                    .await
                {
                    tracing::warn!(credential.id = %id, error = %e, "OAuth2 refresh lease not released; it lapses");
                }
                return out;
            }
            // Another worker is refreshing: wait, then read what it wrote.
            if now > give_up {
                return Err(Error::Conflict(format!(
                    "credential `{name}`: another worker's token refresh did not finish in time"
                )));
            }
            tokio::time::sleep(waited).await;
            waited = (waited * 2).min(Duration::from_millis(250));
            let current = self
                .store()
                .credential_by_name(tenant, name)
                .await?
                .ok_or(Error::NotFound("credential"))?;
            let (plain, _) = self.open_credential(&current).await?;
            if let Some(t) = Tokens::parse(&plain, name)?.usable(now_ms(), refused) {
                return Ok(t.to_owned());
            }
        }
    }

    /// The refresh itself, under the lease: reads the row again (a refresh
    /// that finished just before the lease was taken is used as it is), asks
    /// the token URL, and writes the new tokens before the lease is given
    /// back.
    async fn refresh_leased(
        &self,
        tenant: &str,
        name: &str,
        o: &OAuth2,
        refused: Option<&str>,
    ) -> Result<String> {
        let record = self
            .store()
            .credential_by_name(tenant, name)
            .await?
            .ok_or(Error::NotFound("credential"))?;
        let (plain, _) = self.open_credential(&record).await?;
        let mut tokens = Tokens::parse(&plain, name)?;
        if let Some(t) = tokens.usable(now_ms(), refused) {
            return Ok(t.to_owned());
        }
        let secret = tokens.client_secret.clone();
        let refresh = tokens.refresh_token.clone();
        let form: Vec<(&str, &str)> = match (o.grant, refresh.as_deref()) {
            (_, Some(r)) => vec![("grant_type", "refresh_token"), ("refresh_token", r)],
            (OAuth2Grant::ClientCredentials, None) => vec![("grant_type", "client_credentials")],
            (OAuth2Grant::AuthorizationCode, None) => return Err(not_authorized(name)),
        };
        let mut form = form;
        let scopes = o.scopes.join(" ");
        if o.grant == OAuth2Grant::ClientCredentials && !scopes.is_empty() {
            form.push(("scope", &scopes));
        }
        match self.token_request(o, &secret, &form).await {
            Ok(answer) => {
                apply(&mut tokens, answer, now_ms());
                let new = self.seal_credential(&record, &tokens.to_bytes()?).await?;
                if !self.store().reseal_credential(&new, &record.nonce).await? {
                    return Err(Error::Conflict(format!(
                        "credential `{name}` changed during its token refresh"
                    )));
                }
                tracing::info!(tenant.id = %tenant, credential.name = %name, "OAuth2 token refreshed");
                tokens
                    .access_token
                    .clone()
                    .ok_or_else(|| Error::Conflict("no access token".into()))
            }
            Err(TokenError::Refused(why)) if refresh.is_some() => {
                self.store()
                    .set_oauth_reauthorize(tenant, &record.id, Some(&why), now_ms())
                    .await?;
                tracing::warn!(tenant.id = %tenant, credential.name = %name, error = %why, "OAuth2 refresh token refused: the credential needs authorization again");
                Err(needs_authorization(name, &why))
            }
            Err(TokenError::Refused(why)) => Err(Error::Auth(format!(
                "credential `{name}`: the provider refused the client credentials: {why}"
            ))),
            Err(TokenError::Failed(why)) => Err(Error::Conflict(format!(
                "credential `{name}`: the token request failed: {why}"
            ))),
        }
    }

    /// POSTs `form` to the token URL with the client's authentication,
    /// through the egress policy and transport every outbound request uses.
    async fn token_request(
        &self,
        o: &OAuth2,
        client_secret: &str,
        form: &[(&str, &str)],
    ) -> std::result::Result<Answer, TokenError> {
        let egress = self.sandbox().egress();
        let url = crate::notifications::check_url(&o.token_url, egress.allow_private)
            .map_err(|e| TokenError::Failed(format!("token URL: {e}")))?;
        let body = {
            let mut body = url::form_urlencoded::Serializer::new(String::new());
            body.extend_pairs(form.iter().copied());
            if o.client_auth == OAuth2ClientAuth::Post {
                body.append_pair("client_id", &o.client_id);
                if !client_secret.is_empty() {
                    body.append_pair("client_secret", client_secret);
                }
            }
            body.finish()
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        match o.client_auth {
            OAuth2ClientAuth::Basic => {
                // RFC 6749, 2.3.1: each part form-encoded first.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let basic = B64.encode(format!("{}:{}", enc(&o.client_id), enc(client_secret)));
                let mut v =
                    http::HeaderValue::from_str(&format!("Basic {basic}")).map_err(|_| {
                        TokenError::Failed("the client id cannot be sent in a header".into())
                    })?;
                v.set_sensitive(true);
                headers.insert(http::header::AUTHORIZATION, v);
            }
            OAuth2ClientAuth::Post => {}
        }
        let req = Outbound {
            method: http::Method::POST,
            url,
            headers,
            body: Some(body.into_bytes()),
            timeout: TOKEN_TIMEOUT,
            max_body: TOKEN_BODY,
            decode: true,
        };
        let resp = egress
            .transport
            .send(req)
            .await
            .map_err(|e| TokenError::Failed(e.to_string()))?;
        if (200..300).contains(&resp.status) {
            return serde_json::from_slice::<Answer>(&resp.body).map_err(|e| {
                TokenError::Failed(format!(
                    "the token answer is not an OAuth2 token response: {e}"
                ))
            });
        }
        #[derive(Deserialize)]
        struct Refusal {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        match serde_json::from_slice::<Refusal>(&resp.body) {
            Ok(r) if resp.status < 500 => Err(TokenError::Refused(match r.error_description {
                Some(d) => format!("{} ({d})", r.error),
                None => r.error,
            })),
            _ => Err(TokenError::Failed(format!(
                "the token URL answered HTTP {}",
                resp.status
            ))),
        }
    }

    /// A current access token of OAuth2 credential `name` (refreshed as a
    /// step's unseal would). For the distributed tests and tools that
    /// check a deployment; no route answers it.
    ///
    /// # Errors
    /// As a step's unseal: `NotFound`, `Tampered`, `Auth`, `Conflict`.
    #[doc(hidden)]
    pub async fn oauth_access_token(&self, tenant: &str, name: &str) -> Result<String> {
        Ok(self
            .unseal(tenant, "oauth2", name)
            .await?
            .secret
            .expose()
            .to_owned())
    }

    /// The hook the sandbox calls on a 401 to an OAuth2-injected request.
    pub(crate) fn refresher(&self, tenant: &str, names: Vec<(String, String)>) -> Arc<dyn Refresh> {
        Arc::new(Refresher {
            handle: self.clone(),
            tenant: tenant.to_owned(),
            names,
            renewed: Mutex::new(HashSet::new()),
        })
    }
}

fn not_authorized(name: &str) -> Error {
    Error::Auth(format!(
        "credential `{name}` is not authorized yet: run `weft credentials authorize {name}` (or the console's Authorize button) and consent at the provider"
    ))
}

fn needs_authorization(name: &str, why: &str) -> Error {
    Error::Auth(format!(
        "credential `{name}` needs authorization again: the provider refused its refresh token ({why}); run `weft credentials authorize {name}` and consent at the provider"
    ))
}

/// The token answer into the sealed tokens: a refresh token the provider
/// rotated replaces the old one; one it did not send keeps the old one.
fn apply(tokens: &mut Tokens, a: Answer, now: i64) {
    tokens.access_token = Some(a.access_token.clone());
    if let Some(r) = &a.refresh_token {
        tokens.refresh_token = Some(r.clone());
    }
    tokens.expires_at = a
        .expires_in
        .map(|s| now.saturating_add(s.saturating_mul(1_000)));
}

/// Renews a step's OAuth2 tokens on a 401, once per slot per step.
struct Refresher {
    handle: Handle,
    tenant: String,
    /// (slot, credential name).
    names: Vec<(String, String)>,
    renewed: Mutex<HashSet<String>>,
}

#[async_trait::async_trait]
impl Refresh for Refresher {
    async fn refresh(&self, slot: &str, refused: &Secret) -> std::result::Result<Secret, String> {
        let first = self
            .renewed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(slot.to_owned());
        if !first {
            return Err(format!(
                "slot `{slot}`: its token was already renewed in this step"
            ));
        }
        let Some((_, name)) = self.names.iter().find(|(s, _)| s == slot) else {
            return Err(format!("slot `{slot}` holds no OAuth2 credential"));
        };
        let h = &self.handle;
        let record = h
            .store()
            .credential_by_name(&self.tenant, name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("credential `{name}` does not exist"))?;
        let (plain, injection) = h
            .open_credential(&record)
            .await
            .map_err(|e| e.to_string())?;
        let o = injection
            .oauth2()
            .cloned()
            .ok_or_else(|| format!("credential `{name}` is not OAuth2"))?;
        let tokens = Tokens::parse(&plain, name).map_err(|e| e.to_string())?;
        h.oauth_token(&record, &o, tokens, Some(refused.expose()))
            .await
            .map(Secret::new)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_unpadded_base64url_of_sha256() {
        // Computed apart from this code (Python's hashlib and base64).
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gXk6jWGtM"),
            "CeVSbre9qfxQRxih1W2Wdw4EFZgV-myFkVo1lBhq4-0"
        );
    }

    #[test]
    fn a_token_near_expiry_or_refused_is_not_usable() {
        let mut t = Tokens::new("s".into());
        assert_eq!(t.usable(0, None), None);
        t.access_token = Some("a".into());
        t.expires_at = Some(100_000);
        assert_eq!(t.usable(0, None), Some("a"));
        assert_eq!(t.usable(100_000 - REFRESH_SKEW_MS, None), None);
        assert_eq!(t.usable(0, Some("a")), None);
        t.expires_at = None;
        assert_eq!(t.usable(i64::MAX, None), Some("a"));
    }

    #[test]
    fn a_rotated_refresh_token_replaces_the_old_one_and_a_missing_one_keeps_it() {
        let mut t = Tokens::new("s".into());
        t.refresh_token = Some("r1".into());
        let a = |r: Option<&str>| Answer {
            access_token: "a".into(),
            refresh_token: r.map(str::to_owned),
            expires_in: Some(3600),
        };
        apply(&mut t, a(Some("r2")), 0);
        assert_eq!(t.refresh_token.as_deref(), Some("r2"));
        assert_eq!(t.expires_at, Some(3_600_000));
        apply(&mut t, a(None), 0);
        assert_eq!(t.refresh_token.as_deref(), Some("r2"));
    }
}
