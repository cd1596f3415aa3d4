//! People and sessions: `/v1/auth/…`, `/v1/members`, `/v1/invitations`
//! (`docs/TENANCY.md`, section 3).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::Role;

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The account's email.
    pub email: String,
    /// Its password.
    pub password: String,
    /// The current code of the account's authenticator app, when it has
    /// TOTP on (without it: 401 `totp_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
    /// The tenant to act in (default: the user's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// A user's membership in a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Membership {
    /// The tenant.
    pub tenant_id: String,
    /// The role there.
    pub role: Role,
}

/// A signed-in session: who, where, and the CSRF token to send as
/// `X-CSRF-Token` with every unsafe request (the cookie `weft_session` is
/// set by the login answer and is not readable by scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionInfo {
    /// `usr_…`.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The tenant the session acts in.
    pub tenant_id: String,
    /// The role there.
    pub role: Role,
    /// Every tenant the user belongs to.
    pub memberships: Vec<Membership>,
    /// The synchronizer token for `X-CSRF-Token`.
    pub csrf_token: String,
    /// Unix milliseconds: the absolute end of the session.
    pub expires_at: i64,
}

/// `POST /v1/auth/switch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchTenant {
    /// The tenant to act in.
    pub tenant: String,
}

/// `POST /v1/auth/accept-invitation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The invitation's token.
    pub token: String,
    /// The email (required when the invitation names none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The new account's password (or the existing account's).
    pub password: String,
    /// An existing account's current TOTP code, when it has TOTP on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

/// `POST /v1/auth/reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The reset link's token.
    pub token: String,
    /// The new password (at least 12 characters).
    pub password: String,
}

/// A member of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Member {
    /// `usr_…`.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The role in this tenant.
    pub role: Role,
    /// Who added them.
    pub created_by: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// `PATCH /v1/members/{user_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    /// The new role.
    pub role: Role,
}

/// `POST /v1/invitations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The role it grants.
    pub role: Role,
    /// Only this email may accept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Valid for this long (ms; default 7 days; 1 minute to 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<i64>,
}

/// An invitation or a reset link (the token only in the answer to its creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Invitation {
    /// `inv_…` or `rst_…`.
    pub id: String,
    /// The role it grants (a reset: the member's).
    pub role: Role,
    /// The email it is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user a reset is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Who issued it.
    pub created_by: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub expires_at: i64,
    /// The one-time token: only in the answer to its creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The answer to `POST /v1/auth/totp/setup`: a new secret, not active until
/// confirmed with a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TotpSetup {
    /// The secret in base32 (RFC 4648, no padding), to type into an
    /// authenticator app; shown only here.
    pub secret: String,
    /// The `otpauth://totp/…` URI (SHA1, 6 digits, 30 s) for a QR code.
    pub uri: String,
}

/// `POST /v1/auth/totp/setup`: the account's password again (a session
/// alone does not enrol a device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpSetupRequest {
    /// The account's password.
    pub password: String,
}

/// `POST /v1/auth/totp/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    /// The authenticator app's current 6-digit code.
    pub code: String,
}

/// `DELETE /v1/auth/totp`: a current code or the password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpDisable {
    /// A current 6-digit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Or the account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}
