//! The `airtable` connector in the real sandbox against a loopback stand-in for
//! the Airtable Web API (`api.airtable.com` resolves to the stand-in), answering
//! with the documented shapes:
//! - list records (`records`, `offset`): <https://airtable.com/developers/web/api/list-records>
//! - create records (`{"records": [{"fields"}], "typecast"}`):
//!   <https://airtable.com/developers/web/api/create-records>
//! - errors `{"error": {"type", "message"}}` / `{"error": "NOT_FOUND"}` (401
//!   AUTHENTICATION_REQUIRED, 404 NOT_FOUND, 422 UNKNOWN_FIELD_NAME, 5xx):
//!   <https://airtable.com/developers/web/api/errors>
//! - 429: wait 30 seconds: <https://airtable.com/developers/web/api/rate-limits>
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

const TOKEN: &str = "patAbCdEfGhIjKlMn.0123456789abcdef0123456789abcdef";
const HOST: &str = "api.airtable.com";
const BASE: &str = "appY3WxIBCdKPDdIa";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn airtable(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}),
            );
        }
        answer(req)
    })
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_airtable", HOST, server).await
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

#[tokio::test]
async fn list_records_pages_with_the_offset() {
    let (server, inbox) = airtable(|req| {
        let more = !req.uri.contains("offset=");
        let mut page = json!({"records": [{"id": "rec560UJdUtocSouk", "createdTime": "2022-09-12T21:03:48.000Z",
                                            "fields": {"Name": "Tuscan kale", "Status": "Open"}}]});
        if more {
            page["offset"] = json!("itrtQ9WzQ3pdMrbvE/rec560UJdUtocSouk");
        }
        reply(StatusCode::OK, page)
    })
    .await;
    let p = provider(&server).await;
    let first = run(
        &p,
        "list-records",
        json!({"base_id": BASE, "table": "Orders 2024", "view": "Grid view", "filter_by_formula": "{Status} = 'Open'", "page_size": 1}),
        TOKEN,
    )
    .await;
    assert_eq!(
        output(&first)["offset"],
        "itrtQ9WzQ3pdMrbvE/rec560UJdUtocSouk"
    );
    assert_eq!(output(&first)["items"][0]["fields"]["Name"], "Tuscan kale");
    let last = run(
        &p,
        "list-records",
        json!({"base_id": BASE, "table": "Orders 2024", "offset": "itrtQ9WzQ3pdMrbvE/rec560UJdUtocSouk"}),
        TOKEN,
    )
    .await;
    assert_eq!(output(&last)["offset"], Value::Null);
    let seen = inbox.all();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].uri,
        format!(
            "/v0/{BASE}/Orders%202024?view=Grid%20view&filterByFormula=%7BStatus%7D%20%3D%20%27Open%27&pageSize=1"
        )
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        seen[1].uri,
        format!("/v0/{BASE}/Orders%202024?offset=itrtQ9WzQ3pdMrbvE%2Frec560UJdUtocSouk")
    );
}

#[tokio::test]
async fn create_records_wraps_fields() {
    let (server, inbox) = airtable(|req| {
        let records: Vec<Value> = req.json()["records"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, r)| json!({"id": format!("rec{i:014}"), "createdTime": "2022-09-12T21:03:48.000Z", "fields": r["fields"]}))
            .collect();
        reply(StatusCode::OK, json!({"records": records}))
    })
    .await;
    let p = provider(&server).await;
    let out = run(
        &p,
        "create-records",
        json!({"base_id": BASE, "table": "tblQ4jVUb7X5B2h9Q", "records": [{"Name": "A-1001", "Total": 2500}], "typecast": true}),
        TOKEN,
    )
    .await;
    assert_eq!(
        output(&out)["records"][0]["fields"],
        json!({"Name": "A-1001", "Total": 2500})
    );
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", format!("/v0/{BASE}/tblQ4jVUb7X5B2h9Q").as_str())
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json(),
        json!({"records": [{"fields": {"Name": "A-1001", "Total": 2500}}], "typecast": true})
    );
}

#[tokio::test]
async fn errors_are_classified() {
    let (server, _inbox) = airtable(|req| {
        if req.uri.contains("/Missing") {
            reply(StatusCode::NOT_FOUND, json!({"error": "NOT_FOUND"}))
        } else if req.uri.contains("/Slow") {
            reply(StatusCode::TOO_MANY_REQUESTS, json!({"errors": [{"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}]}))
        } else if req.method == "POST" {
            reply(StatusCode::UNPROCESSABLE_ENTITY, json!({"error": {"type": "UNKNOWN_FIELD_NAME", "message": "Unknown field name: \"Nmae\""}}))
        } else {
            (StatusCode::BAD_GATEWAY, "Bad Gateway").into_response()
        }
    })
    .await;
    let p = provider(&server).await;
    let list = |t: &str| json!({"base_id": BASE, "table": t});
    let f = fails(&p, "list-records", list("Missing")).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .ends_with("HTTP 404 Not Found: Airtable `NOT_FOUND`"),
        "{}",
        f.message
    );
    let f = fails(&p, "list-records", list("Slow")).await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(30_000)),
        "Airtable's documented 30 s"
    );
    assert_eq!(
        fails(&p, "list-records", list("Orders")).await.kind,
        ErrorKind::Transient
    );
    let f = fails(
        &p,
        "create-records",
        json!({"base_id": BASE, "table": "Orders", "records": [{"Nmae": "x"}]}),
    )
    .await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .ends_with("Airtable `UNKNOWN_FIELD_NAME`: Unknown field name: \"Nmae\""),
        "{}",
        f.message
    );
    let f = failure(&run(&p, "list-records", list("Orders"), "patWrong").await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message
            .ends_with("Airtable `AUTHENTICATION_REQUIRED`: Authentication required"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn bad_bases_and_batches_never_leave() {
    let (server, inbox) = airtable(|_| unreachable!()).await;
    let p = provider(&server).await;
    let f = fails(
        &p,
        "list-records",
        json!({"base_id": "../meta", "table": "t"}),
    )
    .await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .starts_with("input.base_id: `../meta` is not an Airtable base id"),
        "{}",
        f.message
    );
    let eleven: Vec<Value> = (0..11).map(|i| json!({"N": i})).collect();
    let f = fails(
        &p,
        "create-records",
        json!({"base_id": BASE, "table": "t", "records": eleven}),
    )
    .await;
    assert_eq!(
        f.message,
        "input.records: 11 records; Airtable creates 1 to 10 per request"
    );
    assert!(inbox.is_empty());
}
