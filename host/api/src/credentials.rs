//! `/v1/credentials`: create (sealed at once), list (metadata only), delete,
//! and the OAuth2 code flow: `POST /v1/credentials/{id}/authorize` answers
//! the provider's URL; `GET /oauth/callback` (no API key: the single-use
//! `state` ties it to the tenant and credential) finishes it and shows a
//! small page. No route returns a secret or a token.

use crate::extract::{Body, P};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use weft_model::{Credential, CredentialAuthorization, List, NewCredential, OAuthCallbackQuery};
use weft_types::CredentialRecord;

fn wire(c: CredentialRecord) -> ApiResult<Credential> {
    Credential::try_from(c).map_err(|m| weft_app::Error::Internal(m).into())
}

pub async fn create_credential(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewCredential>,
) -> ApiResult<(StatusCode, Json<Credential>)> {
    let c = state.app.create_credential(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(wire(c)?)))
}

pub async fn list_credentials(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<Credential>>> {
    let items = state
        .app
        .list_credentials(&caller)
        .await?
        .into_iter()
        .map(|(c, status)| {
            wire(c).map(|mut c| {
                c.needs_reauthorization = status.needs_reauthorization;
                c.awaiting_authorization = status.awaiting_authorization;
                c
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(items.into()))
}

pub async fn delete_credential(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_credential(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn authorize_credential(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<CredentialAuthorization>> {
    let redirect = format!("{}/oauth/callback", state.base_url);
    let a = state
        .app
        .authorize_credential(&caller, &id, &redirect)
        .await?;
    Ok(Json(CredentialAuthorization {
        url: a.url,
        expires_at: a.expires_at,
    }))
}

/// The page the browser lands on: HTML, no script, nothing from the request
/// echoed unescaped.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Weft: {t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{t}</h1><p>{x}</p></body></html>",
        t = esc(title),
        x = esc(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn oauth_callback(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let mut q = OAuthCallbackQuery::default();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = Some(v.into_owned());
        match &*k {
            "state" => q.state = v,
            "code" => q.code = v,
            "error" => q.error = v,
            "error_description" => q.error_description = v,
            _ => {}
        }
    }
    let failed = |text: String| page(StatusCode::BAD_REQUEST, "Authorization failed", &text);
    let Some(st) = q.state else {
        return failed("The provider's answer has no `state`: open the link `weft credentials authorize` printed.".into());
    };
    if let Some(e) = q.error {
        // The state is spent either way: the user starts again.
        let _ = state.app.oauth_callback_declined(&st).await;
        let why = q
            .error_description
            .map_or(e.clone(), |d| format!("{e}: {d}"));
        return failed(format!(
            "The provider did not authorize the credential ({why}). Nothing was stored; start again with `weft credentials authorize`."
        ));
    }
    let Some(code) = q.code else {
        return failed("The provider's answer has neither a code nor an error.".into());
    };
    match state.app.oauth_callback(&st, &code).await {
        Ok(a) => page(
            StatusCode::OK,
            "Authorized",
            &format!(
                "Credential `{}` is authorized: Weft holds its tokens sealed and refreshes them. You can close this page.",
                a.name
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "OAuth2 callback refused");
            failed(format!("{e}"))
        }
    }
}
