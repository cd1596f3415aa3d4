//! The hosted service's story as an operator and a team live it
//! (`docs/TENANCY.md`), over plain HTTP against any running server: the
//! embedded one (`tests/tests/hosted.rs`, SQLite) and the distributed one
//! (`host/cli/tests/distributed.rs`, PostgreSQL, RabbitMQ, Redis).
//!
//! The operator creates a tenant and invites its owner; the owner logs in
//! (a cookie session) and invites a member and a viewer; the member creates
//! and changes its own workflow but cannot delete the owner's; the viewer
//! reads but cannot start runs; the operator suspends the tenant, and its
//! webhook and schedule stop at once while another tenant is untouched;
//! resume restores both.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

/// One answer: status, body, the session cookie it set.
struct Answer {
    status: u16,
    body: Value,
    cookie: Option<String>,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    #[track_caller]
    fn expect(self, status: u16, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: {}", self.body);
        self.body
    }
}

/// Who calls: an API key, a browser session (cookie and CSRF token), or
/// nobody.
#[derive(Clone)]
enum Who {
    Key(String),
    Browser { cookie: String, csrf: String },
    Anonymous,
}

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    async fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        match who {
            Who::Key(k) => req = req.bearer_auth(k),
            Who::Browser { cookie, csrf } => {
                req = req.header("cookie", cookie).header("x-csrf-token", csrf);
            }
            Who::Anonymous => {}
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_owned())
            .filter(|c| c.starts_with("weft_session=") && c.len() > "weft_session=".len());
        let bytes = resp.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status,
            body,
            cookie,
        }
    }

    /// A session from an answer that started one.
    #[track_caller]
    fn browser(a: Answer, status: u16, what: &str) -> Who {
        let cookie = a
            .cookie
            .clone()
            .unwrap_or_else(|| panic!("{what}: no cookie"));
        let body = a.expect(status, what);
        Who::Browser {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn accept(&self, token: &str, what: &str) -> Who {
        let a = self
            .call(
                &Who::Anonymous,
                "POST",
                "/v1/auth/accept-invitation",
                Some(json!({"token": token, "password": PASSWORD})),
            )
            .await;
        Self::browser(a, 201, what)
    }

    async fn invite(&self, who: &Who, role: &str, email: &str) -> String {
        self.call(
            who,
            "POST",
            "/v1/invitations",
            Some(json!({"role": role, "email": email})),
        )
        .await
        .expect(201, &format!("inviting a {role}"))["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn runs_of(&self, who: &Who, workflow: &str) -> usize {
        self.call(
            who,
            "GET",
            &format!("/v1/runs?workflow_id={workflow}&limit=500"),
            None,
        )
        .await
        .expect(200, "listing runs")["items"]
            .as_array()
            .unwrap()
            .len()
    }

    async fn hook(&self, url: &str) -> Answer {
        let path = url.split_once("/hooks/").map(|(_, t)| t).unwrap();
        self.call(
            &Who::Anonymous,
            "POST",
            &format!("/hooks/{path}"),
            Some(json!({"n": 1})),
        )
        .await
    }
}

/// Plays the story against the server at `base` with the operator key
/// `operator` and the owner key `other` of another tenant (which must not
/// notice anything). Panics, naming the step, on the first thing that is
/// not as a user expects.
pub async fn operator_story(base: &str, operator: &str, other: &str) {
    let http = Http {
        base: base.trim_end_matches('/').to_owned(),
        client: reqwest::Client::new(),
    };
    let op = Who::Key(operator.to_owned());
    let bystander = Who::Key(other.to_owned());

    // The operator creates a tenant and invites its owner.
    let tenant = http
        .call(
            &op,
            "POST",
            "/v1/ops/tenants",
            Some(json!({"name": "acme"})),
        )
        .await
        .expect(201, "the operator creates a tenant");
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    let invitation = http
        .call(
            &op,
            "POST",
            &format!("/v1/ops/tenants/{tenant_id}/invitations"),
            Some(json!({"email": "olga@acme.test"})),
        )
        .await
        .expect(201, "the operator invites the owner");
    assert_eq!(invitation["role"], "owner", "{invitation}");
    let token = invitation["token"].as_str().unwrap().to_owned();

    // The owner accepts, signs out, and logs in with the password: a new id.
    let first = http.accept(&token, "the owner accepts").await;
    let again = http
        .call(
            &Who::Anonymous,
            "POST",
            "/v1/auth/accept-invitation",
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert!(
        again.status >= 400 && again.status < 500,
        "an invitation is single use: {} {}",
        again.status,
        again.body
    );
    http.call(&first, "POST", "/v1/auth/logout", None)
        .await
        .expect(204, "logout");
    let login = http
        .call(
            &Who::Anonymous,
            "POST",
            "/v1/auth/login",
            Some(json!({"email": "olga@acme.test", "password": PASSWORD})),
        )
        .await;
    let owner = Http::browser(login, 200, "the owner logs in");
    let (Who::Browser { cookie: old, .. }, Who::Browser { cookie: new, .. }) = (&first, &owner)
    else {
        unreachable!()
    };
    assert_ne!(old, new, "a login issues a new session id");
    let me = http
        .call(&owner, "GET", "/v1/auth/session", None)
        .await
        .expect(200, "the owner's session");
    assert_eq!(
        (me["tenant_id"].as_str(), me["role"].as_str()),
        (Some(tenant_id.as_str()), Some("owner"))
    );
    let gone = http.call(&first, "GET", "/v1/workflows", None).await;
    assert_eq!(
        gone.status, 401,
        "a logged-out session is refused: {}",
        gone.body
    );

    // The owner invites a member and a viewer; they join.
    let member_token = http.invite(&owner, "member", "max@acme.test").await;
    let viewer_token = http.invite(&owner, "viewer", "vera@acme.test").await;
    let member = http.accept(&member_token, "the member joins").await;
    let viewer = http.accept(&viewer_token, "the viewer joins").await;

    // The owner's workflows: a webhook and a schedule, active.
    let hooked = http
        .call(
            &owner,
            "POST",
            "/v1/workflows",
            Some(
                json!({"name": "orders", "triggers": {"webhook": {"mode": "async"}},
                "steps": [{"id": "r", "kind": "respond", "body": "ok"}]}),
            ),
        )
        .await
        .expect(201, "the owner creates a webhook workflow");
    let ticker = http
        .call(
            &owner,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "ticker",
                "triggers": {"schedule": {"cron": "* * * * * *", "timezone": "UTC"}},
                "steps": [{"id": "r", "kind": "respond", "body": "tick"}]})),
        )
        .await
        .expect(201, "the owner creates a scheduled workflow");
    let (hooked_id, ticker_id) = (
        hooked["id"].as_str().unwrap().to_owned(),
        ticker["id"].as_str().unwrap().to_owned(),
    );
    for id in [&hooked_id, &ticker_id] {
        http.call(
            &owner,
            "POST",
            &format!("/v1/workflows/{id}/activate"),
            None,
        )
        .await
        .expect(200, "the owner activates");
    }
    let hook_url = hooked["webhook_url"].as_str().unwrap().to_owned();

    // The member: its own workflow yes, the owner's no.
    let mine = http
        .call(
            &member,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "max's", "steps": [{"id": "r", "kind": "respond", "body": 1}]})),
        )
        .await
        .expect(201, "a member creates a workflow");
    let mine_id = mine["id"].as_str().unwrap();
    http.call(
        &member,
        "PUT",
        &format!("/v1/workflows/{mine_id}"),
        Some(json!({"name": "max's", "steps": [{"id": "r", "kind": "respond", "body": 2}]})),
    )
    .await
    .expect(200, "a member edits its own workflow");
    let theirs = http
        .call(
            &member,
            "DELETE",
            &format!("/v1/workflows/{hooked_id}"),
            None,
        )
        .await;
    assert_eq!(
        (theirs.status, theirs.code()),
        (403, "forbidden"),
        "a member cannot delete another's workflow: {}",
        theirs.body
    );
    // Without the CSRF token, the member's cookie changes nothing.
    let Who::Browser { cookie, .. } = &member else {
        unreachable!()
    };
    let forged = http
        .call(
            &Who::Browser {
                cookie: cookie.clone(),
                csrf: "not-the-token".into(),
            },
            "DELETE",
            &format!("/v1/workflows/{mine_id}"),
            None,
        )
        .await;
    assert_eq!(
        (forged.status, forged.code()),
        (403, "csrf"),
        "{}",
        forged.body
    );
    http.call(&member, "DELETE", &format!("/v1/workflows/{mine_id}"), None)
        .await
        .expect(204, "a member deletes its own workflow");

    // The viewer reads but does not start runs.
    http.call(&viewer, "GET", "/v1/workflows", None)
        .await
        .expect(200, "a viewer lists workflows");
    let start = http
        .call(
            &viewer,
            "POST",
            &format!("/v1/workflows/{hooked_id}/runs"),
            Some(json!({"input": 1})),
        )
        .await;
    assert_eq!(
        (start.status, start.code()),
        (403, "forbidden"),
        "a viewer cannot start runs: {}",
        start.body
    );

    // The webhook answers and the schedule ticks.
    http.hook(&hook_url)
        .await
        .expect(202, "the webhook before suspension");
    wait_for(Duration::from_secs(10), "the schedule ticks", || async {
        http.runs_of(&owner, &ticker_id).await > 0
    })
    .await;

    // Suspended: the webhook, the API and the schedule stop at once.
    http.call(
        &op,
        "POST",
        &format!("/v1/ops/tenants/{tenant_id}/suspend"),
        Some(json!({"reason": "invoice 7 unpaid"})),
    )
    .await
    .expect(200, "the operator suspends");
    let refused = http.hook(&hook_url).await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "tenant_suspended"),
        "the webhook is refused at once: {}",
        refused.body
    );
    let api = http.call(&owner, "GET", "/v1/workflows", None).await;
    assert_eq!(
        (api.status, api.code()),
        (403, "tenant_suspended"),
        "{}",
        api.body
    );
    assert!(
        api.body.to_string().contains("invoice 7 unpaid"),
        "{}",
        api.body
    );
    assert_eq!(
        ticks_of(&http, &op, &tenant_id, &hooked_id).await,
        1,
        "the refused webhook started no run"
    );
    // A sweeper round that began before the suspension may still finish.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let ticks = ticks_of(&http, &op, &tenant_id, &ticker_id).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        ticks_of(&http, &op, &tenant_id, &ticker_id).await,
        ticks,
        "no tick fires while suspended"
    );
    http.call(&bystander, "GET", "/v1/workflows", None)
        .await
        .expect(200, "another tenant is untouched");

    // Resumed: everything is back.
    http.call(
        &op,
        "POST",
        &format!("/v1/ops/tenants/{tenant_id}/resume"),
        None,
    )
    .await
    .expect(200, "the operator resumes");
    http.hook(&hook_url)
        .await
        .expect(202, "the webhook after resume");
    http.call(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(200, "the owner's session after resume");
    wait_for(
        Duration::from_secs(10),
        "the schedule ticks after resume",
        || async { ticks_of(&http, &op, &tenant_id, &ticker_id).await > ticks },
    )
    .await;
}

/// The runs `workflow` of `tenant` has started this month, from the
/// operator's usage view (the tenant's own callers are refused while it is
/// suspended; the `runs` counter is written with each run).
async fn ticks_of(http: &Http, op: &Who, tenant: &str, workflow: &str) -> i64 {
    let usage = http
        .call(op, "GET", "/v1/ops/usage?group=workflow", None)
        .await
        .expect(200, "the operator's usage view");
    usage["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["tenant_id"] == tenant && l["workflow_id"] == workflow)
        .map(|l| l["runs"].as_i64().unwrap())
        .sum()
}

async fn wait_for<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
