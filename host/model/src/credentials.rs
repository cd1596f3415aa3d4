//! `/v1/credentials`: no answer carries a secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use weft_types::{Injection, NewCredential};

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
        })
    }
}
