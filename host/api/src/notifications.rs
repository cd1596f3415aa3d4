//! `/v1/notifications`: rules (admins write, viewers read) and deliveries.
//! A rule's signing secret is in the answer that creates or rotates it only.

use crate::extract::{Body, P, Q};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use weft_app::notifications::{NewRule, NewTarget, RulePatch, RuleWithSecret};
use weft_model::notifications::{
    DeliveriesQuery, DeliveryState, DeliveryTry, NewNotificationRule, NotificationDelivery,
    NotificationRule, NotificationRulePatch, NotifyEvent, NotifyGrants, NotifyTarget,
};
use weft_model::{List, Page};
use weft_store::notifications::{self as store, DeliveryFilter, DeliveryStatus, NotifyOn};

fn on_of(e: NotifyEvent) -> NotifyOn {
    match e {
        NotifyEvent::RunFailed => NotifyOn::RunFailed,
        NotifyEvent::RunWaiting => NotifyOn::RunWaiting,
        NotifyEvent::RunRecovered => NotifyOn::RunRecovered,
    }
}

fn event_of(on: NotifyOn) -> NotifyEvent {
    match on {
        NotifyOn::RunFailed => NotifyEvent::RunFailed,
        NotifyOn::RunWaiting => NotifyEvent::RunWaiting,
        NotifyOn::RunRecovered => NotifyEvent::RunRecovered,
    }
}

fn rule(r: store::NotificationRule, secret: Option<String>) -> NotificationRule {
    let target = match r.target {
        store::NotifyTarget::Webhook { url, .. } => NotifyTarget::Webhook { url },
        store::NotifyTarget::Connector(c) => NotifyTarget::Connector {
            connector: c.connector,
            action: c.action,
            input: c.input,
            config: Some(c.config).filter(|c| !c.is_null()),
            grants: NotifyGrants {
                hosts: c.hosts,
                credentials: c.credentials,
            },
        },
    };
    NotificationRule {
        id: r.id,
        workflow_id: r.workflow_id,
        on: event_of(r.on),
        target,
        enabled: r.enabled,
        signing_secret: secret,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn target_of(t: NotifyTarget) -> NewTarget {
    match t {
        NotifyTarget::Webhook { url } => NewTarget::Webhook(url),
        NotifyTarget::Connector {
            connector,
            action,
            input,
            config,
            grants,
        } => NewTarget::Connector(store::ConnectorTarget {
            connector,
            action,
            input,
            config: config.unwrap_or_default(),
            hosts: grants.hosts,
            credentials: grants.credentials,
        }),
    }
}

fn shown(r: RuleWithSecret) -> NotificationRule {
    let secret = r.secret.map(|s| s.as_str().to_owned());
    rule(r.rule, secret)
}

fn delivery(d: store::NotificationDelivery) -> NotificationDelivery {
    let status = match d.status {
        DeliveryStatus::Pending => DeliveryState::Pending,
        DeliveryStatus::Delivered => DeliveryState::Delivered,
        DeliveryStatus::Failed => DeliveryState::Failed,
        DeliveryStatus::Suppressed => DeliveryState::Suppressed,
    };
    NotificationDelivery {
        last_error: d.last_error().map(str::to_owned),
        attempts: u32::try_from(d.attempts.len()).unwrap_or(u32::MAX),
        id: d.id,
        rule_id: d.rule_id,
        on: event_of(d.on),
        run_id: d.run_id,
        workflow_id: d.workflow_id,
        status,
        next_attempt_at: d.next_at,
        tries: d
            .attempts
            .into_iter()
            .map(|a| DeliveryTry {
                at: a.at,
                http_status: a.http_status,
                error: a.error,
            })
            .collect(),
        payload: d.payload,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

pub async fn create_notification_rule(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewNotificationRule>,
) -> ApiResult<(StatusCode, Json<NotificationRule>)> {
    let new = NewRule {
        workflow_id: new.workflow_id,
        on: on_of(new.on),
        target: target_of(new.target),
        enabled: new.enabled.unwrap_or(true),
    };
    let made = state.app.create_notification_rule(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(shown(made))))
}

pub async fn list_notification_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<NotificationRule>>> {
    let items = state.app.list_notification_rules(&caller).await?;
    let items: Vec<_> = items.into_iter().map(|r| rule(r, None)).collect();
    Ok(Json(items.into()))
}

pub async fn get_notification_rule(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<NotificationRule>> {
    let r = state.app.get_notification_rule(&caller, &id).await?;
    Ok(Json(rule(r, None)))
}

pub async fn update_notification_rule(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    Body(patch): Body<NotificationRulePatch>,
) -> ApiResult<Json<NotificationRule>> {
    let patch = RulePatch {
        workflow_id: patch.workflow_id,
        on: patch.on.map(on_of),
        target: patch.target.map(target_of),
        enabled: patch.enabled,
        rotate_secret: patch.rotate_secret.unwrap_or(false),
    };
    let r = state
        .app
        .update_notification_rule(&caller, &id, patch)
        .await?;
    Ok(Json(shown(r)))
}

pub async fn delete_notification_rule(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_notification_rule(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_notification_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<DeliveriesQuery>,
) -> ApiResult<Json<Page<NotificationDelivery>>> {
    let filter = DeliveryFilter {
        rule_id: q.rule_id.clone(),
        status: q.status.map(|s| match s {
            DeliveryState::Pending => DeliveryStatus::Pending,
            DeliveryState::Delivered => DeliveryStatus::Delivered,
            DeliveryState::Failed => DeliveryStatus::Failed,
            DeliveryState::Suppressed => DeliveryStatus::Suppressed,
        }),
    };
    let page = weft_app::page(q.before.clone(), q.limit);
    let listing = state
        .app
        .list_notification_deliveries(&caller, &filter, &page)
        .await?;
    Ok(Json(Page {
        items: listing.items.into_iter().map(delivery).collect(),
        next: listing.next,
    }))
}
