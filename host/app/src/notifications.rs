//! Notification rules and their deliveries (`docs/TENANCY.md`, section 6):
//! admins write rules, viewers read them and the deliveries. A webhook rule's
//! signing secret is generated here, sealed at once, and returned only by the
//! call that creates (or rotates) it.

use crate::{Actor, App, Error, Listing, Result};
use weft_store::Page;
use weft_store::notifications::{
    ConnectorTarget, DeliveryFilter, NotificationDelivery, NotificationRule, NotifyOn,
    NotifyTarget, SealedSecret,
};
use weft_types::Role;
use weft_vault::Zeroizing;
use weft_worker::{check_notify_url, new_id, new_notify_secret, now_ms, seal_notify_secret};

/// A rule to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule {
    /// Only this workflow's runs; `None`: every workflow.
    pub workflow_id: Option<String>,
    /// The event.
    pub on: NotifyOn,
    /// Where it goes.
    pub target: NewTarget,
    /// Whether it makes deliveries.
    pub enabled: bool,
}

/// Where a new or changed rule goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTarget {
    /// A signed webhook to this URL.
    Webhook(String),
    /// A connector's action.
    Connector(ConnectorTarget),
}

/// What a PATCH changes (`None`: unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RulePatch {
    /// A workflow, or `Some(None)` for every workflow.
    pub workflow_id: Option<Option<String>>,
    /// The event.
    pub on: Option<NotifyOn>,
    /// The target (a webhook keeps its secret unless `rotate_secret`).
    pub target: Option<NewTarget>,
    /// On or off.
    pub enabled: Option<bool>,
    /// Generate a new signing secret.
    pub rotate_secret: bool,
}

/// A rule, with its new signing secret when the call made one.
#[derive(Debug)]
pub struct RuleWithSecret {
    /// The rule as stored.
    pub rule: NotificationRule,
    /// `whsec_…`, shown once.
    pub secret: Option<Zeroizing<String>>,
}

impl App {
    async fn check_rule_fields(
        &self,
        actor: &Actor,
        workflow: Option<&str>,
        target: &NotifyTarget,
    ) -> Result<()> {
        if let Some(w) = workflow
            && self
                .store()
                .get_workflow(&actor.tenant_id, w)
                .await?
                .is_none()
        {
            return Err(Error::Invalid(format!(
                "workflow_id: no workflow `{w}` in this tenant"
            )));
        }
        match target {
            NotifyTarget::Webhook { url, .. } => {
                let allow_private = self.handle.sandbox().egress().allow_private;
                check_notify_url(url, allow_private)
                    .map(|_| ())
                    .map_err(|e| Error::Invalid(format!("target.url: {e}")))
            }
            NotifyTarget::Connector(c) => self
                .handle
                .check_connector_target(&actor.tenant_id, c)
                .await?
                .map_err(Error::Invalid),
        }
    }

    async fn sealed_secret(
        &self,
        tenant: &str,
        rule_id: &str,
    ) -> Result<(SealedSecret, Zeroizing<String>)> {
        let t = self
            .store()
            .get_tenant(tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let secret = new_notify_secret();
        let sealed = seal_notify_secret(
            self.handle.keyring(),
            &t.wrapped_key,
            tenant,
            rule_id,
            &secret,
        )?;
        Ok((sealed, secret))
    }

    /// Creates a rule (admin and above) with a new signing secret.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field (an unknown workflow, a URL that is
    /// not http(s) or points at a private or metadata address),
    /// [`Error::Conflict`] when the tenant has `max_rules` rules already,
    /// [`Error::Forbidden`](crate::Error), store failures.
    pub async fn create_notification_rule(
        &self,
        actor: &Actor,
        new: NewRule,
    ) -> Result<RuleWithSecret> {
        actor.require(Role::Admin)?;
        let cap = self.handle.options().notifications.max_rules;
        let have = self.store().list_rules(&actor.tenant_id).await?.len();
        if have >= cap as usize {
            return Err(Error::Conflict(format!(
                "notification rules: this tenant has {have}, the most allowed is {cap} \
                 (worker.notifications.max_rules); delete or reuse a rule"
            )));
        }
        let id = new_id("ntr");
        let (target, secret) = match new.target {
            NewTarget::Webhook(url) => {
                let probe = NotifyTarget::Webhook {
                    url: url.clone(),
                    secret: SealedSecret::default(),
                };
                self.check_rule_fields(actor, new.workflow_id.as_deref(), &probe)
                    .await?;
                let (sealed, secret) = self.sealed_secret(&actor.tenant_id, &id).await?;
                (
                    NotifyTarget::Webhook {
                        url,
                        secret: sealed,
                    },
                    Some(secret),
                )
            }
            NewTarget::Connector(c) => {
                let t = NotifyTarget::Connector(c);
                self.check_rule_fields(actor, new.workflow_id.as_deref(), &t)
                    .await?;
                (t, None)
            }
        };
        let now = now_ms();
        let rule = NotificationRule {
            tenant_id: actor.tenant_id.clone(),
            id,
            workflow_id: new.workflow_id,
            on: new.on,
            target,
            enabled: new.enabled,
            created_at: now,
            updated_at: now,
        };
        self.store().create_rule(&rule).await?;
        self.audit(actor, "notification_rule.create", &rule.id)
            .await?;
        Ok(RuleWithSecret { rule, secret })
    }

    /// The tenant's rules, oldest first.
    ///
    /// # Errors
    /// [`Error::Forbidden`](crate::Error); store failures.
    pub async fn list_notification_rules(&self, actor: &Actor) -> Result<Vec<NotificationRule>> {
        actor.require(Role::Viewer)?;
        Ok(self.store().list_rules(&actor.tenant_id).await?)
    }

    /// One rule.
    ///
    /// # Errors
    /// [`Error::NotFound`] (also another tenant's).
    pub async fn get_notification_rule(&self, actor: &Actor, id: &str) -> Result<NotificationRule> {
        actor.require(Role::Viewer)?;
        self.store()
            .get_rule(&actor.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("notification rule"))
    }

    /// Changes a rule (admin and above); with `rotate_secret`, a new secret.
    ///
    /// # Errors
    /// As [`App::create_notification_rule`]; [`Error::NotFound`].
    pub async fn update_notification_rule(
        &self,
        actor: &Actor,
        id: &str,
        patch: RulePatch,
    ) -> Result<RuleWithSecret> {
        actor.require(Role::Admin)?;
        let mut rule = self
            .store()
            .get_rule(&actor.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("notification rule"))?;
        if let Some(w) = patch.workflow_id {
            rule.workflow_id = w;
        }
        if let Some(on) = patch.on {
            rule.on = on;
        }
        if let Some(e) = patch.enabled {
            rule.enabled = e;
        }
        // A webhook made from another kind needs a secret: one is made.
        let mut rotate = patch.rotate_secret;
        match (patch.target, &mut rule.target) {
            (None, _) => {}
            (Some(NewTarget::Webhook(u)), NotifyTarget::Webhook { url, .. }) => *url = u,
            (Some(NewTarget::Webhook(url)), t) => {
                *t = NotifyTarget::Webhook {
                    url,
                    secret: SealedSecret::default(),
                };
                rotate = true;
            }
            (Some(NewTarget::Connector(c)), t) => *t = NotifyTarget::Connector(c),
        }
        self.check_rule_fields(actor, rule.workflow_id.as_deref(), &rule.target)
            .await?;
        let mut shown = None;
        match &mut rule.target {
            NotifyTarget::Webhook { secret, .. } if rotate => {
                let (sealed, plain) = self.sealed_secret(&actor.tenant_id, id).await?;
                *secret = sealed;
                shown = Some(plain);
            }
            NotifyTarget::Connector(_) if patch.rotate_secret => {
                return Err(Error::Invalid(
                    "rotate_secret: a connector rule has no signing secret".into(),
                ));
            }
            _ => {}
        }
        rule.updated_at = now_ms();
        self.store().update_rule(&rule).await?;
        self.audit(actor, "notification_rule.update", id).await?;
        Ok(RuleWithSecret {
            rule,
            secret: shown,
        })
    }

    /// Deletes a rule (admin and above); its pending deliveries fail when tried.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`](crate::Error).
    pub async fn delete_notification_rule(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store().delete_rule(&actor.tenant_id, id).await?;
        self.audit(actor, "notification_rule.delete", id).await
    }

    /// The tenant's deliveries, newest first, with every try.
    ///
    /// # Errors
    /// [`Error::Forbidden`](crate::Error); store failures.
    pub async fn list_notification_deliveries(
        &self,
        actor: &Actor,
        filter: &DeliveryFilter,
        page: &Page,
    ) -> Result<Listing<NotificationDelivery>> {
        actor.require(Role::Viewer)?;
        let items = self
            .store()
            .list_notifications(&actor.tenant_id, filter, page)
            .await?;
        Ok(Listing::of(items, page, |d| &d.id))
    }
}
