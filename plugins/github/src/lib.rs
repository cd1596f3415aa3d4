//! `github`: issues, comments, pull requests and releases through the GitHub
//! REST API (<https://docs.github.com/en/rest>), with a token the host injects
//! as a bearer for `api.github.com`.
//!
//! Errors follow GitHub's documented answers: `{"message", "errors"}` bodies;
//! a 403 or 429 with `x-ratelimit-remaining: 0` is the primary rate limit (wait
//! until `x-ratelimit-reset`), one with `retry-after` the secondary limit
//! (<https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit>).
//!
//! Polling triggers `new-issues`, `new-pull-requests`, `new-releases` (see
//! [`poll_new`]): newest first by creation, keyed by the item's `id`; the
//! cursor holds the newest `number` (issues, pull requests) or `id`
//! (releases) seen and the first page's `ETag`, sent back as `If-None-Match`:
//! a 304 does not count against the rate limit
//! (<https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate>).

use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response, encode_query_component};
use weft_sdk::{
    Action, Call, Connector, CredentialSlot, Error, ErrorKind, Manifest, Poll, PollItem,
    PollResult, Result, Trigger, TriggerDef,
};

struct GitHub;

const TOKEN_SLOT: &str = "token";
const DEFAULT_BASE_URL: &str = "https://api.github.com";
/// The REST API version this connector is written against.
const API_VERSION: &str = "2022-11-28";

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

impl Config {
    fn url(&self, path: &str) -> String {
        let base = self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
        format!("{}{path}", base.trim_end_matches('/'))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateIssue {
    owner: String,
    repo: String,
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    #[serde(default)]
    assignees: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateComment {
    owner: String,
    repo: String,
    issue_number: u64,
    body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct List {
    owner: String,
    repo: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    labels: Option<String>,
    #[serde(default)]
    per_page: Option<u32>,
    #[serde(default)]
    page: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GetRelease {
    owner: String,
    repo: String,
    /// A tag name; the latest release when absent.
    #[serde(default)]
    tag: Option<String>,
}

impl Connector for GitHub {
    fn manifest() -> Manifest {
        Manifest::new(
            "github",
            env!("CARGO_PKG_VERSION"),
            "GitHub issues, comments, pull requests and releases.",
        )
        .action(
            Action::new("create-issue", "Open an issue in a repository.")
                .input_schema(create_issue_schema())
                .output_schema(issue_schema()),
        )
        .action(
            Action::new("create-comment", "Comment on an issue or pull request.")
                .input_schema(comment_schema())
                .output_schema(object(&["id", "html_url", "body"])),
        )
        .action(
            Action::new(
                "list-issues",
                "One page of a repository's issues (GitHub counts pull requests as issues; they carry `pull_request`).",
            )
            .input_schema(list_schema(&["open", "closed", "all"], true))
            .output_schema(page_schema()),
        )
        .action(
            Action::new("list-pull-requests", "One page of a repository's pull requests.")
                .input_schema(list_schema(&["open", "closed", "all"], false))
                .output_schema(page_schema()),
        )
        .action(
            Action::new("get-release", "A release by tag, or the latest release.")
                .input_schema(release_schema())
                .output_schema(object(&["id", "tag_name", "html_url"])),
        )
        .host("api.github.com")
        .credential(
            CredentialSlot::new(
                TOKEN_SLOT,
                "GitHub token (fine-grained personal access token or app installation token) with Issues: read/write, Pull requests: read, Contents: read.",
            )
            .host("api.github.com"),
        )
        .config_schema(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "base_url": {"type": "string", "default": DEFAULT_BASE_URL, "description": "REST API root."},
                "timeout_ms": {"type": "integer", "minimum": 1}
            }
        }))
    }

    fn invoke(call: Call) -> Result<Value> {
        let config: Config = call.config()?;
        match call.action() {
            "create-issue" => {
                let input: CreateIssue = call.input()?;
                let path = repo_path(&input.owner, &input.repo, "/issues")?;
                if input.title.trim().is_empty() {
                    return Err(Error::invalid_input("input.title: must not be empty"));
                }
                let mut body = json!({"title": input.title});
                if let Some(b) = input.body {
                    body["body"] = json!(b);
                }
                if let Some(l) = input.labels {
                    body["labels"] = json!(l);
                }
                if let Some(a) = input.assignees {
                    body["assignees"] = json!(a);
                }
                send(&config, request("POST", &config.url(&path)).json(&body))?.json()
            }
            "create-comment" => {
                let input: CreateComment = call.input()?;
                let path = repo_path(
                    &input.owner,
                    &input.repo,
                    &format!("/issues/{}/comments", input.issue_number),
                )?;
                if input.body.trim().is_empty() {
                    return Err(Error::invalid_input("input.body: must not be empty"));
                }
                send(
                    &config,
                    request("POST", &config.url(&path)).json(&json!({"body": input.body})),
                )?
                .json()
            }
            "list-issues" => list(&config, &call.input()?, "/issues"),
            "list-pull-requests" => {
                let input: List = call.input()?;
                if input.labels.is_some() {
                    return Err(Error::invalid_input(
                        "input.labels: pull requests cannot be filtered by label here; use list-issues",
                    ));
                }
                list(&config, &input, "/pulls")
            }
            "get-release" => {
                let input: GetRelease = call.input()?;
                let tail = match &input.tag {
                    Some(tag) if tag.is_empty() => {
                        return Err(Error::invalid_input("input.tag: must not be empty"));
                    }
                    Some(tag) => format!("/releases/tags/{}", encode_query_component(tag)),
                    None => "/releases/latest".to_string(),
                };
                let path = repo_path(&input.owner, &input.repo, &tail)?;
                send(&config, request("GET", &config.url(&path)))?.json()
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn list(config: &Config, input: &List, tail: &str) -> Result<Value> {
    let path = repo_path(&input.owner, &input.repo, tail)?;
    let mut req = request("GET", &config.url(&path));
    if let Some(state) = &input.state {
        if !["open", "closed", "all"].contains(&state.as_str()) {
            return Err(Error::invalid_input(format!(
                "input.state: `{state}` is not one of open, closed, all"
            )));
        }
        req = req.query("state", state);
    }
    if let Some(labels) = &input.labels {
        req = req.query("labels", labels);
    }
    if let Some(n) = input.per_page {
        if !(1..=100).contains(&n) {
            return Err(Error::invalid_input(format!(
                "input.per_page: {n} is outside GitHub's 1-100"
            )));
        }
        req = req.query("per_page", n.to_string());
    }
    if let Some(page) = input.page {
        req = req.query("page", page.to_string());
    }
    let response = send(config, req)?;
    let items: Vec<Value> = response.json()?;
    Ok(json!({"items": items, "next_page": next_page(&response)}))
}

/// The page number of the `Link: <...>; rel="next"` target, if any.
fn next_page(response: &Response) -> Option<u64> {
    let next = response.link("next")?;
    let query = next.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|v| v.parse().ok())
}

/// `/repos/{owner}/{repo}{tail}`, refusing names GitHub would not accept (and
/// anything that would change the path).
fn repo_path(owner: &str, repo: &str, tail: &str) -> Result<String> {
    for (field, value) in [("owner", owner), ("repo", repo)] {
        let ok = !value.is_empty()
            && value.len() <= 100
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && value != "."
            && value != "..";
        if !ok {
            return Err(Error::invalid_input(format!(
                "input.{field}: `{value}` is not a GitHub {field} name (letters, digits, `-`, `_`, `.`)"
            )));
        }
    }
    Ok(format!("/repos/{owner}/{repo}{tail}"))
}

fn request(method: &str, url: &str) -> Request {
    Request::new(method, url)
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", API_VERSION)
        .header("user-agent", "weft-github-connector")
        .credential(TOKEN_SLOT)
}

fn send(config: &Config, mut req: Request) -> Result<Response> {
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req.fetch()?.error_for_status_with(problem)
}

/// Read GitHub's error answer (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let mut message = body["message"].as_str().map(str::to_owned);
    if let (Some(m), Some(errors)) = (&mut message, body["errors"].as_array()) {
        let details: Vec<String> = errors
            .iter()
            .map(|e| {
                match (
                    e["field"].as_str(),
                    e["code"].as_str(),
                    e["message"].as_str(),
                ) {
                    (_, _, Some(msg)) => msg.to_owned(),
                    (Some(field), Some(code), None) => format!("{field}: {code}"),
                    _ => e.to_string(),
                }
            })
            .collect();
        if !details.is_empty() {
            m.push_str(" (");
            m.push_str(&details.join("; "));
            m.push(')');
        }
    }
    let status = response.status();
    let mut problem = Problem {
        message,
        ..Problem::default()
    };
    if status == 403 || status == 429 {
        if response.header("x-ratelimit-remaining") == Some("0") {
            problem.kind = Some(ErrorKind::RateLimited);
            problem.retry_after_ms = response
                .header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(until_epoch_seconds);
        } else if response.header("retry-after").is_some()
            || body["message"]
                .as_str()
                .is_some_and(|m| m.to_ascii_lowercase().contains("rate limit"))
        {
            problem.kind = Some(ErrorKind::RateLimited);
        }
    }
    problem
}

/// Milliseconds from now until the Unix time `reset` (0 if it has passed).
fn until_epoch_seconds(reset: u64) -> u64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    reset.saturating_mul(1000).saturating_sub(now_ms)
}

fn repo_props() -> Value {
    json!({
        "owner": {"type": "string", "minLength": 1, "description": "User or organisation that owns the repository."},
        "repo": {"type": "string", "minLength": 1, "description": "Repository name."}
    })
}

fn with_props(required: &[&str], extra: Value) -> Value {
    let mut props = repo_props();
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": props})
}

fn create_issue_schema() -> Value {
    with_props(
        &["owner", "repo", "title"],
        json!({
            "title": {"type": "string", "minLength": 1},
            "body": {"type": "string", "description": "Markdown."},
            "labels": {"type": "array", "items": {"type": "string"}},
            "assignees": {"type": "array", "items": {"type": "string"}}
        }),
    )
}

fn comment_schema() -> Value {
    with_props(
        &["owner", "repo", "issue_number", "body"],
        json!({
            "issue_number": {"type": "integer", "minimum": 1, "description": "Issue or pull request number."},
            "body": {"type": "string", "minLength": 1, "description": "Markdown."}
        }),
    )
}

fn list_schema(states: &[&str], labels: bool) -> Value {
    let mut extra = json!({
        "state": {"enum": states, "default": "open"},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
        "page": {"type": "integer", "minimum": 1, "default": 1}
    });
    if labels {
        extra["labels"] = json!({"type": "string", "description": "Comma-separated label names."});
    }
    with_props(&["owner", "repo"], extra)
}

fn release_schema() -> Value {
    with_props(
        &["owner", "repo"],
        json!({"tag": {"type": "string", "minLength": 1, "description": "Tag name; the latest release when absent."}}),
    )
}

fn object(required: &[&str]) -> Value {
    json!({"type": "object", "required": required})
}

fn issue_schema() -> Value {
    object(&["id", "number", "html_url", "state", "title"])
}

fn page_schema() -> Value {
    json!({
        "type": "object",
        "required": ["items", "next_page"],
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "next_page": {"type": ["integer", "null"], "description": "Pass as `page` for the next page; null on the last."}
        }
    })
}

// ---- Polling triggers -------------------------------------------------------

/// A trigger's config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PollConfig {
    owner: String,
    repo: String,
    #[serde(default)]
    include_existing: bool,
    #[serde(default)]
    base_url: Option<String>,
}

/// The trigger's cursor.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default)]
struct PollCursor {
    /// The newest issue / pull request number, or release id, seen.
    newest: u64,
    /// The newest `created_at` seen (issues: sent as `since`).
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    /// The first page's `ETag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
}

/// Pages followed per poll at most (100 items each).
const MAX_PAGES: usize = 10;

/// What each trigger lists and how it orders.
struct Feed {
    tail: &'static str,
    query: &'static [(&'static str, &'static str)],
    /// The field that grows with each new item.
    order: &'static str,
}

fn feed(trigger: &str) -> Option<Feed> {
    Some(match trigger {
        "new-issues" => Feed {
            tail: "/issues",
            query: &[("state", "all"), ("sort", "created"), ("direction", "desc")],
            order: "number",
        },
        "new-pull-requests" => Feed {
            tail: "/pulls",
            query: &[("state", "all"), ("sort", "created"), ("direction", "desc")],
            order: "number",
        },
        // Listed newest first (by creation) already.
        "new-releases" => Feed {
            tail: "/releases",
            query: &[],
            order: "id",
        },
        _ => return None,
    })
}

impl Trigger for GitHub {
    fn triggers() -> Vec<TriggerDef> {
        let config = with_props(
            &["owner", "repo"],
            json!({
                "include_existing": {"type": "boolean", "default": false, "description": "The first poll starts a run per item already there (at most 100); otherwise it only notes where the list is."},
                "base_url": {"type": "string", "default": DEFAULT_BASE_URL}
            }),
        );
        vec![
            TriggerDef::new(
                "new-issues",
                "Start a run for every issue opened (not pull requests).",
            )
            .config_schema(config.clone())
            .item_schema(issue_schema()),
            TriggerDef::new(
                "new-pull-requests",
                "Start a run for every pull request opened.",
            )
            .config_schema(config.clone())
            .item_schema(object(&["id", "number", "html_url", "state", "title"])),
            TriggerDef::new(
                "new-releases",
                "Start a run for every release published (drafts too, with push access).",
            )
            .config_schema(config)
            .item_schema(object(&["id", "tag_name", "html_url"])),
        ]
    }

    fn poll(poll: Poll) -> Result<PollResult> {
        poll_new(&poll)
    }
}

/// One poll: the first page (conditional on the cursor's `ETag`), and more
/// pages while every item on them is new; items newer than the cursor, oldest
/// first. A 403/429 rate-limit answer fails the poll `rate-limited` with the
/// wait until `x-ratelimit-reset`, which the host's backoff honours; an
/// answer with `x-ratelimit-remaining: 0` stops the paging (the rest comes
/// on a later poll: the cursor only moves past what was returned).
fn poll_new(poll: &Poll) -> Result<PollResult> {
    let Some(feed) = feed(poll.trigger()) else {
        return Err(Error::invalid_input(format!(
            "the github connector has no trigger `{}` (it has: new-issues, new-pull-requests, new-releases)",
            poll.trigger()
        )));
    };
    let c: PollConfig = poll.config()?;
    let config = Config {
        base_url: c.base_url.clone(),
        timeout_ms: None,
    };
    let first = poll.cursor().is_none();
    let cursor: PollCursor = poll
        .cursor()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let path = repo_path(&c.owner, &c.repo, feed.tail)?;
    let mut req = request("GET", &config.url(&path)).query("per_page", "100");
    for (k, v) in feed.query {
        req = req.query(*k, *v);
    }
    if feed.tail == "/issues"
        && let Some(since) = &cursor.created
    {
        // `since` is by update time: a new issue was updated after it too.
        req = req.query("since", since);
    }
    if let Some(etag) = &cursor.etag {
        req = req.header("if-none-match", etag);
    }
    let response = req.fetch()?;
    if response.status() == 304 {
        return Ok(PollResult {
            items: Vec::new(),
            next_cursor: poll.cursor().map(str::to_owned),
        });
    }
    let response = response.error_for_status_with(problem)?;
    let etag = response.header("etag").map(str::to_owned);
    let mut found: Vec<Value> = Vec::new();
    let mut newest = cursor.newest;
    let mut created = cursor.created.clone();
    let mut page = response;
    for n in 1..=MAX_PAGES {
        let items: Vec<Value> = page.json()?;
        let mut all_new = !items.is_empty();
        for item in items {
            let order = item[feed.order].as_u64().unwrap_or(0);
            if order <= cursor.newest {
                all_new = false;
                continue;
            }
            newest = newest.max(order);
            if let Some(c) = item["created_at"].as_str()
                && created.as_deref().is_none_or(|seen| c > seen)
            {
                created = Some(c.to_owned());
            }
            // GitHub lists pull requests among issues.
            if feed.tail == "/issues" && item.get("pull_request").is_some() {
                continue;
            }
            found.push(item);
        }
        let exhausted = page.header("x-ratelimit-remaining") == Some("0");
        let next = page.link("next");
        match next {
            Some(url) if all_new && !first && n < MAX_PAGES && !exhausted => {
                page = send(&config, request("GET", &url))?;
            }
            _ => break,
        }
    }
    found.sort_by_key(|i| i[feed.order].as_u64().unwrap_or(0));
    let items = if first && !c.include_existing {
        Vec::new()
    } else {
        found
            .into_iter()
            .map(|i| PollItem::new(i["id"].to_string(), i))
            .collect()
    };
    let next = PollCursor {
        newest,
        created,
        etag: etag.filter(|v| v.len() <= 1024),
    };
    Ok(PollResult {
        items,
        next_cursor: Some(
            serde_json::to_string(&next).map_err(|e| Error::permanent(e.to_string()))?,
        ),
    })
}

weft_sdk::export!(GitHub, trigger);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names_cannot_change_the_path() {
        assert_eq!(
            repo_path("octo-org", "hello.world_1", "/issues").unwrap(),
            "/repos/octo-org/hello.world_1/issues"
        );
        for bad in ["", "..", "a/b", "a?b", "a%2f"] {
            let e = repo_path(bad, "r", "").unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(e.message.starts_with("input.owner: "), "{}", e.message);
        }
    }
}
