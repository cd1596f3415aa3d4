//! The `notion` connector in the real sandbox against a loopback stand-in for
//! the Notion API (`api.notion.com` resolves to the stand-in), answering with
//! the documented shapes:
//! - create a page: <https://developers.notion.com/reference/post-page>
//! - query a database (`results`, `next_cursor`, `has_more`):
//!   <https://developers.notion.com/reference/post-database-query>
//! - `Authorization: Bearer` and `Notion-Version`: <https://developers.notion.com/reference/versioning>
//! - errors `{"object": "error", "status", "code", "message"}` (401 unauthorized, 400
//!   validation_error, 404 object_not_found, 409 conflict_error, 429 rate_limited, 503
//!   service_unavailable): <https://developers.notion.com/reference/status-codes>
//! - 429 with `Retry-After`: <https://developers.notion.com/reference/request-limits>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::{Failure, Outcome};
use weft_tests::connector::Provider;
use weft_tests::{Inbox, Received, StandIn, bearer, failure, output};
use weft_types::ErrorKind;

const TOKEN: &str = "ntn_4567890123456789012345678901234567890123456";
const HOST: &str = "api.notion.com";
const DB: &str = "d9824bdc-8445-4327-be8b-5b47500af6ce";

fn notion_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"object": "error", "status": status.as_u16(), "code": code, "message": message}),
        ),
    )
        .into_response()
}

async fn notion(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return notion_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "API token is invalid.",
            );
        }
        answer(req)
    })
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_notion", HOST, server).await
}

async fn run(p: &Provider, action: &str, input: Value, token: &str) -> Outcome {
    p.invoke(
        action,
        input,
        json!({"base_url": p.url("")}),
        p.grants(vec![bearer("token", token, &[HOST])]),
    )
    .await
}

async fn fails(p: &Provider, action: &str, input: Value) -> Failure {
    failure(&run(p, action, input, TOKEN).await).clone()
}

fn title(text: &str) -> Value {
    json!({"Name": {"title": [{"text": {"content": text}}]}})
}

#[tokio::test]
async fn create_page_in_a_database() {
    let (server, inbox) = notion(|_| {
        (
            StatusCode::OK,
            axum::Json(json!({"object": "page", "id": "59833787-2cf9-4fdf-8782-e53db20768a5",
                              "url": "https://www.notion.so/Tuscan-kale-598337872cf94fdf8782e53db20768a5",
                              "parent": {"type": "database_id", "database_id": DB}, "properties": {}})),
        )
            .into_response()
    })
    .await;
    let p = provider(&server).await;
    let input = json!({"database_id": DB, "properties": title("Tuscan kale"),
                       "children": [{"object": "block", "type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "Lacinato kale"}}]}}]});
    let out = run(&p, "create-page", input.clone(), TOKEN).await;
    assert_eq!(output(&out)["id"], "59833787-2cf9-4fdf-8782-e53db20768a5");
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/v1/pages")
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(seen.header("notion-version"), Some("2022-06-28"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json(),
        json!({"parent": {"database_id": DB}, "properties": title("Tuscan kale"), "children": input["children"]})
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(TOKEN));
}

#[tokio::test]
async fn query_database_returns_one_page_and_the_cursor() {
    let (server, inbox) = notion(|req| {
        let more = req.json().get("start_cursor").is_none();
        (
            StatusCode::OK,
            axum::Json(json!({"object": "list", "results": [{"object": "page", "id": "p1"}],
                              "next_cursor": if more { json!("fe2cc560-036c-44cd-90e8-294d5a74cebc") } else { Value::Null },
                              "has_more": more, "type": "page_or_database", "page_or_database": {}})),
        )
            .into_response()
    })
    .await;
    let p = provider(&server).await;
    let filter = json!({"property": "Status", "status": {"equals": "Done"}});
    let first = run(
        &p,
        "query-database",
        json!({"database_id": DB, "filter": filter, "page_size": 1}),
        TOKEN,
    )
    .await;
    assert_eq!(
        output(&first),
        &json!({"items": [{"object": "page", "id": "p1"}], "next_cursor": "fe2cc560-036c-44cd-90e8-294d5a74cebc"})
    );
    let last = run(
        &p,
        "query-database",
        json!({"database_id": DB, "start_cursor": "fe2cc560-036c-44cd-90e8-294d5a74cebc"}),
        TOKEN,
    )
    .await;
    assert_eq!(output(&last)["next_cursor"], Value::Null);
    let seen = inbox.all();
    assert_eq!(seen[0].uri, format!("/v1/databases/{DB}/query"));
    assert_eq!(seen[0].json(), json!({"filter": filter, "page_size": 1}));
    assert_eq!(
        seen[1].json(),
        json!({"start_cursor": "fe2cc560-036c-44cd-90e8-294d5a74cebc"})
    );
}

#[tokio::test]
async fn errors_are_classified_by_status_and_code() {
    let (server, _inbox) = notion(|req| match req.json()["properties"]["Name"]["title"][0]["text"]["content"].as_str() {
        Some("invalid") => notion_error(
            StatusCode::BAD_REQUEST,
            "validation_error",
            "body failed validation: body.properties.Name.title should be defined, instead was `undefined`.",
        ),
        Some("missing") => notion_error(
            StatusCode::NOT_FOUND,
            "object_not_found",
            "Could not find database with ID: d9824bdc-8445-4327-be8b-5b47500af6ce. Make sure the relevant pages and databases are shared with your integration.",
        ),
        Some("conflict") => notion_error(StatusCode::CONFLICT, "conflict_error", "Conflict occurred while saving. Please try again."),
        Some("slow") => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "3")],
            axum::Json(json!({"object": "error", "status": 429, "code": "rate_limited", "message": "You have been rate limited. Please try again in a few minutes."})),
        )
            .into_response(),
        _ => notion_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "Notion is unavailable, please try again later."),
    })
    .await;
    let p = provider(&server).await;
    let page = |t: &str| json!({"database_id": DB, "properties": title(t)});
    let f = fails(&p, "create-page", page("invalid")).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .contains("HTTP 400 Bad Request: Notion `validation_error`: body failed validation"),
        "{}",
        f.message
    );
    assert_eq!(
        fails(&p, "create-page", page("missing")).await.kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(
        fails(&p, "create-page", page("conflict")).await.kind,
        ErrorKind::Transient,
        "Notion says retry a conflict"
    );
    let f = fails(&p, "create-page", page("slow")).await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(3_000))
    );
    assert_eq!(
        fails(&p, "create-page", page("down")).await.kind,
        ErrorKind::Transient
    );
    let f = failure(&run(&p, "create-page", page("x"), "secret_wrong").await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message
            .ends_with("Notion `unauthorized`: API token is invalid."),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn bad_ids_and_parents_never_leave() {
    let (server, inbox) = notion(|_| unreachable!()).await;
    let p = provider(&server).await;
    let f = fails(&p, "query-database", json!({"database_id": "../pages/x"})).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert_eq!(
        f.message,
        "input.database_id: `../pages/x` is not a Notion id (32 hex digits, dashes allowed)"
    );
    let f = fails(
        &p,
        "create-page",
        json!({"database_id": DB, "parent_page_id": DB, "properties": {}}),
    )
    .await;
    assert_eq!(
        f.message,
        "input: exactly one of `database_id` and `parent_page_id` is required"
    );
    assert!(inbox.is_empty());
}
