//! `/v1/ops/…`: the operator's routes (tenants, their states and overrides,
//! operator keys, the operator audit log).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use weft_types::{Quotas, TenantLimits, TenantState};

/// A tenant as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tenant {
    /// `ten_…`.
    pub id: String,
    /// For humans.
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// `active`, `suspended` (with `reason`), `deleting` (with
    /// `erase_after`) or `erasing`.
    pub state: TenantState,
    /// The operator's overrides (a key left out takes the deployment's value).
    pub limits: TenantLimits,
    /// The owner key's whole secret: only in the answer to the creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_key: Option<String>,
}

impl From<weft_types::Tenant> for Tenant {
    fn from(t: weft_types::Tenant) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            state: t.state,
            limits: t.limits,
            owner_key: None,
        }
    }
}

/// `POST /v1/ops/tenants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// 1-100 characters.
    pub name: String,
    /// Overrides from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<TenantLimits>,
}

/// `PATCH /v1/ops/tenants/{id}`: what is given is replaced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The whole overrides object (`{}` clears every override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<TenantLimits>,
}

/// `POST /v1/ops/tenants/{id}/suspend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suspend {
    /// Shown to the tenant's callers (1-500 characters).
    pub reason: String,
}

/// An operator key's metadata (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OperatorKey {
    /// `opk_…`.
    pub id: String,
    /// For humans.
    pub name: String,
    /// The key's first characters (`weft_op_…`).
    pub prefix: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; revoked keys are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// The whole key: only in the answer to its creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<weft_types::OperatorKey> for OperatorKey {
    fn from(k: weft_types::OperatorKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            secret: None,
        }
    }
}

/// `POST /v1/ops/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperatorKey {
    /// 1-100 characters.
    pub name: String,
}

/// `POST /v1/ops/tenants/{id}/invitations`: the operator invites someone
/// (by default the tenant's owner).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantInvitation {
    /// The role it grants (default `owner`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<weft_types::Role>,
    /// Only this email may accept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Valid for this long (ms; default 7 days; 1 minute to 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<i64>,
}

/// `POST /v1/ops/users/reset`: a password reset link for any user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserReset {
    /// The user's email.
    pub email: String,
}
