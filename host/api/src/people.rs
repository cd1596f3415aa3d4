//! `/v1/members` and `/v1/invitations` (`docs/TENANCY.md`, section 3).

use crate::extract::{Body, P};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use weft_model::List;
use weft_model::people::{Invitation, Member, MemberPatch, NewInvitation};
use weft_store::people::Link;

fn member(m: weft_store::people::Member) -> Member {
    Member {
        user_id: m.membership.user_id,
        email: m.email,
        role: m.membership.role,
        created_by: m.membership.created_by,
        created_at: m.membership.created_at,
    }
}

pub(crate) fn invitation(l: Link, token: Option<String>) -> Invitation {
    Invitation {
        id: l.id,
        role: l.role,
        email: l.email,
        user_id: l.user_id,
        created_by: l.created_by,
        created_at: l.created_at,
        expires_at: l.expires_at,
        token,
    }
}

pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<Member>>> {
    let items: Vec<Member> = state
        .app
        .list_members(&caller)
        .await?
        .into_iter()
        .map(member)
        .collect();
    Ok(Json(items.into()))
}

pub async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    P(user_id): P<String>,
    Body(patch): Body<MemberPatch>,
) -> ApiResult<Json<Member>> {
    let m = state
        .app
        .set_member_role(&caller, &user_id, patch.role)
        .await?;
    Ok(Json(member(m)))
}

pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    P(user_id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.remove_member(&caller, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn reset_member(
    State(state): State<AppState>,
    caller: Caller,
    P(user_id): P<String>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    let (link, token) = state.app.issue_reset(&caller, &user_id).await?;
    Ok((StatusCode::CREATED, Json(invitation(link, Some(token)))))
}

pub async fn create_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewInvitation>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    let (link, token) = state
        .app
        .create_invitation(&caller, new.role, new.email.as_deref(), new.expires_in_ms)
        .await?;
    Ok((StatusCode::CREATED, Json(invitation(link, Some(token)))))
}

pub async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<Invitation>>> {
    let items: Vec<Invitation> = state
        .app
        .list_invitations(&caller)
        .await?
        .into_iter()
        .map(|l| invitation(l, None))
        .collect();
    Ok(Json(items.into()))
}

pub async fn delete_invitation(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_invitation(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
