//! The `github` connector, built as a component and run in the real sandbox
//! against a loopback stand-in for the GitHub REST API (`api.github.com`
//! resolves to the stand-in). The stand-in answers with the documented shapes:
//! - create an issue: <https://docs.github.com/en/rest/issues/issues#create-an-issue> (201)
//! - create a comment: <https://docs.github.com/en/rest/issues/comments#create-an-issue-comment>
//! - list issues / pulls, `Link` pagination:
//!   <https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api>
//! - releases: <https://docs.github.com/en/rest/releases/releases#get-the-latest-release>
//! - errors (`{"message", "documentation_url", "errors"}`, 401 Bad credentials, 422
//!   Validation Failed): <https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api>
//! - rate limits (403/429 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or
//!   `retry-after` for the secondary limit):
//!   <https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::Outcome;
use weft_tests::connector::Provider;
use weft_tests::{Inbox, Received, StandIn, bearer, failure, output};
use weft_types::ErrorKind;

const TOKEN: &str = "github_pat_11ABCDEFG0123456789_test";
const HOST: &str = "api.github.com";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn issue(number: u64, title: &str) -> Value {
    json!({
        "id": 1_000 + number,
        "node_id": "MDU6SXNzdWUx",
        "url": format!("https://api.github.com/repos/octocat/hello-world/issues/{number}"),
        "html_url": format!("https://github.com/octocat/hello-world/issues/{number}"),
        "number": number,
        "state": "open",
        "title": title,
        "body": "I'm having a problem with this.",
        "user": {"login": "octocat", "id": 1},
        "labels": [{"id": 208045946, "name": "bug", "color": "f29513"}],
        "comments": 0,
        "created_at": "2011-04-22T13:33:48Z"
    })
}

/// A GitHub stand-in: 401 `Bad credentials` unless the token came as a bearer,
/// otherwise `answer`.
async fn github(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
            );
        }
        answer(req)
    })
    .await
}

async fn run(gh: &Provider, action: &str, input: Value) -> Outcome {
    run_with_token(gh, action, input, TOKEN).await
}

async fn run_with_token(gh: &Provider, action: &str, input: Value, token: &str) -> Outcome {
    gh.invoke(
        action,
        input,
        json!({"base_url": gh.url("")}),
        gh.grants(vec![bearer("token", token, &[HOST])]),
    )
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_github", HOST, server).await
}

fn assert_github_headers(seen: &Received) {
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(seen.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(seen.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(seen.header("user-agent"), Some("weft-github-connector"));
}

#[tokio::test]
async fn create_issue_posts_the_documented_body() {
    let (server, inbox) = github(|req| {
        let body = req.json();
        reply(
            StatusCode::CREATED,
            issue(1347, body["title"].as_str().unwrap()),
        )
    })
    .await;
    let gh = provider(&server).await;
    let out = run(
        &gh,
        "create-issue",
        json!({"owner": "octocat", "repo": "hello-world", "title": "Found a bug",
               "body": "I'm having a problem with this.", "labels": ["bug"], "assignees": ["octocat"]}),
    )
    .await;
    assert_eq!(output(&out), &issue(1347, "Found a bug"));
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/repos/octocat/hello-world/issues")
    );
    assert_github_headers(&seen);
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json(),
        json!({"title": "Found a bug", "body": "I'm having a problem with this.",
               "labels": ["bug"], "assignees": ["octocat"]})
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(TOKEN));
}

#[tokio::test]
async fn create_comment_posts_to_the_issue() {
    let (server, inbox) = github(|req| {
        reply(
            StatusCode::CREATED,
            json!({"id": 1, "html_url": "https://github.com/octocat/hello-world/issues/1347#issuecomment-1",
                   "body": req.json()["body"], "user": {"login": "octocat"}}),
        )
    })
    .await;
    let gh = provider(&server).await;
    let out = run(
        &gh,
        "create-comment",
        json!({"owner": "octocat", "repo": "hello-world", "issue_number": 1347, "body": "Me too"}),
    )
    .await;
    assert_eq!(output(&out)["body"], "Me too");
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/repos/octocat/hello-world/issues/1347/comments")
    );
    assert_github_headers(&seen);
    assert_eq!(seen.json(), json!({"body": "Me too"}));
}

#[tokio::test]
async fn lists_are_one_page_with_the_next_page_from_the_link_header() {
    let (server, inbox) = github(|req| {
        if req.uri.starts_with("/repos/octocat/hello-world/issues") {
            let link = "<https://api.github.com/repositories/1300192/issues?state=all&per_page=2&page=3>; rel=\"next\", \
                        <https://api.github.com/repositories/1300192/issues?state=all&per_page=2&page=9>; rel=\"last\"";
            (StatusCode::OK, [("link", link)], axum::Json(json!([issue(2, "a"), issue(1, "b")]))).into_response()
        } else {
            reply(StatusCode::OK, json!([{"id": 5, "number": 7, "state": "open", "title": "PR"}]))
        }
    })
    .await;
    let gh = provider(&server).await;
    let out = run(
        &gh,
        "list-issues",
        json!({"owner": "octocat", "repo": "hello-world", "state": "all", "labels": "bug,ui", "per_page": 2, "page": 2}),
    )
    .await;
    assert_eq!(
        output(&out),
        &json!({"items": [issue(2, "a"), issue(1, "b")], "next_page": 3})
    );
    let out = run(
        &gh,
        "list-pull-requests",
        json!({"owner": "octocat", "repo": "hello-world"}),
    )
    .await;
    assert_eq!(
        output(&out)["next_page"],
        Value::Null,
        "no Link header: the last page"
    );
    let seen = inbox.all();
    assert_eq!(
        seen[0].uri,
        "/repos/octocat/hello-world/issues?state=all&labels=bug%2Cui&per_page=2&page=2"
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].uri.as_str()),
        ("GET", "/repos/octocat/hello-world/pulls")
    );
    assert_github_headers(&seen[1]);
}

#[tokio::test]
async fn releases_latest_and_by_tag() {
    let (server, inbox) = github(|req| {
        let tag = if req.uri.ends_with("/latest") { "v1.0.0" } else { "v0.9.0-rc.1" };
        reply(StatusCode::OK, json!({"id": 1, "tag_name": tag, "html_url": "https://github.com/octocat/hello-world/releases/v1.0.0", "assets": []}))
    })
    .await;
    let gh = provider(&server).await;
    let latest = run(
        &gh,
        "get-release",
        json!({"owner": "octocat", "repo": "hello-world"}),
    )
    .await;
    assert_eq!(output(&latest)["tag_name"], "v1.0.0");
    let tagged = run(
        &gh,
        "get-release",
        json!({"owner": "octocat", "repo": "hello-world", "tag": "v0.9.0-rc.1"}),
    )
    .await;
    assert_eq!(output(&tagged)["tag_name"], "v0.9.0-rc.1");
    let uris: Vec<String> = inbox.all().into_iter().map(|r| r.uri).collect();
    assert_eq!(
        uris,
        [
            "/repos/octocat/hello-world/releases/latest",
            "/repos/octocat/hello-world/releases/tags/v0.9.0-rc.1"
        ]
    );
}

#[tokio::test]
async fn bad_credentials_are_auth() {
    let (server, inbox) = github(|_| unreachable!("the token is wrong")).await;
    let gh = provider(&server).await;
    let out = run_with_token(
        &gh,
        "get-release",
        json!({"owner": "o", "repo": "r"}),
        "ghp_revoked",
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert_eq!(
        f.message,
        format!(
            "{}: HTTP 401 Unauthorized: Bad credentials",
            gh.url("/repos/o/r/releases/latest")
        )
    );
    assert_eq!(
        inbox.only().header("authorization"),
        Some("Bearer ghp_revoked")
    );
}

#[tokio::test]
async fn validation_failures_are_invalid_input_and_name_the_field() {
    let (server, _inbox) = github(|_| {
        reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"message": "Validation Failed",
                   "errors": [{"resource": "Issue", "field": "assignees", "code": "invalid"}],
                   "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue"}),
        )
    })
    .await;
    let gh = provider(&server).await;
    let out = run(
        &gh,
        "create-issue",
        json!({"owner": "o", "repo": "r", "title": "t", "assignees": ["nobody"]}),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .ends_with("HTTP 422 Unprocessable Content: Validation Failed (assignees: invalid)"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn the_primary_rate_limit_waits_until_the_reset() {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let (server, _inbox) = github(move |_| {
        (
            StatusCode::FORBIDDEN,
            [
                ("x-ratelimit-limit", "5000".to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            axum::Json(json!({"message": "API rate limit exceeded for user ID 1.",
                              "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})),
        )
            .into_response()
    })
    .await;
    let gh = provider(&server).await;
    let f = failure(&run(&gh, "list-issues", json!({"owner": "o", "repo": "r"})).await).clone();
    assert_eq!(
        f.kind,
        ErrorKind::RateLimited,
        "a 403 with no requests left is a rate limit, not auth"
    );
    let wait = f.retry_after_ms.expect("the wait until x-ratelimit-reset");
    assert!(wait > 0 && wait <= 60_000, "{wait}");
    assert!(
        f.message.contains("API rate limit exceeded"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn the_secondary_rate_limit_uses_retry_after() {
    let (server, _inbox) = github(|_| {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "60")],
            axum::Json(json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})),
        )
            .into_response()
    })
    .await;
    let gh = provider(&server).await;
    let f = failure(&run(&gh, "list-issues", json!({"owner": "o", "repo": "r"})).await).clone();
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(60_000))
    );
}

#[tokio::test]
async fn server_errors_are_transient_and_not_found_is_invalid_input() {
    let (server, _inbox) = github(|req| {
        if req.uri.contains("/missing/") {
            reply(StatusCode::NOT_FOUND, json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}))
        } else {
            (StatusCode::BAD_GATEWAY, "<html>Unicorn!</html>").into_response()
        }
    })
    .await;
    let gh = provider(&server).await;
    let f = failure(&run(&gh, "list-issues", json!({"owner": "o", "repo": "r"})).await).clone();
    assert_eq!(f.kind, ErrorKind::Transient);
    assert!(
        f.message
            .ends_with("HTTP 502 Bad Gateway: <html>Unicorn!</html>"),
        "{}",
        f.message
    );
    let f =
        failure(&run(&gh, "list-issues", json!({"owner": "o", "repo": "missing"})).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.ends_with("HTTP 404 Not Found: Not Found"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn bad_names_are_refused_before_any_request() {
    let (server, inbox) = github(|_| unreachable!()).await;
    let gh = provider(&server).await;
    let f = failure(
        &run(
            &gh,
            "create-issue",
            json!({"owner": "o", "repo": "../../user", "title": "t"}),
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .starts_with("input.repo: `../../user` is not a GitHub repo name"),
        "{}",
        f.message
    );
    assert!(inbox.is_empty());
}

// ---- Polling triggers: new-issues, new-pull-requests, new-releases.
// Conditional requests (a 304 is free):
// <https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate>;
// list issues (`sort=created`, `since` by update time):
// <https://docs.github.com/en/rest/issues/issues#list-repository-issues>;
// list releases: <https://docs.github.com/en/rest/releases/releases#list-releases>.

fn poll_call(
    gh: &Provider,
    trigger: &str,
    cursor: Option<String>,
    extra: Value,
) -> weft_sandbox::PollCall {
    let mut config = json!({"owner": "octocat", "repo": "hello-world", "base_url": gh.url("")});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    weft_sandbox::PollCall {
        trigger: trigger.into(),
        config: config.to_string(),
        cursor,
        context: weft_types::StepContext::adhoc("poll"),
        grants: gh.grants(vec![bearer("token", TOKEN, &[HOST])]),
        limits: weft_sandbox::StepLimits::default(),
        cancel: None,
    }
}

fn created(mut issue: Value, day: u32) -> Value {
    issue["created_at"] = json!(format!("2026-01-{day:02}T00:00:00Z"));
    issue
}

#[tokio::test]
async fn new_issues_polls_with_the_etag_and_skips_pull_requests() {
    use std::sync::{Arc, Mutex};
    // The repository's issues newest first, and the list's ETag.
    let listed: Arc<Mutex<(Vec<Value>, &'static str)>> = Arc::new(Mutex::new((
        vec![created(issue(2, "two"), 2), created(issue(1, "one"), 1)],
        "\"v1\"",
    )));
    let state = listed.clone();
    let (server, inbox) = github(move |req| {
        let (items, etag) = state.lock().unwrap().clone();
        if req.header("if-none-match") == Some(etag) {
            return (StatusCode::NOT_MODIFIED, [("etag", etag)]).into_response();
        }
        (
            StatusCode::OK,
            [("etag", etag), ("x-ratelimit-remaining", "4999")],
            axum::Json(items),
        )
            .into_response()
    })
    .await;
    let gh = provider(&server).await;
    let names: Vec<String> = gh
        .plugin
        .manifest()
        .triggers
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(names, ["new-issues", "new-pull-requests", "new-releases"]);

    let first = gh
        .sandbox
        .poll(&gh.plugin, poll_call(&gh, "new-issues", None, json!({})))
        .await
        .result
        .unwrap();
    assert!(
        first.items.is_empty(),
        "the first poll only notes where the list is"
    );
    let cursor = first.next_cursor.unwrap();
    let c: Value = serde_json::from_str(&cursor).unwrap();
    assert_eq!(
        c,
        json!({"newest": 2, "created": "2026-01-02T00:00:00Z", "etag": "\"v1\""})
    );
    let seen = inbox.all();
    assert_eq!(
        seen[0].uri,
        "/repos/octocat/hello-world/issues?per_page=100&state=all&sort=created&direction=desc"
    );
    assert_github_headers(&seen[0]);

    // Unchanged: If-None-Match, 304, nothing, the same cursor.
    let again = gh
        .sandbox
        .poll(
            &gh.plugin,
            poll_call(&gh, "new-issues", Some(cursor.clone()), json!({})),
        )
        .await
        .result
        .unwrap();
    assert!(again.items.is_empty());
    assert_eq!(again.next_cursor.as_deref(), Some(cursor.as_str()));
    let seen = inbox.all();
    assert_eq!(seen[1].header("if-none-match"), Some("\"v1\""));
    assert!(
        seen[1].uri.ends_with("&since=2026-01-02T00%3A00%3A00Z"),
        "{}",
        seen[1].uri
    );

    // Issue 3 and pull request 4 opened: issue 3 only, keyed by its id.
    let mut pr = created(issue(4, "a PR"), 4);
    pr["pull_request"] = json!({"url": "https://api.github.com/repos/octocat/hello-world/pulls/4"});
    *listed.lock().unwrap() = (
        vec![
            pr,
            created(issue(3, "three"), 3),
            created(issue(2, "two"), 2),
            created(issue(1, "one"), 1),
        ],
        "\"v2\"",
    );
    let third = gh
        .sandbox
        .poll(
            &gh.plugin,
            poll_call(&gh, "new-issues", Some(cursor), json!({})),
        )
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = third.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["1003"]);
    assert_eq!(third.items[0].1["title"], "three");
    let c: Value = serde_json::from_str(third.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c["newest"], 4, "past the pull request too: {c}");
    assert_eq!(c["etag"], "\"v2\"");
}

#[tokio::test]
async fn new_releases_and_pull_requests_and_a_rate_limited_poll() {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 120;
    let (server, inbox) = github(move |req| {
        if req.uri.starts_with("/repos/octocat/hello-world/releases") {
            reply(StatusCode::OK, json!([
                {"id": 30, "tag_name": "v2.0", "html_url": "https://github.com/octocat/hello-world/releases/v2.0"},
                {"id": 20, "tag_name": "v1.0", "html_url": "https://github.com/octocat/hello-world/releases/v1.0"}
            ]))
        } else if req.uri.starts_with("/repos/octocat/hello-world/pulls") {
            reply(StatusCode::OK, json!([{"id": 7, "number": 8, "state": "open", "title": "PR",
                                          "html_url": "https://github.com/octocat/hello-world/pull/8"}]))
        } else {
            (StatusCode::FORBIDDEN,
             [("x-ratelimit-remaining", "0".to_owned()), ("x-ratelimit-reset", reset.to_string())],
             axum::Json(json!({"message": "API rate limit exceeded for user ID 1.",
                               "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})))
                .into_response()
        }
    })
    .await;
    let gh = provider(&server).await;
    let rel = gh
        .sandbox
        .poll(
            &gh.plugin,
            poll_call(&gh, "new-releases", None, json!({"include_existing": true})),
        )
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = rel.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["20", "30"], "oldest first");
    let c: Value = serde_json::from_str(rel.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(c["newest"], 30);
    let again = gh
        .sandbox
        .poll(
            &gh.plugin,
            poll_call(&gh, "new-releases", rel.next_cursor.clone(), json!({})),
        )
        .await
        .result
        .unwrap();
    assert!(again.items.is_empty(), "nothing newer than release 30");

    let prs = gh
        .sandbox
        .poll(
            &gh.plugin,
            poll_call(
                &gh,
                "new-pull-requests",
                Some(r#"{"newest":7}"#.into()),
                json!({}),
            ),
        )
        .await
        .result
        .unwrap();
    assert_eq!(prs.items.len(), 1);
    assert_eq!(prs.items[0].0, "7");
    assert!(inbox.all().iter().any(|r| r.uri
        == "/repos/octocat/hello-world/pulls?per_page=100&state=all&sort=created&direction=desc"));

    let f = gh
        .sandbox
        .poll(&gh.plugin, poll_call(&gh, "new-issues", None, json!({})))
        .await
        .result
        .unwrap_err();
    assert_eq!(f.kind, ErrorKind::RateLimited, "{f:?}");
    let wait = f.retry_after_ms.expect("the wait until x-ratelimit-reset");
    assert!(wait > 60_000 && wait <= 120_000, "{wait}");

    let f = gh
        .sandbox
        .poll(&gh.plugin, poll_call(&gh, "new-stars", None, json!({})))
        .await
        .result
        .unwrap_err();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .contains("new-issues, new-pull-requests, new-releases"),
        "{}",
        f.message
    );
}

/// A real poll by the server: one run per new release; the polls in between
/// are conditional (If-None-Match, answered 304).
#[tokio::test]
async fn a_polled_repository_starts_one_run_per_new_release() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let releases = Arc::new(Mutex::new(vec![
        json!({"id": 20, "tag_name": "v1.0", "html_url": "https://github.com/octocat/hello-world/releases/v1.0"}),
    ]));
    let list = releases.clone();
    let (server, inbox) = github(move |req| {
        let items = list.lock().unwrap().clone();
        let etag = format!("\"n{}\"", items.len());
        if req.header("if-none-match") == Some(etag.as_str()) {
            return (StatusCode::NOT_MODIFIED, [("etag", etag)]).into_response();
        }
        (StatusCode::OK, [("etag", etag)], axum::Json(items)).into_response()
    })
    .await;
    let app = weft_tests::TestApp::builder()
        .plugin("weft_plugin_github")
        .config(|c| {
            c.sandbox
                .egress
                .resolve
                .entry(HOST.into())
                .or_default()
                .push("127.0.0.1".parse().unwrap());
        })
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "gh", "secret": TOKEN, "hosts": [HOST], "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    let wf = app
        .workflow(json!({
            "name": "releases",
            "grants": {"hosts": [HOST], "credentials": {"github/token": "gh"}},
            "triggers": {"poll": {"connector": "github", "trigger": "new-releases", "interval_ms": 1000,
                                   "config": {"owner": "octocat", "repo": "hello-world",
                                              "base_url": format!("http://{HOST}:{}", server.port())}}},
            "steps": [{"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
                       "input": {"filter": ".", "data": "{{ trigger.body }}"}}]
        }))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // Two polls: the first notes v1.0, the second is conditional and 304.
    while inbox.len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no polls");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(inbox.all()[1].header("if-none-match"), Some("\"n1\""));
    releases.lock().unwrap().insert(0, json!({"id": 30, "tag_name": "v2.0", "html_url": "https://github.com/octocat/hello-world/releases/v2.0"}));
    let runs = loop {
        let page = app
            .get(&format!(
                "/v1/runs?workflow_id={}&trigger=poll&limit=100",
                wf.id
            ))
            .await
            .expect(200);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            break items;
        }
        assert!(tokio::time::Instant::now() < deadline, "no run started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(runs.len(), 1, "{runs:#?}");
    let run = app.finished(runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(run.status, weft_types::Status::Completed, "{run:#?}");
    assert_eq!(run.input["body"]["tag_name"], "v2.0");
    assert!(
        inbox
            .all()
            .iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()))
    );
}
