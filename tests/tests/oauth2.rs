//! OAuth2 credentials end to end, against a stand-in authorization server on
//! loopback that really checks what a provider checks: the client's
//! authentication (HTTP Basic), PKCE S256 (the verifier against the
//! challenge), the redirect URI, single-use codes, and refresh tokens, which
//! it rotates (a used one is dead) and can revoke. Its resource API answers
//! only a current access token and echoes the `Authorization` it got, so a
//! token that reached the plugin would show in the step's output.
//!
//! The race of two workers is played by two `Handle`s over one store, each
//! with its own connections (SQLite: the same file opened twice; PostgreSQL:
//! the same database, two pools, when `WEFT_TEST_DATABASE_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_model::Run;
use weft_tests::{StandIn, TestApp, step};
use weft_types::{ErrorKind, Status};

const CLIENT_ID: &str = "weft-test-client";
const CLIENT_SECRET: &str = "cs-0ddba11-client-secret";

/// The authorization server's memory.
#[derive(Default)]
struct Server {
    /// code -> (challenge, redirect_uri).
    codes: HashMap<String, (String, String)>,
    /// Live refresh tokens (a used one is removed: rotation).
    refresh: Vec<String>,
    /// Live access tokens.
    access: Vec<String>,
    /// Every grant_type the token URL was asked for, in order.
    grants: Vec<String>,
    /// Every `Authorization` the resource API got.
    api_seen: Vec<String>,
    /// Lifetime of new access tokens, seconds.
    expires_in: i64,
    /// How long a refresh answer takes (to make racers overlap).
    refresh_delay_ms: u64,
    n: u32,
}

type Shared = Arc<Mutex<Server>>;

struct Auth {
    stand_in: StandIn,
    state: Shared,
}

impl Auth {
    async fn start(expires_in: i64) -> Self {
        let state: Shared = Arc::new(Mutex::new(Server {
            expires_in,
            ..Server::default()
        }));
        let router = axum::Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/api/me", get(me))
            .with_state(state.clone());
        Self {
            stand_in: StandIn::start(router).await,
            state,
        }
    }

    fn s(&self) -> std::sync::MutexGuard<'_, Server> {
        self.state.lock().unwrap()
    }

    fn refreshes(&self) -> usize {
        self.s()
            .grants
            .iter()
            .filter(|g| *g == "refresh_token")
            .count()
    }

    /// The injection of a credential for this server.
    fn injection(&self, grant: &str) -> Value {
        json!({"type": "oauth2", "grant": grant,
               "authorize_url": self.stand_in.url("/authorize"),
               "token_url": self.stand_in.url("/token"),
               "client_id": CLIENT_ID, "scopes": ["read", "write"]})
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.stand_in.port())
    }
}

fn b64url_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error}))).into_response()
}

/// The user consents at once: a code bound to the PKCE challenge, and the
/// browser sent back to the redirect URI.
async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope").map(String::as_str) == Some("read write");
    let (Some(challenge), Some(redirect), Some(st)) = (
        q.get("code_challenge"),
        q.get("redirect_uri"),
        q.get("state"),
    ) else {
        return (StatusCode::BAD_REQUEST, "missing parameters").into_response();
    };
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let mut g = s.lock().unwrap();
    g.n += 1;
    let code = format!("code-{}", g.n);
    g.codes
        .insert(code.clone(), (challenge.clone(), redirect.clone()));
    let mut to = url::Url::parse(redirect).unwrap();
    to.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", st);
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

fn issue(g: &mut Server, with_refresh: bool) -> Value {
    g.n += 1;
    let access = format!("at-{}-{:08x}", g.n, rand_u32());
    g.access.push(access.clone());
    let mut answer =
        json!({"access_token": access, "token_type": "Bearer", "expires_in": g.expires_in});
    if with_refresh {
        let refresh = format!("rt-{}-{:08x}", g.n, rand_u32());
        g.refresh.push(refresh.clone());
        answer["refresh_token"] = json!(refresh);
    }
    answer
}

fn rand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

async fn token(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(basic.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    let delay = {
        let mut g = s.lock().unwrap();
        g.grants.push(grant.clone());
        g.refresh_delay_ms
    };
    match grant.as_str() {
        "authorization_code" => {
            let mut g = s.lock().unwrap();
            let Some((challenge, redirect)) = form.get("code").and_then(|c| g.codes.remove(c))
            else {
                return oauth_error("invalid_grant");
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            if b64url_s256(&verifier) != challenge || form.get("redirect_uri") != Some(&redirect) {
                return oauth_error("invalid_grant");
            }
            axum::Json(issue(&mut g, true)).into_response()
        }
        "refresh_token" => {
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let mut g = s.lock().unwrap();
            let rt = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(i) = g.refresh.iter().position(|r| *r == rt) else {
                return oauth_error("invalid_grant");
            };
            // Rotation: the used refresh token is dead from now on.
            g.refresh.remove(i);
            axum::Json(issue(&mut g, true)).into_response()
        }
        "client_credentials" => {
            let mut g = s.lock().unwrap();
            axum::Json(issue(&mut g, false)).into_response()
        }
        _ => oauth_error("unsupported_grant_type"),
    }
}

/// The resource: a current access token only; echoes what it got.
async fn me(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let got = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = s.lock().unwrap();
    g.api_seen.push(got.clone());
    let live = got
        .strip_prefix("Bearer ")
        .is_some_and(|t| g.access.iter().any(|a| a == t));
    if live {
        axum::Json(json!({"you_sent": got})).into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"you_sent": got})),
        )
            .into_response()
    }
}

// ---- helpers over the server

async fn app() -> TestApp {
    TestApp::builder().plugin("fixture_hostile").start().await
}

async fn create(app: &TestApp, auth: &Auth, name: &str, grant: &str) -> String {
    let c = app
        .post(
            "/v1/credentials",
            json!({"name": name, "secret": CLIENT_SECRET, "hosts": [auth.host()],
                   "injection": auth.injection(grant)}),
        )
        .await
        .expect(201);
    assert_eq!(c["injection"]["type"], "oauth2");
    assert!(!c.to_string().contains(CLIENT_SECRET));
    c["id"].as_str().unwrap().to_owned()
}

/// Plays the browser: opens the authorize URL, follows the provider's
/// redirect to the callback; the callback's status and page.
async fn consent(app: &TestApp, id: &str) -> (u16, String) {
    let a = app
        .post(&format!("/v1/credentials/{id}/authorize"), json!(null))
        .await
        .expect(200);
    let url = a["url"].as_str().unwrap();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("state="), "{url}");
    assert!(!url.contains("code_verifier"), "{url}");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(url).send().await.unwrap();
    assert_eq!(r.status(), 302, "the provider redirects back");
    let back = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{}/oauth/callback?", app.base)),
        "{back}"
    );
    let page = browser.get(&back).send().await.unwrap();
    let status = page.status().as_u16();
    assert!(
        page.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let text = page.text().await.unwrap();
    // Replaying the same answer is refused: the state is single use.
    let again = browser.get(&back).send().await.unwrap();
    assert_eq!(again.status(), 400, "a callback's state is single use");
    (status, text)
}

/// Credential `id` as `GET /v1/credentials` lists it.
async fn listed(app: &TestApp, id: &str) -> Value {
    let all = app.get("/v1/credentials").await.expect(200);
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap()
}

/// The audit log's (action, actor kind) of credential `id`, oldest first:
/// `key` for an API key, else the actor as written.
async fn audited(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let audit = app.get("/v1/audit?limit=100").await.expect(200);
    let mut out: Vec<(String, String)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == id && e["action"] != "credential.create")
        .map(|e| {
            let actor = e["actor"].as_str().unwrap();
            let kind = if actor == "oauth-callback" {
                actor
            } else {
                "key"
            };
            (e["action"].as_str().unwrap().to_owned(), kind.to_owned())
        })
        .collect();
    out.reverse();
    out
}

/// A workflow whose one step (the hostile fixture) calls the resource API
/// with the credential `name` bound to its slot `token`.
async fn call_api(app: &TestApp, auth: &Auth, name: &str) -> Run {
    let wf = app
        .workflow(json!({
            "name": format!("use-{name}-{}", rand_u32()),
            "grants": {"hosts": ["127.0.0.1"], "credentials": {"token": name}},
            "steps": [{"id": "call", "kind": "action", "connector": "hostile", "action": "http",
                       "input": {"url": auth.stand_in.url("/api/me"), "credential": "token"}}]
        }))
        .await;
    let run = app.start_run(&wf.id, json!({})).await;
    app.finished(&run).await
}

/// The plugin's view: what it got back, checked for every token the server
/// ever issued.
fn saw_no_token(auth: &Auth, run: &Run) {
    let text = serde_json::to_string(run).unwrap();
    let g = auth.s();
    for t in g.access.iter().chain(g.refresh.iter()) {
        assert!(
            !text.contains(t.as_str()),
            "token {t} reached the run: {text}"
        );
    }
    assert!(!text.contains(CLIENT_SECRET));
}

fn status_seen(run: &Run) -> u64 {
    let s = step(run, "call");
    assert_eq!(s.status, Status::Completed, "{s:?}");
    s.output.as_ref().unwrap()["status"].as_u64().unwrap()
}

// ---- the tests

#[tokio::test]
async fn the_code_flow_with_pkce_seals_tokens_the_plugin_never_sees() {
    let auth = Auth::start(3600).await;
    let app = app().await;
    let id = create(&app, &auth, "crm", "authorization_code").await;

    // Before consent: the step fails `auth`, naming what to do.
    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(run.status, Status::Failed);
    let f = step(&run, "call").error.clone().unwrap();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.contains("weft credentials authorize crm"),
        "{}",
        f.message
    );

    assert_eq!(
        listed(&app, &id).await["awaiting_authorization"],
        true,
        "created, never authorized"
    );
    let (status, page) = consent(&app, &id).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Authorized") && page.contains("crm"),
        "{page}"
    );
    assert_eq!(auth.s().grants, ["authorization_code"]);
    let after = listed(&app, &id).await;
    assert!(after.get("awaiting_authorization").is_none(), "{after}");
    assert_eq!(
        audited(&app, &id).await,
        [
            ("credential.authorize".to_owned(), "key".to_owned()),
            (
                "credential.authorized".to_owned(),
                "oauth-callback".to_owned()
            )
        ],
        "who started it, and the callback that finished it"
    );

    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(status_seen(&run), 200, "{run:?}");
    let seen = auth.s().api_seen.last().cloned().unwrap();
    assert!(
        seen.starts_with("Bearer at-"),
        "the host injected the token: {seen}"
    );
    // The API echoed the token back: the plugin got it scrubbed.
    let out = &step(&run, "call").output.as_ref().unwrap()["body"];
    assert!(!out.as_str().unwrap().contains(&seen[7..]), "{out}");
    saw_no_token(&auth, &run);
    // No refresh was needed: the token is good for an hour.
    assert_eq!(auth.refreshes(), 0);
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_first_and_the_rotated_refresh_token_is_kept() {
    // 30 s tokens: inside the 60 s skew, so every use refreshes first.
    let auth = Auth::start(30).await;
    let app = app().await;
    let id = create(&app, &auth, "crm", "authorization_code").await;
    assert_eq!(consent(&app, &id).await.0, 200);
    for n in 1..=3 {
        let run = call_api(&app, &auth, "crm").await;
        assert_eq!(status_seen(&run), 200, "{run:?}");
        saw_no_token(&auth, &run);
        // Each refresh used the refresh token the one before rotated in:
        // the server refuses any other.
        assert_eq!(auth.refreshes(), n);
    }
    let g = auth.s();
    assert_eq!(g.api_seen.len(), 3);
    assert!(g.api_seen.iter().all(|s| s.starts_with("Bearer at-")));
}

#[tokio::test]
async fn a_401_refreshes_once_and_the_request_is_sent_again() {
    let auth = Auth::start(3600).await;
    let app = app().await;
    let id = create(&app, &auth, "crm", "authorization_code").await;
    assert_eq!(consent(&app, &id).await.0, 200);
    // The provider drops its access tokens (not their expiry): the next call
    // gets 401 with a token the host thinks is good.
    let first = auth.s().access.clone();
    auth.s().access.clear();
    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(status_seen(&run), 200, "{run:?}");
    assert_eq!(auth.refreshes(), 1);
    let seen = auth.s().api_seen.clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], format!("Bearer {}", first[0]));
    assert_ne!(seen[1], seen[0]);
    saw_no_token(&auth, &run);
    // The refreshed token is stored: the next step uses it, no refresh.
    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(status_seen(&run), 200);
    assert_eq!(auth.refreshes(), 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_marks_the_credential_for_reauthorization() {
    let auth = Auth::start(30).await;
    let app = app().await;
    let id = create(&app, &auth, "crm", "authorization_code").await;
    assert_eq!(consent(&app, &id).await.0, 200);
    auth.s().refresh.clear();
    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(run.status, Status::Failed);
    let f = step(&run, "call").error.clone().unwrap();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.contains("needs authorization again") && f.message.contains("invalid_grant"),
        "{}",
        f.message
    );
    let list = app.get("/v1/credentials").await.expect(200);
    let c = &list["items"][0];
    assert!(
        c["needs_reauthorization"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{c}"
    );
    // Marked: the next step fails without asking the provider again.
    let asked = auth.s().grants.len();
    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(
        step(&run, "call").error.as_ref().unwrap().kind,
        ErrorKind::Auth
    );
    assert_eq!(auth.s().grants.len(), asked);
    // Authorizing again clears the mark and the steps work.
    assert_eq!(consent(&app, &id).await.0, 200);
    let list = app.get("/v1/credentials").await.expect(200);
    assert!(list["items"][0].get("needs_reauthorization").is_none());
    let run = call_api(&app, &auth, "crm").await;
    assert_eq!(status_seen(&run), 200);
}

#[tokio::test]
async fn client_credentials_fetch_a_token_without_a_user() {
    let auth = Auth::start(3600).await;
    let app = app().await;
    let id = create(&app, &auth, "svc", "client_credentials").await;
    let listed = listed(&app, &id).await;
    assert!(
        listed.get("awaiting_authorization").is_none(),
        "no user to wait for: {listed}"
    );
    let r = app
        .post(&format!("/v1/credentials/{id}/authorize"), json!(null))
        .await;
    assert_eq!(r.status, 409, "nothing to authorize: {}", r.body);
    let run = call_api(&app, &auth, "svc").await;
    assert_eq!(status_seen(&run), 200, "{run:?}");
    let run = call_api(&app, &auth, "svc").await;
    assert_eq!(status_seen(&run), 200);
    assert_eq!(
        auth.s().grants,
        ["client_credentials"],
        "fetched once, then reused"
    );
    saw_no_token(&auth, &run);
}

#[tokio::test]
async fn bad_oauth2_settings_are_refused_naming_the_field() {
    let auth = Auth::start(3600).await;
    let app = app().await;
    let mut inj = auth.injection("authorization_code");
    inj.as_object_mut().unwrap().remove("authorize_url");
    let r = app
        .post(
            "/v1/credentials",
            json!({"name": "x", "secret": "s", "hosts": [auth.host()], "injection": inj}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.to_string().contains("/injection/authorize_url"),
        "{}",
        r.body
    );
    let mut inj = auth.injection("authorization_code");
    inj["token_url"] = json!("ftp://example.com/token");
    let r = app
        .post(
            "/v1/credentials",
            json!({"name": "x", "secret": "s", "hosts": [auth.host()], "injection": inj}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.to_string().contains("/injection/token_url"),
        "{}",
        r.body
    );
    let r = app
        .post(
            "/v1/credentials",
            json!({"name": "x", "hosts": [auth.host()], "injection": auth.injection("client_credentials")}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.to_string().contains("client secret"), "{}", r.body);
}

// ---- two workers racing one refresh

/// A worker `Handle` over `store`, with no connectors (the race is about the
/// token, which every step's unseal goes through).
fn worker(
    store: Arc<dyn weft_store::Store>,
    keyring: Arc<weft_vault::Keyring>,
) -> weft_worker::Handle {
    let mut options = weft_sandbox::Options::default();
    options.egress.allow_private = true;
    weft_worker::Handle::new(weft_worker::Parts {
        store,
        queue: Arc::new(
            weft_queue::memory::Handle::start(weft_queue::memory::Options::default()).unwrap(),
        ),
        sandbox: weft_sandbox::Sandbox::new(options).unwrap(),
        connectors: Arc::new(weft_worker::Connectors::new()),
        keyring,
        options: weft_worker::Options::default(),
        slots: None,
        registry: None,
        blobs: None,
    })
}

/// Authorizes `name` through handle `a` (the browser played as above, the
/// callback called on the handle).
async fn authorize_on(a: &weft_worker::Handle, tenant: &str, id: &str) {
    let u = a
        .oauth_authorize(tenant, id, "https://weft.test/oauth/callback")
        .await
        .unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser.get(&u.url).send().await.unwrap();
    let back = url::Url::parse(r.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let q: HashMap<_, _> = back.query_pairs().into_owned().collect();
    a.oauth_callback(&q["state"], &q["code"]).await.unwrap();
}

async fn race(a: weft_worker::Handle, b: weft_worker::Handle) {
    let auth = Auth::start(30).await;
    auth.s().refresh_delay_ms = 300;
    let tenant = weft_app::App::new(
        a.clone(),
        Arc::new(weft_engine::DefinitionLimits::default()),
    )
    .tenants()
    .create(&format!("race-{}", rand_u32()))
    .await
    .unwrap()
    .0
    .id;
    let new: weft_types::NewCredential = serde_json::from_value(json!({
        "name": "crm", "secret": CLIENT_SECRET, "hosts": [auth.host()],
        "injection": auth.injection("authorization_code")
    }))
    .unwrap();
    let c = a.create_credential(&tenant, new).await.unwrap();
    authorize_on(&a, &tenant, &c.id).await;
    assert_eq!(auth.refreshes(), 0);
    // The first token expires within the skew; the refreshed one lasts an
    // hour, so the worker that waited uses the one the other got.
    auth.s().expires_in = 3600;
    // Both workers need the token at once; it is inside the skew.
    let (ta, tb) = tokio::join!(
        a.oauth_access_token(&tenant, "crm"),
        b.oauth_access_token(&tenant, "crm")
    );
    let (ta, tb) = (ta.unwrap(), tb.unwrap());
    assert_eq!(
        auth.refreshes(),
        1,
        "two racing workers made one token request"
    );
    assert_eq!(ta, tb, "both use the one refresh's token");
    assert!(auth.s().access.contains(&ta));
    // Written before the lease was given back: either worker now reads it
    // and asks nobody.
    for h in [&a, &b] {
        assert_eq!(h.oauth_access_token(&tenant, "crm").await.unwrap(), ta);
    }
    assert_eq!(auth.refreshes(), 1);
    // One live refresh token at the provider (the rotated one; the chain of
    // rotations across steps is `a_token_about_to_expire_...`).
    assert_eq!(auth.s().refresh.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_one_refresh_make_one_token_request_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.db");
    let open = || async {
        let s = weft_store_sqlite::Sqlite::open(&weft_store_sqlite::Options::new(&db))
            .await
            .unwrap();
        Arc::new(s) as Arc<dyn weft_store::Store>
    };
    let keyring = Arc::new(weft_vault::Keyring::generate().unwrap());
    let a = worker(open().await, keyring.clone());
    let b = worker(open().await, keyring);
    race(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_one_refresh_make_one_token_request_postgres() {
    let Ok(url) = std::env::var("WEFT_TEST_DATABASE_URL") else {
        panic!(
            "WEFT_TEST_DATABASE_URL is not set: start the services with eval \"$(scripts/services start)\" (scripts/test does this)"
        );
    };
    let connect = || async {
        let pg = weft_store_postgres::Postgres::connect(&weft_store_postgres::Options::new(&url))
            .await
            .unwrap();
        pg.migrate().await.unwrap();
        Arc::new(pg) as Arc<dyn weft_store::Store>
    };
    let keyring = Arc::new(weft_vault::Keyring::generate().unwrap());
    let a = worker(connect().await, keyring.clone());
    let b = worker(connect().await, keyring);
    race(a, b).await;
}

#[tokio::test]
async fn a_declined_consent_stores_nothing_spends_the_state_and_is_audited() {
    let auth = Auth::start(3600).await;
    let app = app().await;
    let id = create(&app, &auth, "crm", "authorization_code").await;
    let a = app
        .post(&format!("/v1/credentials/{id}/authorize"), json!(null))
        .await
        .expect(200);
    let url = url::Url::parse(a["url"].as_str().unwrap()).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // The provider sends the browser back with an error instead of a code.
    let browser = reqwest::Client::new();
    let back = format!(
        "{}/oauth/callback?state={state}&error=access_denied&error_description=The+user+said+no",
        app.base
    );
    let page = browser.get(&back).send().await.unwrap();
    assert_eq!(page.status(), 400);
    let text = page.text().await.unwrap();
    assert!(
        text.contains("did not authorize") && text.contains("The user said no"),
        "{text}"
    );
    // The state is spent: a code sent with it now is refused.
    let late = browser
        .get(format!(
            "{}/oauth/callback?state={state}&code=code-1",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 400);
    assert_eq!(
        auth.s().grants,
        Vec::<String>::new(),
        "no token request was made"
    );
    assert_eq!(
        audited(&app, &id).await,
        [
            ("credential.authorize".to_owned(), "key".to_owned()),
            (
                "credential.authorization_declined".to_owned(),
                "oauth-callback".to_owned()
            )
        ]
    );
}
