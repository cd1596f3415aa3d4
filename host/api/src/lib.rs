//! The HTTP API of a Weft server: the admin API under `/v1` (API key
//! required), webhooks under `/hooks/{token}` and resume URLs under
//! `/resume/{token}` (the unguessable token is the credential), and
//! `/healthz`, `/readyz`, `/metrics`, `/openapi.json`; and, when the state
//! has one, the web console for every other `GET` (`weft_console`).
//!
//! Handlers translate HTTP and nothing more: every use case (and its role
//! check and audit entry) is `weft_app`'s.
//!
//! [`router`] is pure: tests call it without a socket. Every route is listed
//! once in [`routes::ROUTES`], from which the OpenAPI document and the
//! cross-tenant test are generated.
//!
//! ```text
//! let app = weft_app::App::new(handle, limits);
//! let router = weft_api::router(weft_api::AppState::new(app, "http://127.0.0.1:8080"));
//! axum::serve(listener, router).await?;
//! ```

mod auth;
mod connectors;
mod credentials;
mod deadletters;
mod error;
mod extract;
mod hooks;
mod keys;
mod limiter;
mod notifications;
pub mod openapi;
mod ops;
mod people;
mod registry;
pub mod routes;
mod runs;
pub mod serve;
pub mod sessions;
mod system;
mod tenant;
mod totp;
pub mod usage;
mod workflows;

/// Wire forms the MCP server shows as the API does.
pub mod wire {
    pub use crate::connectors::connector;
    pub use crate::registry::package;
    pub use crate::workflows::with_definition as workflow;
}

pub use auth::{Caller, bearer, key_caller};
pub use error::{ApiError, ApiResult};
pub use limiter::{Backend, Bucket, RateLimiter, Verdict};
pub use serve::{Options, serve};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use std::sync::Arc;
use weft_app::App;

/// Largest request body accepted, in bytes (a definition is at most 1 MiB).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The largest artifact upload (`PUT /v1/registry/blobs/…`): the sandbox's
/// default component size limit; the application checks the configured one.
pub const MAX_BLOB_BYTES: usize = 64 * 1024 * 1024;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The use cases (and, through them, the runtime).
    pub app: App,
    /// The public base URL, for webhook and resume URLs in responses.
    pub base_url: Arc<str>,
    /// Per-tenant rate limits; `None`: none (embedded mode).
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// The web console served under `/` (`docs/CONSOLE.md`); `None`: none.
    pub console: Option<Arc<weft_console::Console>>,
}

impl AppState {
    /// State over `app`, without rate limits.
    pub fn new(app: App, base_url: &str) -> Self {
        Self {
            app,
            base_url: base_url.trim_end_matches('/').into(),
            rate_limiter: None,
            console: None,
        }
    }

    /// The same state with per-tenant rate limits.
    #[must_use]
    pub fn with_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// The same state serving `console` under `/`.
    #[must_use]
    pub fn with_console(mut self, console: Arc<weft_console::Console>) -> Self {
        self.console = Some(console);
        self
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(system::get_health))
        .route("/readyz", get(system::get_ready))
        .route("/metrics", get(system::get_metrics))
        .route("/openapi.json", get(system::get_openapi))
        .route("/hooks/{token}", post(hooks::post_hook))
        .route("/resume/{token}", post(hooks::post_resume))
        .route(
            "/v1/workflows",
            post(workflows::create_workflow).get(workflows::list_workflows),
        )
        .route("/v1/workflows/validate", post(workflows::validate_workflow))
        .route("/v1/workflows/import/n8n", post(workflows::import_n8n))
        .route(
            "/v1/workflows/{id}",
            get(workflows::get_workflow)
                .put(workflows::update_workflow)
                .delete(workflows::delete_workflow),
        )
        .route(
            "/v1/workflows/{id}/versions/{version}",
            get(workflows::get_version),
        )
        .route(
            "/v1/workflows/{id}/activate",
            post(workflows::activate_workflow),
        )
        .route(
            "/v1/workflows/{id}/deactivate",
            post(workflows::deactivate_workflow),
        )
        .route("/v1/workflows/{id}/runs", post(runs::start_run))
        .route("/v1/tenant", get(tenant::get_tenant))
        .route("/v1/runs", get(runs::list_runs))
        .route("/v1/runs/stats", get(runs::get_run_stats))
        .route("/v1/runs/{id}", get(runs::get_run))
        .route("/v1/runs/{id}/cancel", post(runs::cancel_run))
        .route("/v1/runs/{id}/retry", post(runs::retry_run))
        .route("/v1/runs/{id}/rerun", post(runs::rerun_run))
        .route("/v1/runs/{id}/steps/{key}/resume", post(runs::resume_step))
        .route(
            "/v1/credentials",
            post(credentials::create_credential).get(credentials::list_credentials),
        )
        .route(
            "/v1/credentials/{id}",
            delete(credentials::delete_credential),
        )
        .route(
            "/v1/credentials/{id}/authorize",
            post(credentials::authorize_credential),
        )
        .route("/oauth/callback", get(credentials::oauth_callback))
        .route(
            "/v1/notifications/rules",
            post(notifications::create_notification_rule)
                .get(notifications::list_notification_rules),
        )
        .route(
            "/v1/notifications/rules/{id}",
            get(notifications::get_notification_rule)
                .patch(notifications::update_notification_rule)
                .delete(notifications::delete_notification_rule),
        )
        .route(
            "/v1/notifications/deliveries",
            get(notifications::list_notification_deliveries),
        )
        .route("/v1/connectors", get(connectors::list_connectors))
        .route("/v1/keys", post(keys::create_key).get(keys::list_keys))
        .route("/v1/keys/{id}", delete(keys::revoke_key))
        .route("/v1/audit", get(keys::list_audit))
        .route("/v1/auth/login", post(sessions::login))
        .route("/v1/auth/logout", post(sessions::logout))
        .route("/v1/auth/session", get(sessions::get_session))
        .route("/v1/auth/switch", post(sessions::switch_tenant))
        .route(
            "/v1/auth/accept-invitation",
            post(sessions::accept_invitation),
        )
        .route("/v1/auth/reset", post(sessions::reset_password))
        .route("/v1/auth/totp/setup", post(totp::setup_totp))
        .route("/v1/auth/totp/confirm", post(totp::confirm_totp))
        .route("/v1/auth/totp", delete(totp::delete_totp))
        .route("/v1/members", get(people::list_members))
        .route(
            "/v1/members/{user_id}",
            patch(people::update_member).delete(people::remove_member),
        )
        .route("/v1/members/{user_id}/reset", post(people::reset_member))
        .route(
            "/v1/invitations",
            post(people::create_invitation).get(people::list_invitations),
        )
        .route("/v1/invitations/{id}", delete(people::delete_invitation))
        .route(
            "/v1/ops/tenants",
            post(ops::create_tenant).get(ops::list_tenants),
        )
        .route(
            "/v1/ops/tenants/{id}",
            get(ops::get_tenant)
                .patch(ops::update_tenant)
                .delete(ops::delete_tenant),
        )
        .route("/v1/ops/tenants/{id}/suspend", post(ops::suspend_tenant))
        .route("/v1/ops/tenants/{id}/resume", post(ops::resume_tenant))
        .route(
            "/v1/ops/keys",
            post(ops::create_operator_key).get(ops::list_operator_keys),
        )
        .route("/v1/ops/keys/{id}", delete(ops::revoke_operator_key))
        .route("/v1/ops/audit", get(ops::list_operator_audit))
        .route("/v1/ops/tenants/{id}/invitations", post(ops::invite))
        .route("/v1/ops/users/reset", post(ops::reset_user))
        .route("/v1/ops/users/totp/remove", post(totp::op_remove_totp))
        .route("/v1/ops/usage", get(ops::get_usage))
        .route("/v1/ops/usage.csv", get(ops::get_usage_csv))
        .route("/v1/usage", get(usage::get_usage))
        .route("/v1/usage.csv", get(usage::get_usage_csv))
        .route("/v1/dead-letters", get(deadletters::list_dead_letters))
        .route(
            "/v1/dead-letters/{id}/redrive",
            post(deadletters::redrive_dead_letter),
        )
        .route("/v1/registry/publishers", post(registry::create_publisher))
        .route(
            "/v1/registry/publishers/{name}",
            get(registry::get_publisher),
        )
        .route(
            "/v1/registry/publishers/{name}/keys",
            post(registry::add_publisher_key),
        )
        .route(
            "/v1/registry/publishers/{name}/keys/{key_id}",
            delete(registry::revoke_publisher_key),
        )
        .route(
            "/v1/ops/registry/publishers/{name}/verify",
            post(registry::verify_publisher),
        )
        .route(
            "/v1/registry/blobs/{digest}",
            put(registry::put_blob).layer(DefaultBodyLimit::max(MAX_BLOB_BYTES)),
        )
        .route("/v1/registry/packages", get(registry::search_packages))
        .route(
            "/v1/registry/packages/{publisher}/{name}",
            get(registry::get_package),
        )
        .route(
            "/v1/registry/packages/{publisher}/{name}/versions",
            post(registry::publish_version),
        )
        .route(
            "/v1/registry/packages/{publisher}/{name}/versions/{version}",
            get(registry::get_package_version),
        )
        .route(
            "/v1/registry/packages/{publisher}/{name}/versions/{version}/yank",
            post(registry::yank_version),
        )
        .route(
            "/v1/ops/registry/packages/{publisher}/{name}/versions/{version}/takedown",
            post(registry::take_down_version),
        )
        .route(
            "/v1/registry/packages/{publisher}/{name}/use",
            post(registry::use_template),
        )
        .route(
            "/v1/installs",
            post(registry::create_install).get(registry::list_installs),
        )
        .route(
            "/v1/installs/{id}",
            get(registry::get_install).delete(registry::delete_install),
        )
        .route("/v1/installs/{id}/upgrade", post(registry::upgrade_install))
        .fallback(system::fallback)
        .layer(axum::middleware::map_response(nosniff))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Every answer is `X-Content-Type-Options: nosniff`: a JSON error that
/// echoes input is never sniffed as a page of this origin (the console's).
async fn nosniff(mut res: axum::response::Response) -> axum::response::Response {
    res.headers_mut()
        .entry(http::header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(http::HeaderValue::from_static("nosniff"));
    res
}

/// The routes of a process that serves no API (`weft worker`): `/healthz`,
/// `/readyz` and `/metrics`.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(system::get_health))
        .route("/readyz", get(system::get_ready))
        .route("/metrics", get(system::get_metrics))
        .fallback(system::not_found)
        .with_state(state)
}
