//! A stand-in for Google: its OAuth2 token endpoint (`/token`, the client
//! credentials grant, answered as <https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code>
//! answers) and an API (Sheets, Gmail) that takes only a token it issued and
//! answers everything else with Google's error shape
//! (<https://cloud.google.com/apis/design/errors#http_mapping>). Shared by the
//! `sheets` and `gmail` connector tests.

use crate::connector::Provider;
use crate::{Inbox, Received, StandIn, TestApp, bearer};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use weft_sandbox::{Grants, Outcome, PollCall, StepLimits};
use weft_types::StepContext;

/// The OAuth2 client the test credential names.
pub const CLIENT_ID: &str = "123-weft.apps.googleusercontent.com";
/// Its secret (the credential's sealed secret).
pub const CLIENT_SECRET: &str = "GOCSPX-weft-test-secret";
/// A token live from the start, for sandbox-level tests that inject it as a bearer.
pub const STATIC_TOKEN: &str = "ya29.a0-weft-static";

/// The stand-in.
pub struct Google {
    /// The server (token endpoint and API on one port).
    pub stand_in: StandIn,
    inbox: Inbox,
    access: Arc<Mutex<Vec<String>>>,
}

/// `{"error": {code, message, status, errors: [{reason, domain, message}]}}`.
pub fn error(code: u16, status: &str, reason: Option<&str>, message: &str) -> Response {
    let mut e = json!({"code": code, "message": message, "status": status});
    if let Some(r) = reason {
        e["errors"] = json!([{"message": message, "domain": "usageLimits", "reason": r}]);
    }
    (
        StatusCode::from_u16(code).unwrap(),
        axum::Json(json!({ "error": e })),
    )
        .into_response()
}

/// A JSON answer.
pub fn reply(code: u16, body: Value) -> Response {
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

impl Google {
    /// Starts the stand-in; `api` answers the API's requests that carry a
    /// token it issued.
    pub async fn start(api: impl Fn(&Received) -> Response + Send + Sync + 'static) -> Self {
        let access = Arc::new(Mutex::new(vec![STATIC_TOKEN.to_owned()]));
        let live = access.clone();
        let (stand_in, inbox) = StandIn::scripted(move |req| {
            if req.uri == "/token" {
                let form = req.text();
                let basic = req
                    .header("authorization")
                    .is_some_and(|a| a.starts_with("Basic "));
                if req.method != "POST" || !basic {
                    return reply(401, json!({"error": "invalid_client"}));
                }
                if !form.split('&').any(|kv| kv == "grant_type=client_credentials") {
                    return reply(400, json!({"error": "unsupported_grant_type"}));
                }
                let mut g = live.lock().unwrap();
                let token = format!("ya29.a0-weft-{}", g.len());
                g.push(token.clone());
                return reply(
                    200,
                    json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                           "scope": "https://www.googleapis.com/auth/spreadsheets"}),
                );
            }
            let ok = req
                .header("authorization")
                .and_then(|a| a.strip_prefix("Bearer "))
                .is_some_and(|t| live.lock().unwrap().iter().any(|l| l == t));
            if !ok {
                return error(
                    401,
                    "UNAUTHENTICATED",
                    None,
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                );
            }
            api(req)
        })
        .await;
        Self {
            stand_in,
            inbox,
            access,
        }
    }

    /// The tokens the token endpoint issued (after the static one).
    pub fn issued(&self) -> Vec<String> {
        self.access.lock().unwrap()[1..].to_vec()
    }

    /// The API requests received (not the token endpoint's).
    pub fn api_requests(&self) -> Vec<Received> {
        self.inbox
            .all()
            .into_iter()
            .filter(|r| r.uri != "/token")
            .collect()
    }

    /// The token endpoint's requests.
    pub fn token_requests(&self) -> Vec<Received> {
        self.inbox
            .all()
            .into_iter()
            .filter(|r| r.uri == "/token")
            .collect()
    }

    /// `http://{host}:{port}`: the `base_url` that reaches the stand-in when
    /// `host` resolves to loopback.
    pub fn base(&self, host: &str) -> String {
        format!("http://{host}:{}", self.stand_in.port())
    }

    /// A server with `plugin` loaded, `host` resolving to the stand-in, and
    /// an OAuth2 credential `google` (client credentials, the token URL on
    /// the stand-in) bound to `host`.
    pub async fn app(&self, plugin: &'static str, host: &'static str, scope: &str) -> TestApp {
        let app = TestApp::builder()
            .plugin(plugin)
            .config(move |c| {
                c.sandbox
                    .egress
                    .resolve
                    .entry(host.into())
                    .or_default()
                    .push("127.0.0.1".parse().unwrap());
            })
            .start()
            .await;
        app.post(
            "/v1/credentials",
            json!({"name": "google", "secret": CLIENT_SECRET, "hosts": [host],
                   "injection": {"type": "oauth2", "grant": "client_credentials",
                                 "token_url": self.stand_in.url("/token"),
                                 "client_id": CLIENT_ID, "scopes": [scope]}}),
        )
        .await
        .expect(201);
        app
    }

    /// The connector `artifact` in a sandbox where `host` is the stand-in.
    pub async fn provider(&self, artifact: &str, host: &str) -> Provider {
        Provider::new(artifact, host, &self.stand_in).await
    }

    /// Grants for `provider`: its host, the static token in slot `google`.
    pub fn grants(provider: &Provider) -> Grants {
        provider.grants(vec![bearer("google", STATIC_TOKEN, &[&provider.host])])
    }

    /// Runs `action` of `provider` against the stand-in (`base_url` set,
    /// the static token in slot `google`).
    pub async fn run(provider: &Provider, action: &str, input: Value) -> Outcome {
        provider
            .invoke(
                action,
                input,
                json!({"base_url": provider.url("")}),
                Self::grants(provider),
            )
            .await
    }

    /// A poll of `trigger` with `config` (plus `base_url`) from `cursor`.
    pub fn poll(
        provider: &Provider,
        trigger: &str,
        mut config: Value,
        cursor: Option<String>,
    ) -> PollCall {
        config["base_url"] = json!(provider.url(""));
        PollCall {
            trigger: trigger.into(),
            config: config.to_string(),
            cursor,
            context: StepContext::adhoc("poll"),
            grants: Self::grants(provider),
            limits: StepLimits::default(),
            cancel: None,
        }
    }
}
