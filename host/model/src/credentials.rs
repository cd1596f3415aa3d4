//! `/v1/credentials`: no answer carries a secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use weft_types::{Injection, NewCredential, OAuth2, OAuth2ClientAuth, OAuth2Grant};

/// A credential's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Credential {
    /// `cred_…`.
    pub id: String,
    /// What workflows name in `grants.credentials`.
    pub name: String,
    /// Hosts it may be sent to.
    pub hosts: Vec<String>,
    /// How it is put into requests.
    pub injection: Injection,
    /// Unix milliseconds.
    pub created_at: i64,
    /// OAuth2 only: set when the provider refused the refresh token (revoked
    /// or expired), saying why; steps that need the credential fail `auth`
    /// until it is authorized again (`POST /v1/credentials/{id}/authorize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_reauthorization: Option<String>,
    /// OAuth2 authorization code only: `true` until a user has authorized it
    /// once (`POST /v1/credentials/{id}/authorize`); steps that need it fail
    /// `auth` meanwhile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_authorization: bool,
}

/// Where to send the user to authorize an OAuth2 credential
/// (`POST /v1/credentials/{id}/authorize`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CredentialAuthorization {
    /// The provider's authorize URL with this request's `state` and PKCE
    /// challenge: open it in a browser and consent; the provider sends the
    /// browser back to this deployment's `/oauth/callback`.
    pub url: String,
    /// Until when (Unix ms) the callback accepts the answer (single use).
    pub expires_at: i64,
}

/// What the provider sends back to `GET /oauth/callback` (other parameters
/// are ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OAuthCallbackQuery {
    /// The `state` of the authorization request.
    #[serde(default)]
    pub state: Option<String>,
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// Set when the user or the provider declined.
    #[serde(default)]
    pub error: Option<String>,
    /// The provider's explanation of `error`.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl crate::Query for OAuthCallbackQuery {
    const PARAMS: &'static [&'static str] = &["state", "code", "error", "error_description"];
}

impl TryFrom<weft_types::CredentialRecord> for Credential {
    type Error = String;

    /// The record's metadata; fails only when its stored injection is not one
    /// (records are only ever written from an [`Injection`]).
    fn try_from(c: weft_types::CredentialRecord) -> Result<Self, String> {
        let injection = serde_json::from_value(c.injection).map_err(|e| {
            format!(
                "credential {}: the stored injection is unreadable: {e}",
                c.id
            )
        })?;
        Ok(Self {
            id: c.id,
            name: c.name,
            hosts: c.hosts,
            injection,
            created_at: c.created_at,
            needs_reauthorization: None,
            awaiting_authorization: false,
        })
    }
}
