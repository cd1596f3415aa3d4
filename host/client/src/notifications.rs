//! Notification rules and deliveries (`docs/TENANCY.md`, section 6), in the
//! order of `weft_api::routes::ROUTES`.

use crate::routes::pairs;
use crate::{Body, Client, Result};
use reqwest::Method;
use weft_model::notifications::{
    DeliveriesQuery, NewNotificationRule, NotificationDelivery, NotificationRule,
    NotificationRulePatch,
};
use weft_model::{List, Page};

impl Client {
    /// `POST /v1/notifications/rules`: the answer's `signing_secret` is the
    /// only time the secret is shown.
    ///
    /// # Errors
    /// [`crate::Error`]; a bad URL or an unknown workflow is 400 naming the field.
    pub async fn create_notification_rule(
        &self,
        new: &NewNotificationRule,
    ) -> Result<NotificationRule> {
        self.call(
            Method::POST,
            &["v1", "notifications", "rules"],
            &[],
            Body::json(new)?,
        )
        .await
    }

    /// `GET /v1/notifications/rules`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_notification_rules(&self) -> Result<Vec<NotificationRule>> {
        let l: List<NotificationRule> = self
            .call(
                Method::GET,
                &["v1", "notifications", "rules"],
                &[],
                Body::None,
            )
            .await?;
        Ok(l.items)
    }

    /// `GET /v1/notifications/rules/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_notification_rule(&self, id: &str) -> Result<NotificationRule> {
        self.call(
            Method::GET,
            &["v1", "notifications", "rules", id],
            &[],
            Body::None,
        )
        .await
    }

    /// `PATCH /v1/notifications/rules/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn update_notification_rule(
        &self,
        id: &str,
        patch: &NotificationRulePatch,
    ) -> Result<NotificationRule> {
        self.call(
            Method::PATCH,
            &["v1", "notifications", "rules", id],
            &[],
            Body::json(patch)?,
        )
        .await
    }

    /// `DELETE /v1/notifications/rules/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn delete_notification_rule(&self, id: &str) -> Result<()> {
        self.call(
            Method::DELETE,
            &["v1", "notifications", "rules", id],
            &[],
            Body::None,
        )
        .await
    }

    /// `GET /v1/notifications/deliveries`: newest first, with every try.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_notification_deliveries(
        &self,
        q: &DeliveriesQuery,
    ) -> Result<Page<NotificationDelivery>> {
        self.call(
            Method::GET,
            &["v1", "notifications", "deliveries"],
            &pairs(q),
            Body::None,
        )
        .await
    }
}
