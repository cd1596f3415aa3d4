//! The operator's people use cases (`docs/TENANCY.md`, sections 1 and 3):
//! invite someone into a tenant (its first owner, typically) and issue a
//! password reset link for any user. Both go through the tenant's people use
//! cases with the operator as the issuer (`op:<key id>`), and are written to
//! the operator audit log as well as the tenant's.

use crate::{Actor, App, Error, Operator, Result};
use weft_store::people::{Link, LinkKind};
use weft_types::{Role, TenantState};

impl App {
    /// Issues an invitation into `tenant` (role `owner` unless given); the
    /// token is in this answer only.
    ///
    /// # Errors
    /// `NotFound("tenant")`; `Refused` (`tenant_deleted`) for a tenant being
    /// deleted; `Conflict` for one erasing; `Invalid` (email, expiry).
    pub async fn op_invite(
        &self,
        op: &Operator,
        tenant: &str,
        role: Option<Role>,
        email: Option<&str>,
        expires_in_ms: Option<i64>,
    ) -> Result<(Link, String)> {
        let t = self
            .store()
            .get_tenant(tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        if matches!(t.state, TenantState::Deleting { .. }) {
            return Err(Error::Refused {
                code: "tenant_deleted",
                message: format!("tenant {tenant} is being deleted: resume it first"),
                problems: Vec::new(),
            });
        }
        crate::ops::refuse_erasing(&t)?;
        let issuer = Actor::new(t.id.clone(), op.actor(), Role::Owner);
        let (link, token) = self
            .create_invitation(&issuer, role.unwrap_or(Role::Owner), email, expires_in_ms)
            .await?;
        self.tenants
            .op_audit(op, "invitation.create", &t.id, &link.id)
            .await?;
        Ok((link, token))
    }

    /// Issues a one-time password reset link for the user with this email,
    /// whatever their tenants (a tenant's admins can only reset members who
    /// belong to theirs alone).
    ///
    /// # Errors
    /// `Invalid` (email); `NotFound("user")`.
    pub async fn op_reset(&self, op: &Operator, email: &str) -> Result<(Link, String)> {
        let email = crate::normalise_email(email, "email")?;
        let user = self
            .store()
            .user_by_email(&email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let home = self.store().memberships_of(&user.id).await?;
        let (tenant, role) = home.first().map_or((String::new(), Role::Viewer), |m| {
            (m.tenant_id.clone(), m.role)
        });
        let issuer = Actor::new(tenant.clone(), op.actor(), Role::Owner);
        let ttl = self.session_options().reset_ms;
        let (link, token) = self
            .issue_link(
                &issuer,
                LinkKind::Reset,
                role,
                None,
                Some(user.id.clone()),
                ttl,
            )
            .await?;
        self.tenants
            .op_audit(op, "user.reset", &tenant, &user.id)
            .await?;
        Ok((link, token))
    }
}
