//! Credentials: stored sealed (the worker seals them next to where it unseals
//! them for a step), listed as metadata, deleted. No use case returns a secret.

use crate::{Actor, App, Result};

/// Who the audit log names for what the OAuth2 callback did: it carries no
/// API key (the provider redirects the user's browser to it).
pub const CALLBACK_ACTOR: &str = "oauth-callback";
use weft_types::{CredentialRecord, Injection, OAuth2Grant, Role};

/// An OAuth2 credential's status as the tenant sees it (both unset for other
/// credentials).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthStatus {
    /// Why the provider refused its refresh token: it must be authorized
    /// again.
    pub needs_reauthorization: Option<String>,
    /// An authorization-code credential nobody has authorized yet.
    pub awaiting_authorization: bool,
}

pub use weft_worker::NewCredential;
pub use weft_worker::oauth::{AuthorizeUrl, Authorized};

impl App {
    /// Seals and stores a credential (admin and above).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] (empty name or secret, no hosts),
    /// [`crate::Error::Conflict`] (name taken), [`crate::Error::Forbidden`].
    pub async fn create_credential(
        &self,
        actor: &Actor,
        new: NewCredential,
    ) -> Result<CredentialRecord> {
        actor.require(Role::Admin)?;
        let c = self.handle.create_credential(&actor.tenant_id, new).await?;
        self.audit(actor, "credential.create", &c.id).await?;
        Ok(c)
    }

    /// The tenant's credentials: names and metadata only, each with its
    /// OAuth2 status.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`]; store failures.
    pub async fn list_credentials(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(CredentialRecord, OAuthStatus)>> {
        actor.require(Role::Viewer)?;
        let states = self.store().oauth_states(&actor.tenant_id).await?;
        Ok(self
            .store()
            .list_credentials(&actor.tenant_id)
            .await?
            .into_iter()
            .map(|c| {
                let state = states.iter().find(|s| s.credential_id == c.id);
                // An authorization-code credential gets its row when the
                // callback seals its first tokens (or a refresh, which needs
                // them): without one, nobody has authorized it yet.
                let code_grant = matches!(
                    serde_json::from_value::<Injection>(c.injection.clone()),
                    Ok(Injection::OAuth2(o)) if o.grant == OAuth2Grant::AuthorizationCode
                );
                let status = OAuthStatus {
                    needs_reauthorization: state.and_then(|s| s.reauthorize.clone()),
                    awaiting_authorization: code_grant && state.is_none(),
                };
                (c, status)
            })
            .collect())
    }

    /// Starts authorizing OAuth2 credential `id` (admin and above): the URL
    /// to send the user to. `redirect_uri` is this deployment's
    /// `/oauth/callback`.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`], [`crate::Error::Conflict`] (not an OAuth2
    /// credential of the authorization-code grant), [`crate::Error::Forbidden`].
    pub async fn authorize_credential(
        &self,
        actor: &Actor,
        id: &str,
        redirect_uri: &str,
    ) -> Result<AuthorizeUrl> {
        actor.require(Role::Admin)?;
        let url = self
            .handle
            .oauth_authorize(&actor.tenant_id, id, redirect_uri)
            .await?;
        self.audit(actor, "credential.authorize", id).await?;
        Ok(url)
    }

    /// The provider's answer at `/oauth/callback` (no API key: the single-use
    /// `state` names the tenant and credential): exchanges the code and seals
    /// the tokens. Audited as `credential.authorized` by [`CALLBACK_ACTOR`].
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] (unknown, used or expired state),
    /// [`crate::Error::Conflict`] (the provider refused the code, or its token
    /// URL failed), [`crate::Error::NotFound`].
    pub async fn oauth_callback(&self, state: &str, code: &str) -> Result<Authorized> {
        let a = self.handle.oauth_callback(state, code).await?;
        let actor = Actor::local(&a.tenant_id, CALLBACK_ACTOR);
        self.audit(&actor, "credential.authorized", &a.credential_id)
            .await?;
        Ok(a)
    }

    /// The provider's refusal at `/oauth/callback`: the pending authorization
    /// is spent (single use), audited as `credential.authorization_declined`
    /// when it was one; nothing else changes.
    ///
    /// # Errors
    /// Store failures.
    pub async fn oauth_callback_declined(&self, state: &str) -> Result<()> {
        let pending = self
            .store()
            .take_oauth_pending(state, weft_worker::now_ms())
            .await?;
        if let Some(p) = pending {
            let actor = Actor::local(&p.tenant_id, CALLBACK_ACTOR);
            self.audit(
                &actor,
                "credential.authorization_declined",
                &p.credential_id,
            )
            .await?;
        }
        Ok(())
    }

    /// Deletes a credential (admin and above).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`], [`crate::Error::Forbidden`].
    pub async fn delete_credential(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store().delete_credential(&actor.tenant_id, id).await?;
        self.audit(actor, "credential.delete", id).await
    }
}
