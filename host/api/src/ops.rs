//! `/v1/ops/…`: the operator's routes. Each takes an [`Operator`] (an
//! operator key, `weft_op_…`); a tenant's API key is refused (403
//! `wrong_principal`), as an operator key is on every tenant route.

use crate::extract::{Body, P, Q};
use crate::{ApiError, ApiResult, AppState};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use weft_app::Operator;
use weft_model::ops::{NewOperatorKey, NewTenant, OperatorKey, Suspend, Tenant, TenantPatch};
use weft_model::{AuditEntry, AuditQuery, List};

/// The authenticated operator of a `/v1/ops` route.
#[derive(Debug, Clone)]
pub struct OperatorCaller(pub Operator);

impl FromRequestParts<AppState> for OperatorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = crate::auth::bearer(parts).ok_or_else(ApiError::unauthenticated)?;
        if weft_app::ops::is_api_key(secret) {
            return Err(weft_app::Error::WrongPrincipal(
                "this is an operator route: it takes an operator key (weft_op_…), \
                 not a tenant's API key"
                    .to_owned(),
            )
            .into());
        }
        let op = state.app.tenants().authenticate_operator(secret).await?;
        Ok(Self(op))
    }
}

fn with_key(t: weft_types::Tenant, owner_key: Option<String>) -> Tenant {
    let mut out = Tenant::from(t);
    out.owner_key = owner_key;
    out
}

pub async fn create_tenant(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    Body(new): Body<NewTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    let (t, secret) = state
        .app
        .tenants()
        .op_create_tenant(&op, &new.name, new.limits)
        .await?;
    Ok((StatusCode::CREATED, Json(with_key(t, Some(secret)))))
}

pub async fn list_tenants(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
) -> ApiResult<Json<List<Tenant>>> {
    let items: Vec<Tenant> = state
        .app
        .tenants()
        .op_list_tenants(&op)
        .await?
        .into_iter()
        .map(Tenant::from)
        .collect();
    Ok(Json(items.into()))
}

pub async fn get_tenant(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
) -> ApiResult<Json<Tenant>> {
    let t = state.app.tenants().op_get_tenant(&op, &id).await?;
    Ok(Json(t.into()))
}

pub async fn update_tenant(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
    Body(patch): Body<TenantPatch>,
) -> ApiResult<Json<Tenant>> {
    let t = state
        .app
        .tenants()
        .op_update_tenant(&op, &id, patch.name.as_deref(), patch.limits)
        .await?;
    Ok(Json(t.into()))
}

pub async fn suspend_tenant(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
    Body(body): Body<Suspend>,
) -> ApiResult<Json<Tenant>> {
    let t = state.app.tenants().suspend(&op, &id, &body.reason).await?;
    Ok(Json(t.into()))
}

pub async fn resume_tenant(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
) -> ApiResult<Json<Tenant>> {
    let t = state.app.tenants().resume(&op, &id).await?;
    Ok(Json(t.into()))
}

pub async fn delete_tenant(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    let grace = state.app.handle().options().tenant_erase_grace_ms;
    let t = state.app.tenants().delete(&op, &id, grace).await?;
    Ok((StatusCode::ACCEPTED, Json(t.into())))
}

pub async fn create_operator_key(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    Body(new): Body<NewOperatorKey>,
) -> ApiResult<(StatusCode, Json<OperatorKey>)> {
    let (key, secret) = state
        .app
        .tenants()
        .create_operator_key(&op, &new.name)
        .await?;
    let mut key = OperatorKey::from(key);
    key.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(key)))
}

pub async fn list_operator_keys(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
) -> ApiResult<Json<List<OperatorKey>>> {
    let items: Vec<OperatorKey> = state
        .app
        .tenants()
        .list_operator_keys(&op)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(items.into()))
}

pub async fn revoke_operator_key(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.tenants().revoke_operator_key(&op, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_operator_audit(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    Q(q): Q<AuditQuery>,
) -> ApiResult<Json<List<AuditEntry>>> {
    let items: Vec<AuditEntry> = state
        .app
        .tenants()
        .op_audit_log(&op, q.limit)
        .await?
        .into_iter()
        .map(|e| AuditEntry {
            tenant_id: e.tenant_id,
            actor: e.actor,
            action: e.action,
            target: e.target,
            at: e.at,
        })
        .collect();
    Ok(Json(items.into()))
}

/// Every tenant's usage report (lines by tenant, then day or workflow).
async fn all_usage(
    state: &AppState,
    q: &weft_model::usage::UsageQuery,
) -> ApiResult<weft_model::usage::UsageReport> {
    let (from, to, rows) = state
        .app
        .usage_all(q.from.as_deref(), q.to.as_deref())
        .await?;
    Ok(crate::usage::report(
        from,
        to,
        q.group.unwrap_or_default(),
        true,
        &rows,
    ))
}

/// `GET /v1/ops/usage`: every tenant's usage counters.
pub async fn get_usage(
    State(state): State<AppState>,
    OperatorCaller(_op): OperatorCaller,
    Q(q): Q<weft_model::usage::UsageQuery>,
) -> ApiResult<Json<weft_model::usage::UsageReport>> {
    Ok(Json(all_usage(&state, &q).await?))
}

/// `GET /v1/ops/usage.csv`: the same as CSV, one line per tenant and day
/// (or workflow), then `total`.
pub async fn get_usage_csv(
    State(state): State<AppState>,
    OperatorCaller(_op): OperatorCaller,
    Q(q): Q<weft_model::usage::UsageQuery>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let r = all_usage(&state, &q).await?;
    Ok((
        [
            (
                http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present",
            ),
            (
                http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"usage.csv\"",
            ),
        ],
        crate::usage::csv(&r),
    ))
}

/// `POST /v1/ops/tenants/{id}/invitations`: an invitation into the tenant
/// (its owner by default); the token is in this answer only.
pub async fn invite(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    P(id): P<String>,
    Body(new): Body<weft_model::ops::TenantInvitation>,
) -> ApiResult<(StatusCode, Json<weft_model::people::Invitation>)> {
    let (link, token) = state
        .app
        .op_invite(&op, &id, new.role, new.email.as_deref(), new.expires_in_ms)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::people::invitation(link, Some(token))),
    ))
}

/// `POST /v1/ops/users/reset`: a password reset link for any user.
pub async fn reset_user(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    Body(r): Body<weft_model::ops::UserReset>,
) -> ApiResult<(StatusCode, Json<weft_model::people::Invitation>)> {
    let (link, token) = state.app.op_reset(&op, &r.email).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::people::invitation(link, Some(token))),
    ))
}
