//! Tenants, API keys, workflows with their versions, stored credentials and
//! schedules: the records the store keeps besides runs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;

/// A tenant: everything else belongs to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// `ten_…`.
    pub id: String,
    /// For humans.
    pub name: String,
    /// The tenant's data key, wrapped (encrypted) by the master key; unwrapped
    /// only to encrypt or decrypt its credentials.
    pub wrapped_key: Vec<u8>,
    /// When it was created.
    pub created_at: i64,
    /// Active, suspended or deleting (the operator's).
    #[serde(default)]
    pub state: crate::TenantState,
    /// The operator's overrides of the deployment's limits.
    #[serde(default)]
    pub limits: crate::TenantLimits,
}

/// What an API key may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read only.
    Viewer,
    /// Run workflows and read.
    Member,
    /// Everything in the tenant but keys.
    Admin,
    /// Everything in the tenant.
    Owner,
}

impl Role {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Viewer, Self::Member, Self::Admin, Self::Owner]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`"))
    }
}

/// An API key as stored: never the secret, only its prefix and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// `key_…`.
    pub id: String,
    /// The owner.
    pub tenant_id: String,
    /// The public first part of the key (`weft_…`), unique, used to find it.
    pub prefix: String,
    /// SHA-256 of the whole key.
    pub hash: Vec<u8>,
    /// What it may do.
    pub role: Role,
    /// For humans.
    pub name: String,
    /// When it was created.
    pub created_at: i64,
    /// When it was revoked; a revoked key is refused.
    pub revoked_at: Option<i64>,
    /// Narrower than the role (`docs/TENANCY.md`, section 4); `None`: the
    /// whole role.
    pub scopes: Option<Vec<crate::scope::Scope>>,
    /// From then on the key is refused; `None`: it does not expire.
    pub expires_at: Option<i64>,
    /// When it last authenticated a call (written at most once a minute).
    pub last_used_at: Option<i64>,
}

/// A workflow: a name, a current version, and how it is triggered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// The owner.
    pub tenant_id: String,
    /// `wf_…`.
    pub id: String,
    /// The current version's name.
    pub name: String,
    /// The version new runs use.
    pub version: u32,
    /// Whether webhooks and schedules start runs.
    pub active: bool,
    /// The secret part of the webhook URL (`/hooks/<token>`).
    pub webhook_token: String,
    /// When it was created.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// One immutable version of a workflow's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowVersion {
    /// The owner.
    pub tenant_id: String,
    /// The workflow.
    pub workflow_id: String,
    /// From 1.
    pub version: u32,
    /// The validated definition, as JSON.
    pub definition: Value,
    /// When it was created.
    pub created_at: i64,
}

/// A stored credential: metadata in clear, the secret sealed with the tenant's
/// key under associated data that binds the metadata (name, hosts, injection):
/// a row changed outside Weft does not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// The owner.
    pub tenant_id: String,
    /// `cred_…`.
    pub id: String,
    /// Unique per tenant; what workflows name in `grants.credentials`.
    pub name: String,
    /// How it is injected (JSON of the sandbox's injection), no secret.
    pub injection: Value,
    /// Host patterns the credential is bound to.
    pub hosts: Vec<String>,
    /// AEAD nonce.
    pub nonce: Vec<u8>,
    /// AEAD ciphertext of the secret (associated data: see `ad_version`).
    pub ciphertext: Vec<u8>,
    /// What the associated data binds: 1, tenant and credential id (re-sealed
    /// at start); 2, also name, hosts and injection (`weft_vault::Binding`).
    pub ad_version: u32,
    /// When it was created.
    pub created_at: i64,
}

/// How a credential is put into requests (stored next to it, never secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Injection {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<username>:<secret>)`.
    Basic {
        /// The user name.
        username: String,
    },
    /// `<name>: <secret>`.
    Header {
        /// The header name.
        name: String,
    },
    /// `?<param>=<secret>` appended to the URL.
    Query {
        /// The query parameter.
        param: String,
    },
    /// The secret, percent-encoded, in place of `placeholder` in the URL's
    /// path, which must contain it exactly once: for APIs that put the token in
    /// the path (Telegram's `/bot<token>/sendMessage`; the plugin requests
    /// `/bot<placeholder>/sendMessage`). Only on the credential's hosts, like
    /// every injection; a redirect to a path without the placeholder fails.
    Path {
        /// What the plugin writes where the secret goes: 1-64 ASCII letters,
        /// digits, `-` or `_`.
        placeholder: String,
    },
    /// AWS Signature Version 4 (S3 and S3-compatible services, other AWS
    /// APIs): the host signs each request to the credential's hosts
    /// (`Authorization: AWS4-HMAC-SHA256 ...`, `x-amz-date`,
    /// `x-amz-content-sha256`). The stored secret is the secret access key;
    /// the access key id is an identifier that every signed request carries
    /// in clear, so it is kept here with the region and the service.
    #[serde(rename = "aws_sigv4")]
    AwsSigv4 {
        /// The access key id (`AKIA...`, or the S3-compatible service's).
        access_key_id: String,
        /// The region signed for (`us-east-1`; `auto` for Cloudflare R2).
        region: String,
        /// The service signed for: `s3` (the default).
        #[serde(default = "s3")]
        service: String,
    },
    /// OAuth2: `Authorization: Bearer <access token>`, the token obtained
    /// and refreshed by the host (`docs/SECURITY.md`, OAuth2). The stored
    /// secret is the client secret; the tokens are sealed next to it.
    #[serde(rename = "oauth2")]
    OAuth2(OAuth2),
    /// A login to the tenant's own RabbitMQ, for `triggers.queue` only (never
    /// injected into a plugin's requests): `url` is the broker's
    /// `amqp://` or `amqps://` URL with the user name and without the
    /// password (`amqps://user@broker.example:5671/vhost`); the secret is the
    /// password.
    Amqp {
        /// The broker's URL without a password.
        url: String,
    },
}

fn s3() -> String {
    "s3".into()
}

/// What is wrong with an `aws_sigv4` injection's settings, if anything: an
/// access key id of 1-128 printable ASCII characters without `/` or `,` (it
/// goes into the `Credential=` of the `Authorization` header), a region and
/// a service of 1-64 lowercase letters, digits or `-`.
pub fn aws_sigv4_problem(access_key_id: &str, region: &str, service: &str) -> Option<String> {
    let id_ok = (1..=128).contains(&access_key_id.len())
        && access_key_id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b',');
    if !id_ok {
        return Some(
            "access_key_id must be 1-128 printable ASCII characters without `/` or `,`".into(),
        );
    }
    for (what, v) in [("region", region), ("service", service)] {
        let ok = (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Some(format!(
                "{what} `{v}` must be 1-64 lowercase letters, digits or `-`"
            ));
        }
    }
    None
}

impl Injection {
    /// The OAuth2 settings when this is an OAuth2 credential.
    pub fn oauth2(&self) -> Option<&OAuth2> {
        match self {
            Self::OAuth2(o) => Some(o),
            _ => None,
        }
    }
}

/// An OAuth2 credential's settings (no secret: the client secret and the
/// tokens are sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// How tokens are obtained.
    pub grant: OAuth2Grant,
    /// Where the user is sent to consent (`authorization_code` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    /// Where codes and refresh tokens are exchanged for access tokens.
    pub token_url: String,
    /// The client id the provider issued.
    pub client_id: String,
    /// The scopes asked for (joined with spaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// How the client authenticates at the token URL (default `basic`).
    #[serde(default, skip_serializing_if = "OAuth2ClientAuth::is_basic")]
    pub client_auth: OAuth2ClientAuth,
}

/// An OAuth2 grant Weft runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuth2Grant {
    /// A user consents in the browser; PKCE (S256) always.
    AuthorizationCode,
    /// The client itself, no user.
    ClientCredentials,
}

/// How the client id and secret reach the token URL (RFC 6749, 2.3.1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OAuth2ClientAuth {
    /// `Authorization: Basic` (the default).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

impl OAuth2ClientAuth {
    fn is_basic(&self) -> bool {
        *self == Self::Basic
    }
}

/// A credential to seal and store (`POST /v1/credentials`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// Unique per tenant, 1-100 characters; what workflows name in `grants.credentials`.
    pub name: String,
    /// The secret: sealed at once, never stored in clear, never returned.
    /// For an OAuth2 credential, the client secret (may be empty for a
    /// public client of the authorization-code grant).
    #[serde(default)]
    pub secret: String,
    /// Host patterns it may be sent to (at least one).
    pub hosts: Vec<crate::HostPattern>,
    /// How it is put into requests.
    pub injection: Injection,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("name", &self.name)
            .field("hosts", &self.hosts)
            .field("injection", &self.injection)
            .finish_non_exhaustive()
    }
}

/// What a schedule does with ticks it missed while the server was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Drop them; fire at the next tick.
    #[default]
    Skip,
    /// Fire once for all of them, then go on.
    Once,
}

/// An active workflow's cron schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The owner.
    pub tenant_id: String,
    /// The workflow.
    pub workflow_id: String,
    /// Cron expression (with seconds optional).
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub timezone: String,
    /// Missed-tick policy.
    pub missed: Missed,
    /// Next tick.
    pub next_fire_at: i64,
}
