//! The `sheets` connector, built as a component and run in the real sandbox
//! against a loopback stand-in for the Google Sheets API v4
//! (`sheets.googleapis.com` resolves to it) and Google's OAuth2 token endpoint
//! (`weft_tests::google`). The stand-in answers with the documented shapes:
//! - values.get: <https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/get>
//!   (a `ValueRange`; an empty range has no `values`)
//! - values.append: <https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/append>
//! - values.update: <https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values/update>
//! - errors: <https://cloud.google.com/apis/design/errors#http_mapping>; rate
//!   limits (429 RESOURCE_EXHAUSTED, and the older 403 `rateLimitExceeded` /
//!   `userRateLimitExceeded`): <https://developers.google.com/sheets/api/limits>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_sandbox::Outcome;
use weft_tests::connector::Provider;
use weft_tests::google::{Google, STATIC_TOKEN, error, reply};
use weft_tests::{TestApp, failure, output};
use weft_types::{ErrorKind, Status};

const HOST: &str = "sheets.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";
const ID: &str = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms";

async fn run(g: &Provider, action: &str, input: Value) -> Outcome {
    Google::run(g, action, input).await
}

#[tokio::test]
async fn append_rows_in_a_workflow_sends_the_token_the_host_got_from_google() {
    let google = Google::start(|req| {
        reply(
            200,
            json!({"spreadsheetId": ID, "tableRange": "Orders!A1:C3",
                   "updates": {"spreadsheetId": ID, "updatedRange": "Orders!A4:C4",
                               "updatedRows": 1, "updatedColumns": 3, "updatedCells": 3},
                   "echo": req.json()}),
        )
    })
    .await;
    let app = google.app("weft_plugin_sheets", HOST, SCOPE).await;
    let wf = app
        .workflow(json!({
            "name": "append",
            "grants": {"hosts": [HOST], "credentials": {"sheets/google": "google"}},
            "steps": [{"id": "append", "kind": "action", "connector": "sheets", "action": "append-rows",
                       "config": {"base_url": google.base(HOST)},
                       "input": {"spreadsheet_id": ID, "range": "Orders!A1",
                                 "values": [["{{ trigger.body.order }}", 2, "=B4*10"]],
                                 "insert_data_option": "INSERT_ROWS"}}]
        }))
        .await;
    let run = app.start_run(&wf.id, json!({"order": "A-17"})).await;
    let run = app.finished(&run).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");

    // The host got a token by the client credentials grant, asking the scope.
    let token = google.token_requests();
    assert_eq!(token.len(), 1);
    let form = token[0].text();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(
        form.contains("scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fspreadsheets"),
        "{form}"
    );
    let issued = google.issued();
    let seen = google.api_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].uri,
        format!(
            "/v4/spreadsheets/{ID}/values/Orders%21A1:append?valueInputOption=USER_ENTERED&insertDataOption=INSERT_ROWS"
        )
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {}", issued[0]).as_str())
    );
    assert_eq!(
        seen[0].json(),
        json!({"range": "Orders!A1", "majorDimension": "ROWS", "values": [["A-17", 2, "=B4*10"]]})
    );
    let out = weft_tests::step(&run, "append").output.clone().unwrap();
    assert_eq!(out["updates"]["updatedRange"], "Orders!A4:C4");
    // The plugin never saw the token.
    assert!(!serde_json::to_string(&run).unwrap().contains(&issued[0]));
}

#[tokio::test]
async fn read_update_and_rows_as_objects_send_the_documented_requests() {
    let google = Google::start(|req| {
        if req.method == "PUT" {
            reply(
                200,
                json!({"spreadsheetId": ID, "updatedRange": "Sheet1!A1:B1", "updatedRows": 1}),
            )
        } else if req.uri.contains("Empty") {
            reply(
                200,
                json!({"range": "Empty!A1:Z1000", "majorDimension": "ROWS"}),
            )
        } else {
            reply(
                200,
                json!({"range": "Sheet1!A1:C3", "majorDimension": "ROWS",
                       "values": [["name", "qty", "name"], ["bolt", "3"], ["nut", "5", "x"]]}),
            )
        }
    })
    .await;
    let g = google.provider("weft_plugin_sheets", HOST).await;
    let out = run(
        &g,
        "read-range",
        json!({"spreadsheet_id": ID, "range": "Sheet1!A1:C", "value_render_option": "UNFORMATTED_VALUE"}),
    )
    .await;
    assert_eq!(output(&out)["values"][1], json!(["bolt", "3"]));
    let out = run(
        &g,
        "read-range",
        json!({"spreadsheet_id": ID, "range": "Empty"}),
    )
    .await;
    assert_eq!(
        output(&out)["values"],
        json!([]),
        "an empty range reads as no rows"
    );
    let out = run(
        &g,
        "rows-as-objects",
        json!({"spreadsheet_id": ID, "range": "Sheet1"}),
    )
    .await;
    assert_eq!(
        output(&out)["rows"],
        json!([{"name": "bolt", "qty": "3", "C": ""}, {"name": "nut", "qty": "5", "C": "x"}])
    );
    let out = run(
        &g,
        "update-range",
        json!({"spreadsheet_id": ID, "range": "Sheet1!A1:B1", "values": [["a", 1]], "value_input_option": "RAW"}),
    )
    .await;
    assert_eq!(output(&out)["updatedRows"], 1);
    let seen = google.api_requests();
    assert_eq!(
        seen[0].uri,
        format!("/v4/spreadsheets/{ID}/values/Sheet1%21A1%3AC?valueRenderOption=UNFORMATTED_VALUE")
    );
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {STATIC_TOKEN}").as_str())
    );
    assert_eq!(
        (seen[3].method.as_str(), seen[3].uri.as_str()),
        (
            "PUT",
            format!("/v4/spreadsheets/{ID}/values/Sheet1%21A1%3AB1?valueInputOption=RAW").as_str()
        )
    );
    assert_eq!(
        seen[3].json(),
        json!({"range": "Sheet1!A1:B1", "majorDimension": "ROWS", "values": [["a", 1]]})
    );

    // Bad input is refused before any request, naming the field.
    let before = google.api_requests().len();
    for (input, field) in [
        (
            json!({"spreadsheet_id": "../x", "range": "A1"}),
            "input.spreadsheet_id",
        ),
        (
            json!({"spreadsheet_id": ID, "range": "A1", "value_render_option": "PRETTY"}),
            "input.value_render_option",
        ),
    ] {
        let f = failure(&run(&g, "read-range", input).await).clone();
        assert_eq!(f.kind, ErrorKind::InvalidInput);
        assert!(f.message.starts_with(field), "{}", f.message);
    }
    assert_eq!(google.api_requests().len(), before);
}

/// Google's error answers, classified (retryable or not).
#[tokio::test]
async fn googles_errors_are_classified() {
    let cases: Vec<(u16, &str, Option<&str>, ErrorKind)> = vec![
        (429, "RESOURCE_EXHAUSTED", None, ErrorKind::RateLimited),
        (
            403,
            "PERMISSION_DENIED",
            Some("rateLimitExceeded"),
            ErrorKind::RateLimited,
        ),
        (
            403,
            "PERMISSION_DENIED",
            Some("userRateLimitExceeded"),
            ErrorKind::RateLimited,
        ),
        (403, "PERMISSION_DENIED", Some("forbidden"), ErrorKind::Auth),
        (
            400,
            "INVALID_ARGUMENT",
            Some("badRequest"),
            ErrorKind::InvalidInput,
        ),
        (404, "NOT_FOUND", None, ErrorKind::InvalidInput),
        (503, "UNAVAILABLE", None, ErrorKind::Transient),
        (500, "INTERNAL", None, ErrorKind::Transient),
    ];
    let which = Arc::new(Mutex::new(0usize));
    let w = which.clone();
    let table = cases.clone();
    let google = Google::start(move |_| {
        let (code, status, reason, _) = table[*w.lock().unwrap()];
        error(
            code,
            status,
            reason,
            "Quota or request problem (from the stand-in)",
        )
    })
    .await;
    let g = google.provider("weft_plugin_sheets", HOST).await;
    for (i, (code, status, reason, kind)) in cases.iter().enumerate() {
        *which.lock().unwrap() = i;
        let out = run(
            &g,
            "read-range",
            json!({"spreadsheet_id": ID, "range": "A1"}),
        )
        .await;
        let f = failure(&out);
        assert_eq!(f.kind, *kind, "{code} {status} {reason:?}: {f:?}");
        assert!(f.message.contains(status), "{}", f.message);
        assert!(
            f.message.contains("Quota or request problem"),
            "{}",
            f.message
        );
    }
    // No token: 401 is `auth`.
    let out = g
        .invoke(
            "read-range",
            json!({"spreadsheet_id": ID, "range": "A1"}),
            json!({"base_url": g.url("")}),
            g.grants(vec![]),
        )
        .await;
    assert_eq!(failure(&out).kind, ErrorKind::Auth);
}

/// Sheet rows the stand-in serves for the trigger (header first).
type Rows = Arc<Mutex<Vec<Value>>>;

async fn sheet(rows: Rows) -> Google {
    Google::start(move |_| {
        reply(
            200,
            json!({"range": "Orders!A1:Z1000", "majorDimension": "ROWS", "values": *rows.lock().unwrap()}),
        )
    })
    .await
}

/// The trigger in the sandbox: the first poll counts, appended rows are
/// items keyed by row number with their header record; after a deletion the
/// keys move to a new generation so re-used row numbers are new.
#[tokio::test]
async fn the_new_rows_trigger_in_the_sandbox() {
    let rows: Rows = Arc::new(Mutex::new(vec![
        json!(["order", "qty"]),
        json!(["A-1", "1"]),
    ]));
    let google = sheet(rows.clone()).await;
    let g = google.provider("weft_plugin_sheets", HOST).await;
    let t = g.plugin.manifest().trigger("new-rows").expect("declared");
    assert_eq!(
        t.config_schema["required"],
        json!(["spreadsheet_id", "range"])
    );
    let call = |cursor: Option<String>| {
        Google::poll(
            &g,
            "new-rows",
            json!({"spreadsheet_id": ID, "range": "Orders"}),
            cursor,
        )
    };
    let first = g.sandbox.poll(&g.plugin, call(None)).await.result.unwrap();
    assert!(first.items.is_empty(), "rows already there are not new");
    let cursor = first.next_cursor.unwrap();

    rows.lock().unwrap().push(json!(["A-2", "2"]));
    rows.lock().unwrap().push(json!(["A-3"]));
    let second = g
        .sandbox
        .poll(&g.plugin, call(Some(cursor)))
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = second.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["g0:3", "g0:4"]);
    assert_eq!(
        second.items[1].1,
        json!({"row": 4, "values": ["A-3"], "record": {"order": "A-3", "qty": ""}})
    );
    let cursor = second.next_cursor.unwrap();
    let same = g
        .sandbox
        .poll(&g.plugin, call(Some(cursor.clone())))
        .await
        .result
        .unwrap();
    assert!(same.items.is_empty());

    // Two rows deleted, one appended: the last seen row still there is A-1,
    // so row 3 is new, under generation 1 (row numbers shifted).
    rows.lock().unwrap().truncate(2);
    rows.lock().unwrap().push(json!(["B-1", "9"]));
    let third = g
        .sandbox
        .poll(&g.plugin, call(Some(cursor)))
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = third.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["g1:3"]);
    assert_eq!(third.items[0].1["record"]["order"], "B-1");

    // A row inserted above, then one appended: only the appended one is new
    // (the inserted row is not "appended"; the moved rows are not repeated).
    let cursor = third.next_cursor.unwrap();
    rows.lock().unwrap().insert(1, json!(["X-0", "0"]));
    let fourth = g
        .sandbox
        .poll(&g.plugin, call(Some(cursor)))
        .await
        .result
        .unwrap();
    assert!(fourth.items.is_empty(), "{:?}", fourth.items);
    rows.lock().unwrap().push(json!(["C-1", "1"]));
    let fifth = g
        .sandbox
        .poll(&g.plugin, call(fourth.next_cursor))
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = fifth.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["g2:5"]);
}

/// A real poll by the server: the OAuth2 token obtained by the host, one run
/// per appended row.
#[tokio::test]
async fn a_polled_sheet_starts_one_run_per_new_row() {
    let rows: Rows = Arc::new(Mutex::new(vec![
        json!(["order", "qty"]),
        json!(["A-1", "1"]),
    ]));
    let google = sheet(rows.clone()).await;
    let app = google.app("weft_plugin_sheets", HOST, SCOPE).await;
    let wf = app
        .workflow(json!({
            "name": "new orders",
            "grants": {"hosts": [HOST], "credentials": {"sheets/google": "google"}},
            "triggers": {"poll": {"connector": "sheets", "trigger": "new-rows", "interval_ms": 1000,
                                   "config": {"spreadsheet_id": ID, "range": "Orders", "base_url": google.base(HOST)}}},
            "steps": [{"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
                       "input": {"filter": ".", "data": "{{ trigger.body }}"}}]
        }))
        .await;
    // The first poll counts the rows already there.
    wait(|| !google.api_requests().is_empty()).await;
    rows.lock().unwrap().push(json!(["A-2", "2"]));
    let runs = until_runs(&app, &wf.id, 1).await;
    let run = app.finished(runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        run.input["body"],
        json!({"row": 3, "values": ["A-2", "2"], "record": {"order": "A-2", "qty": "2"}})
    );
    let issued = google.issued();
    assert!(!issued.is_empty());
    assert!(google.api_requests().iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| issued.iter().any(|t| a == format!("Bearer {t}")))
    }));
    // More polls, no new row: no more runs.
    let seen = google.api_requests().len();
    wait(|| google.api_requests().len() >= seen + 2).await;
    assert_eq!(poll_runs(&app, &wf.id).await.len(), 1);
}

async fn wait(done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never happened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn poll_runs(app: &TestApp, wf: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/v1/runs?workflow_id={wf}&trigger=poll&limit=100"))
        .await
        .expect(200);
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn until_runs(app: &TestApp, wf: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = poll_runs(app, wf).await;
        if runs.len() >= n {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poll runs never got to {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
