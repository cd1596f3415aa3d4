//! `/v1/credentials`: no answer carries a secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A credential's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Credential {
    /// `cred_…`.
    pub id: String,
    /// What workflows name in `grants.credentials`.
    pub name: String,
    /// Hosts it may be sent to.
    pub hosts: Vec<String>,
    /// How it is injected (an [`Injection`]).
    pub injection: Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<weft_types::CredentialRecord> for Credential {
    fn from(c: weft_types::CredentialRecord) -> Self {
        Self {
            id: c.id,
            name: c.name,
            hosts: c.hosts,
            injection: c.injection,
            created_at: c.created_at,
        }
    }
}

/// `POST /v1/credentials`: a credential to seal and store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// Unique per tenant, 1-100 characters.
    pub name: String,
    /// The secret: sealed at once, never returned.
    pub secret: String,
    /// Host patterns it may be sent to (at least one).
    pub hosts: Vec<String>,
    /// How it is put into requests.
    pub injection: Injection,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("name", &self.name)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

/// How a credential is put into requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Injection {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(username:secret)`.
    Basic {
        /// The user name.
        username: String,
    },
    /// `<name>: <secret>`.
    Header {
        /// The header.
        name: String,
    },
    /// `?<param>=<secret>`.
    Query {
        /// The query parameter.
        param: String,
    },
}
