//! The route table: every route, once, with what it takes and what it answers.
//! The OpenAPI document and the cross-tenant (A1) test are generated from it; a
//! test checks that the router serves exactly these, and the contract test
//! (`tests/tests/api_contract.rs`) that every real answer is declared here.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use weft_model as m;
use weft_types::Role;
use weft_types::scope::{Resource, Verb};

/// Writes the schema of a type into a generator (a `$ref` for named types).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`, as a reference into `#/components/schemas` when named.
fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// The schema of a query type, inline (its properties become parameters).
fn q<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    T::json_schema(g)
}

/// A body: its schema and the content types it comes in.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    /// Its schema.
    pub schema: SchemaFn,
    /// The media types (the first is the default).
    pub content: &'static [&'static str],
    /// Whether it must be sent (an optional body may be empty).
    pub required: bool,
}

/// What one answer carries.
#[derive(Debug, Clone, Copy)]
pub enum Content {
    /// A JSON body of this schema.
    Json(SchemaFn),
    /// `text/plain` (the Prometheus text format).
    Text,
    /// `text/csv` with a header line (a usage export).
    Csv,
    /// No body.
    Empty,
    /// Whatever the workflow's `respond` step declares.
    Any,
}

/// One declared answer.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    /// The status code; 0 is OpenAPI's `default` (any other status).
    pub status: u16,
    /// When it is given.
    pub description: &'static str,
    /// What it carries.
    pub content: Content,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path, with `{param}`s.
    pub path: &'static str,
    /// Operation id (the handler's name).
    pub op: &'static str,
    /// One line for the document.
    pub summary: &'static str,
    /// Grouping.
    pub tag: &'static str,
    /// The least role of the API key it needs (the tenant comes from the key);
    /// `None`: no API key.
    pub role: Option<Role>,
    /// An operator route (`/v1/ops/…`): it takes an operator key, never a
    /// tenant's (`docs/TENANCY.md`, section 1).
    pub operator: bool,
    /// The request body.
    pub body: Option<Body>,
    /// The query string's type.
    pub query: Option<SchemaFn>,
    /// The success answers.
    pub ok: &'static [Answer],
    /// Error statuses besides those every route of its kind has (see
    /// [`Route::errors`]); all carry the error envelope.
    pub more_errors: &'static [u16],
    /// The scope a scoped API key needs for it (`docs/TENANCY.md`, section
    /// 4); `None` on a route no scoped key may call.
    pub scope: Option<RouteScope>,
}

/// The scope a route needs: a verb on a resource, about the id in `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteScope {
    /// What the route is about.
    pub resource: Resource,
    /// What it does to it.
    pub verb: Verb,
    /// Where the id an id-bound scope is compared with comes from.
    pub id: ScopeId,
}

/// Where a route's scope id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeId {
    /// The route is about no single id (a list, a create): only a scope
    /// without an id grants it.
    None,
    /// This path parameter.
    Path(&'static str),
    /// This query parameter, when given (`GET /v1/runs?workflow_id=`).
    Query(&'static str),
    /// The workflow of the run whose id is this path parameter: run scopes
    /// are bound to workflows.
    RunOf(&'static str),
}

impl RouteScope {
    /// The scope as written on a key: `runs:start:{id}`.
    pub fn pattern(&self) -> String {
        let base = format!("{}:{}", self.resource.as_str(), self.verb.as_str());
        match self.id {
            ScopeId::None => base,
            ScopeId::Path(p) | ScopeId::Query(p) => format!("{base}[:{{{p}}}]"),
            ScopeId::RunOf(_) => format!("{base}[:{{the run's workflow id}}]"),
        }
    }
}

const JSON: &[&str] = &["application/json"];
const DEFINITION: &[&str] = &["application/json", "application/yaml"];

const fn route(method: &'static str, path: &'static str, op: &'static str) -> Route {
    Route {
        method,
        path,
        op,
        summary: "",
        tag: "",
        role: None,
        operator: false,
        body: None,
        query: None,
        ok: &[],
        more_errors: &[],
        scope: None,
    }
}

impl Route {
    const fn doc(mut self, tag: &'static str, summary: &'static str) -> Self {
        self.tag = tag;
        self.summary = summary;
        self
    }
    const fn role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }
    const fn operator(mut self) -> Self {
        self.operator = true;
        self
    }
    const fn body(mut self, schema: SchemaFn, content: &'static [&'static str]) -> Self {
        self.body = Some(Body {
            schema,
            content,
            required: true,
        });
        self
    }
    const fn opt_body(mut self, schema: SchemaFn) -> Self {
        self.body = Some(Body {
            schema,
            content: JSON,
            required: false,
        });
        self
    }
    const fn query(mut self, schema: SchemaFn) -> Self {
        self.query = Some(schema);
        self
    }
    const fn ok(mut self, ok: &'static [Answer]) -> Self {
        self.ok = ok;
        self
    }
    const fn also(mut self, more: &'static [u16]) -> Self {
        self.more_errors = more;
        self
    }
    /// The scope a scoped key needs: `verb` on `resource`, any id.
    const fn scope(mut self, resource: Resource, verb: Verb) -> Self {
        self.scope = Some(RouteScope {
            resource,
            verb,
            id: ScopeId::None,
        });
        self
    }
    /// The scope a scoped key needs: `verb` on `resource`, about `id`.
    const fn scope_on(mut self, resource: Resource, verb: Verb, id: ScopeId) -> Self {
        self.scope = Some(RouteScope { resource, verb, id });
        self
    }

    /// Every error status this route answers with the envelope: 400 for a bad
    /// body or query; 401, 403 (a role too low, or out of a key's scopes), 429 (the tenant's API
    /// rate) with an API key; 404 for an unknown id in the path; 408 for a body
    /// that did not all arrive in time and 413 for one over the limit; 503 when
    /// the store does not answer or the request timeout passed; plus its own.
    pub fn errors(&self) -> Vec<u16> {
        let mut out = Vec::new();
        if self.body.is_some() || self.query.is_some() {
            out.push(400);
        }
        if self.role.is_some() {
            // 403: a role too low, or a scoped key's scopes (any route).
            out.push(401);
            out.push(403);
        }
        if self.operator {
            // No or a bad operator key; a tenant's key (`wrong_principal`).
            out.push(401);
            out.push(403);
        }
        if self.path.contains('{') {
            out.push(404);
        }
        if self.body.is_some() {
            // The body did not all arrive within the request timeout.
            out.push(408);
            out.push(413);
        }
        if self.role.is_some() {
            out.push(429);
        }
        // The store does not answer, or the answer took longer than the
        // request timeout (`weft_api::serve`): every route.
        out.push(503);
        out.extend_from_slice(self.more_errors);
        // A status the route answers with its own body (`/readyz`'s 503) is
        // documented with that body.
        out.retain(|s| !self.ok.iter().any(|a| a.status == *s));
        out.sort_unstable();
        out.dedup();
        out
    }
}

const fn json(status: u16, description: &'static str, schema: SchemaFn) -> Answer {
    Answer {
        status,
        description,
        content: Content::Json(schema),
    }
}

/// An artifact's bytes: a component, or a template's JSON document.
const ARTIFACT: &[&str] = &[
    "application/wasm",
    "application/octet-stream",
    "application/json",
];

fn binary(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({"type": "string", "format": "binary"})
}

const NO_CONTENT: &[Answer] = &[Answer {
    status: 204,
    description: "Done; no body.",
    content: Content::Empty,
}];

/// Every route the server serves.
pub const ROUTES: &[Route] = &[
    route("GET", "/healthz", "get_health")
        .doc("system", "Liveness: the process answers.")
        .ok(&[json(200, "Alive.", s::<m::Health>)]),
    route("GET", "/readyz", "get_ready")
        .doc("system", "Readiness: 503 unless the store answers; `degraded` when the queue or Redis does not.")
        .ok(&[
            json(200, "Ready or degraded.", s::<m::Ready>),
            json(503, "The store does not answer.", s::<m::Ready>),
        ]),
    route("GET", "/metrics", "get_metrics")
        .doc("system", "Metrics in the Prometheus text format.")
        .ok(&[Answer {
            status: 200,
            description: "Prometheus text format 0.0.4.",
            content: Content::Text,
        }]),
    route("GET", "/openapi.json", "get_openapi")
        .doc("system", "This document.")
        .ok(&[json(200, "The OpenAPI 3.1 document.", s::<serde_json::Map<String, serde_json::Value>>)]),
    route("POST", "/hooks/{token}", "post_hook")
        .doc("triggers", "Start a run of the workflow whose webhook token this is; a synchronous webhook answers with its `respond` step (any status, headers and body it declares), else the run's output; an async one, or a sync one past its timeout, 202. A body that does not match the workflow's `input_schema` is 422 `invalid_input` naming the field (every problem in `details`), starting no run. A signed webhook (`triggers.webhook.signature`) refuses a call whose signature check fails with 401 `invalid_signature` and the failed check as `reason`, starting no run; with `triggers.webhook.dedupe`, a repeated delivery id starts no run and answers as the first delivery did (the same run).")
        .opt_body(s::<serde_json::Value>)
        .ok(&[
            Answer {
                status: 200,
                description: "The run's `respond` step, or its output as JSON.",
                content: Content::Any,
            },
            json(202, "Accepted: async, or not answered within the timeout.", s::<m::RunRef>),
            Answer {
                status: 0,
                description: "The status the `respond` step declared.",
                content: Content::Any,
            },
        ])
        .also(&[401, 403, 409, 422, 429]),
    route("POST", "/resume/{token}", "post_resume")
        .doc("triggers", "Resume the waiting step this token belongs to; the body becomes its output's payload. 403 `tenant_suspended` while its tenant is suspended or being deleted.")
        .opt_body(s::<serde_json::Value>)
        .ok(&[json(200, "Resumed.", s::<m::RunRef>)])
        .also(&[403]),
    route("POST", "/v1/workflows", "create_workflow")
        .doc("workflows", "Create a workflow from a definition (JSON, or YAML with content-type application/yaml); inactive until activated.")
        .role(Role::Member)
        .scope(Resource::Workflows, Verb::Write)
        .body(s::<m::Definition>, DEFINITION)
        .ok(&[json(201, "Created.", s::<m::Workflow>)]),
    route("GET", "/v1/workflows", "list_workflows")
        .doc("workflows", "List workflows, newest first, each with its newest run (`last_run`, or null); `q` keeps those whose name contains it (letters A-Z in either case, other characters exactly; at most 200 characters).")
        .role(Role::Viewer)
        .scope(Resource::Workflows, Verb::Read)
        .query(q::<m::WorkflowsQuery>)
        .ok(&[json(200, "A page.", s::<m::Page<m::Workflow>>)]),
    route("POST", "/v1/workflows/validate", "validate_workflow")
        .doc("workflows", "Validate a definition without storing it; every problem by path (400 `invalid_workflow`).")
        .role(Role::Viewer)
        .scope(Resource::Workflows, Verb::Read)
        .body(s::<m::Definition>, DEFINITION)
        .ok(&[json(200, "Valid.", s::<m::Validation>)]),
    route("POST", "/v1/workflows/import/n8n", "import_n8n")
        .doc("workflows", "Turn an n8n workflow export into a Weft definition, without storing it: the definition (save it with `POST /v1/workflows`) and, node by node, what was not mapped, what differs and which credentials to bind (docs/IMPORT.md). 400 `invalid_request` naming what makes the body no n8n export.")
        .role(Role::Viewer)
        .scope(Resource::Workflows, Verb::Read)
        .body(s::<m::ImportN8n>, JSON)
        .ok(&[json(200, "The definition and the notes.", s::<m::Imported>)]),
    route("GET", "/v1/workflows/{id}", "get_workflow")
        .doc("workflows", "A workflow with its current definition.")
        .role(Role::Viewer)
        .scope_on(Resource::Workflows, Verb::Read, ScopeId::Path("id"))
        .ok(&[json(200, "The workflow.", s::<m::Workflow>)]),
    route("PUT", "/v1/workflows/{id}", "update_workflow")
        .doc("workflows", "Store a new version of the definition (runs keep theirs).")
        .role(Role::Member)
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .body(s::<m::Definition>, DEFINITION)
        .ok(&[json(200, "The new version.", s::<m::Workflow>)])
        .also(&[409]),
    route("DELETE", "/v1/workflows/{id}", "delete_workflow")
        .doc("workflows", "Delete a workflow (its runs and versions stay readable).")
        .role(Role::Member)
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .ok(NO_CONTENT),
    route("GET", "/v1/workflows/{id}/versions/{version}", "get_version")
        .doc("workflows", "One version of a workflow's definition.")
        .role(Role::Viewer)
        .scope_on(Resource::Workflows, Verb::Read, ScopeId::Path("id"))
        .ok(&[json(200, "The version.", s::<m::WorkflowVersion>)]),
    route("POST", "/v1/workflows/{id}/activate", "activate_workflow")
        .doc("workflows", "Let the webhook and the schedule start runs.")
        .role(Role::Member)
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .ok(&[json(200, "Active.", s::<m::Workflow>)])
        .also(&[400]),
    route("POST", "/v1/workflows/{id}/deactivate", "deactivate_workflow")
        .doc("workflows", "Stop the webhook and the schedule.")
        .role(Role::Member)
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .ok(&[json(200, "Inactive.", s::<m::Workflow>)]),
    route("POST", "/v1/workflows/{id}/runs", "start_run")
        .doc("runs", "Start a run by hand (an empty body is `{\"input\": null}`); an `input` that does not match the workflow's `input_schema` is 422 `invalid_input` naming the field, every problem in `details`, and starts nothing; with `until` (a top-level step id), a test run: only that step and the steps it depends on run, every other step is skipped, the run completes when that step ends (with its output), starts no error workflow and notifies nobody; an unknown step, or one inside a loop body, is 400 naming it. With `wait_ms` the answer waits for its response or end.")
        .role(Role::Member)
        .scope_on(Resource::Runs, Verb::Start, ScopeId::Path("id"))
        .query(q::<m::StartQuery>)
        .opt_body(s::<m::StartRun>)
        .ok(&[json(201, "Started.", s::<m::Run>)])
        .also(&[422, 429]),
    route("GET", "/v1/runs", "list_runs")
        .doc("runs", "List runs, newest first; the filters combine: `workflow_id`, `status`, `trigger`, and the creation time `from` (included) and `to` (excluded), Unix milliseconds.")
        .role(Role::Viewer)
        .scope_on(Resource::Runs, Verb::Read, ScopeId::Query("workflow_id"))
        .query(q::<m::RunsQuery>)
        .ok(&[json(200, "A page.", s::<m::Page<m::Run>>)]),
    route("GET", "/v1/runs/stats", "get_run_stats")
        .doc("runs", "The tenant's runs created in a window (`from` included, `to` excluded, Unix milliseconds; default: the last 24 hours, ending at the next whole bucket), counted per bucket of `bucket_ms` (default an hour, at least a second) and per status now, and the ten busiest workflows with their failed runs. At most 366 buckets and 90 days (400 naming the parameter past that).")
        .role(Role::Viewer)
        .scope(Resource::Runs, Verb::Read)
        .query(q::<m::stats::RunStatsQuery>)
        .ok(&[json(200, "The counts.", s::<m::stats::RunStats>)]),
    route("GET", "/v1/runs/{id}", "get_run")
        .doc("runs", "A run with its steps and the attempt journal.")
        .role(Role::Viewer)
        .scope_on(Resource::Runs, Verb::Read, ScopeId::RunOf("id"))
        .ok(&[json(200, "The run, with `steps`.", s::<m::Run>)]),
    route("POST", "/v1/runs/{id}/cancel", "cancel_run")
        .doc("runs", "Cancel a run and its sub-workflow runs.")
        .role(Role::Member)
        .scope_on(Resource::Runs, Verb::Cancel, ScopeId::RunOf("id"))
        .ok(&[json(200, "Cancelled.", s::<m::Run>)])
        .also(&[409]),
    route("POST", "/v1/runs/{id}/retry", "retry_run")
        .doc("runs", "New run reusing every result of a finished run; re-executes what failed.")
        .role(Role::Member)
        .scope_on(Resource::Runs, Verb::Start, ScopeId::RunOf("id"))
        .ok(&[json(201, "The new run.", s::<m::Run>)])
        .also(&[400, 409]),
    route("POST", "/v1/runs/{id}/rerun", "rerun_run")
        .doc("runs", "New run from a top-level step; upstream results are reused.")
        .role(Role::Member)
        .scope_on(Resource::Runs, Verb::Start, ScopeId::RunOf("id"))
        .body(s::<m::Rerun>, JSON)
        .ok(&[json(201, "The new run.", s::<m::Run>)])
        .also(&[409]),
    route("POST", "/v1/runs/{id}/steps/{key}/resume", "resume_step")
        .doc("runs", "Resume a waiting step (an empty body is `{\"payload\": null}`).")
        .role(Role::Member)
        .scope_on(Resource::Runs, Verb::Resume, ScopeId::RunOf("id"))
        .opt_body(s::<m::Resume>)
        .ok(&[json(200, "The run.", s::<m::Run>)])
        .also(&[409]),
    route("POST", "/v1/credentials", "create_credential")
        .doc("credentials", "Store a credential (sealed; never returned).")
        .role(Role::Admin)
        .scope(Resource::Credentials, Verb::Write)
        .body(s::<m::NewCredential>, JSON)
        .ok(&[json(201, "Stored: its metadata.", s::<m::Credential>)])
        .also(&[409]),
    route("GET", "/v1/credentials", "list_credentials")
        .doc("credentials", "Credentials: names and metadata only.")
        .role(Role::Viewer)
        .scope(Resource::Credentials, Verb::Read)
        .ok(&[json(200, "Every credential of the tenant.", s::<m::List<m::Credential>>)]),
    route("DELETE", "/v1/credentials/{id}", "delete_credential")
        .doc("credentials", "Delete a credential.")
        .role(Role::Admin)
        .scope_on(Resource::Credentials, Verb::Write, ScopeId::Path("id"))
        .ok(NO_CONTENT),
    route("POST", "/v1/credentials/{id}/authorize", "authorize_credential")
        .doc("credentials", "Start authorizing an OAuth2 credential (authorization_code grant, PKCE S256): the provider URL to open in a browser. The answer comes back to `/oauth/callback` within 10 minutes, once. 409 when the credential is not OAuth2 or uses client_credentials.")
        .role(Role::Admin)
        .scope_on(Resource::Credentials, Verb::Write, ScopeId::Path("id"))
        .ok(&[json(200, "Where to send the user.", s::<m::CredentialAuthorization>)])
        .also(&[409]),
    route("GET", "/oauth/callback", "oauth_callback")
        .doc("credentials", "Where the OAuth2 provider sends the browser back (no API key: the single-use `state` names the credential). Exchanges the code, seals the tokens, and answers a small HTML page saying it worked or why not.")
        .query(q::<m::OAuthCallbackQuery>)
        .ok(&[
            Answer {
                status: 200,
                description: "An HTML page: authorized.",
                content: Content::Any,
            },
            Answer {
                status: 400,
                description: "An HTML page: why not.",
                content: Content::Any,
            },
        ]),
    route("POST", "/v1/notifications/rules", "create_notification_rule")
        .doc("notifications", "Create a notification rule: a signed webhook for a run event (`run_failed`, `run_waiting`, `run_recovered`) of one workflow or all; the signing secret is in this answer only. 409 when the tenant has `worker.notifications.max_rules` rules (100 by default).")
        .role(Role::Admin)
        .scope(Resource::Notifications, Verb::Write)
        .body(s::<m::notifications::NewNotificationRule>, JSON)
        .ok(&[json(201, "Created, with `signing_secret`.", s::<m::notifications::NotificationRule>)])
        .also(&[409]),
    route("GET", "/v1/notifications/rules", "list_notification_rules")
        .doc("notifications", "The tenant's notification rules, oldest first (no secret).")
        .role(Role::Viewer)
        .scope(Resource::Notifications, Verb::Read)
        .ok(&[json(200, "Every rule.", s::<m::List<m::notifications::NotificationRule>>)]),
    route("GET", "/v1/notifications/rules/{id}", "get_notification_rule")
        .doc("notifications", "One notification rule (no secret).")
        .role(Role::Viewer)
        .scope_on(Resource::Notifications, Verb::Read, ScopeId::Path("id"))
        .ok(&[json(200, "The rule.", s::<m::notifications::NotificationRule>)]),
    route("PATCH", "/v1/notifications/rules/{id}", "update_notification_rule")
        .doc("notifications", "Change a rule's workflow, event, URL or `enabled`; `rotate_secret` makes a new signing secret, in this answer only.")
        .role(Role::Admin)
        .scope_on(Resource::Notifications, Verb::Write, ScopeId::Path("id"))
        .body(s::<m::notifications::NotificationRulePatch>, JSON)
        .ok(&[json(200, "The rule.", s::<m::notifications::NotificationRule>)]),
    route("DELETE", "/v1/notifications/rules/{id}", "delete_notification_rule")
        .doc("notifications", "Delete a rule; its deliveries stay listed (a pending one fails when tried).")
        .role(Role::Admin)
        .scope_on(Resource::Notifications, Verb::Write, ScopeId::Path("id"))
        .ok(NO_CONTENT),
    route("GET", "/v1/notifications/deliveries", "list_notification_deliveries")
        .doc("notifications", "Deliveries, newest first: status, tries (time, HTTP status, error), next try.")
        .role(Role::Viewer)
        .scope(Resource::Notifications, Verb::Read)
        .query(q::<m::notifications::DeliveriesQuery>)
        .ok(&[json(200, "A page.", s::<m::Page<m::notifications::NotificationDelivery>>)]),
    route("GET", "/v1/connectors", "list_connectors")
        .doc("connectors", "Connectors with their actions and schemas.")
        .role(Role::Viewer)
        .scope(Resource::Connectors, Verb::Read)
        .ok(&[json(200, "Every connector.", s::<m::List<m::Connector>>)]),
    route("POST", "/v1/keys", "create_key")
        .doc("keys", "Create an API key (the secret is shown once).")
        .role(Role::Owner)
        .scope(Resource::Keys, Verb::Write)
        .body(s::<m::NewKey>, JSON)
        .ok(&[json(201, "Created, with `secret`.", s::<m::Key>)]),
    route("GET", "/v1/keys", "list_keys")
        .doc("keys", "API keys: prefixes and metadata.")
        .role(Role::Owner)
        .scope(Resource::Keys, Verb::Read)
        .ok(&[json(200, "Every key of the tenant.", s::<m::List<m::Key>>)]),
    route("DELETE", "/v1/keys/{id}", "revoke_key")
        .doc("keys", "Revoke an API key at once.")
        .role(Role::Owner)
        .scope_on(Resource::Keys, Verb::Write, ScopeId::Path("id"))
        .ok(NO_CONTENT),
    route("POST", "/v1/auth/login", "login")
        .doc("people", "Log in with an email and a password: sets the `weft_session` cookie (HttpOnly, Secure, SameSite=Lax) and answers the session with its CSRF token. A wrong email or password is one answer (401); failures are throttled per account (an exponential wait, at most 15 min, never a lock) and per address (429 with Retry-After). A cross-site `Origin` is refused (403 `csrf`).")
        .body(s::<m::people::Login>, JSON)
        .ok(&[json(200, "Signed in.", s::<m::people::SessionInfo>)])
        .also(&[401, 403, 422, 429]),
    route("POST", "/v1/auth/logout", "logout")
        .doc("people", "End the session at once (needs `X-CSRF-Token`).")
        .ok(NO_CONTENT)
        .also(&[401, 403]),
    route("GET", "/v1/auth/session", "get_session")
        .doc("people", "The signed-in user, the tenant the session acts in, every membership, and the CSRF token.")
        .ok(&[json(200, "The session.", s::<m::people::SessionInfo>)])
        .also(&[401]),
    route("POST", "/v1/auth/switch", "switch_tenant")
        .doc("people", "Act in another of the user's tenants: a new session id (the old one is revoked) and cookie (needs `X-CSRF-Token`).")
        .body(s::<m::people::SwitchTenant>, JSON)
        .ok(&[json(200, "Switched.", s::<m::people::SessionInfo>)])
        .also(&[401, 403, 422]),
    route("POST", "/v1/auth/accept-invitation", "accept_invitation")
        .doc("people", "Accept an invitation (single use, expiring): creates the user, or adds the membership to an existing account whose password is given; starts a session.")
        .body(s::<m::people::AcceptInvitation>, JSON)
        .ok(&[json(201, "Joined and signed in.", s::<m::people::SessionInfo>)])
        .also(&[401, 403, 409, 422]),
    route("POST", "/v1/auth/reset", "reset_password")
        .doc("people", "Use a password reset link (single use, one hour): sets the password, ends every session of the user, clears the login throttle.")
        .body(s::<m::people::ResetPassword>, JSON)
        .ok(NO_CONTENT)
        .also(&[403, 422]),
    route("POST", "/v1/auth/totp/setup", "setup_totp")
        .doc("people", "Set up TOTP (RFC 6238: SHA1, 6 digits, 30 s) for the signed-in user, proven by the account's password again (a wrong one is 422 `invalid_password` and counts as a failed login): a new secret in base32 and an `otpauth://` URI, shown once, not active until confirmed (needs `X-CSRF-Token`). 409 when TOTP is on already.")
        .body(s::<m::people::TotpSetupRequest>, JSON)
        .ok(&[json(201, "Set up, pending.", s::<m::people::TotpSetup>)])
        .also(&[401, 403, 409, 422, 429]),
    route("POST", "/v1/auth/totp/confirm", "confirm_totp")
        .doc("people", "Confirm the pending TOTP secret with a current code: from now on login needs `totp`; the session is rotated (a new cookie, the old id revoked). A wrong or used code is 422 `totp_invalid`.")
        .body(s::<m::people::TotpConfirm>, JSON)
        .ok(&[json(200, "On; the new session.", s::<m::people::SessionInfo>)])
        .also(&[401, 403, 409, 422]),
    route("DELETE", "/v1/auth/totp", "delete_totp")
        .doc("people", "Turn TOTP off, proven by a current `code` or the `password` (a wrong one counts as a failed login). A password reset link does not turn it off; the operator can (`POST /v1/ops/users/totp/remove`).")
        .body(s::<m::people::TotpDisable>, JSON)
        .ok(NO_CONTENT)
        .also(&[401, 403, 409, 422, 429]),
    route("GET", "/v1/members", "list_members")
        .doc("people", "The tenant's members and their roles.")
        .role(Role::Member)
        .scope(Resource::Members, Verb::Read)
        .ok(&[json(200, "Every member.", s::<m::List<m::people::Member>>)]),
    route("PATCH", "/v1/members/{user_id}", "update_member")
        .doc("people", "Change a member's role (owners only); their sessions in this tenant end. The last owner cannot be demoted (409).")
        .role(Role::Owner)
        .scope_on(Resource::Members, Verb::Write, ScopeId::Path("user_id"))
        .body(s::<m::people::MemberPatch>, JSON)
        .ok(&[json(200, "The member.", s::<m::people::Member>)])
        .also(&[409]),
    route("DELETE", "/v1/members/{user_id}", "remove_member")
        .doc("people", "Remove a member (owners only); their sessions in this tenant end at once. The last owner cannot be removed (409).")
        .role(Role::Owner)
        .scope_on(Resource::Members, Verb::Write, ScopeId::Path("user_id"))
        .ok(NO_CONTENT)
        .also(&[409]),
    route("POST", "/v1/members/{user_id}/reset", "reset_member")
        .doc("people", "Issue a one-time password reset link for a member (admins for members and viewers, owners for anyone) who belongs to no other tenant; the token is shown once. Not from an API key with scopes or an expiry (403 `scope`): the link would outlive its limits. The link stops working if its issuer loses the role to issue it.")
        .role(Role::Admin)
        .ok(&[json(201, "Issued, with `token`.", s::<m::people::Invitation>)])
        .also(&[422]),
    route("POST", "/v1/invitations", "create_invitation")
        .doc("people", "Invite someone with a role (owners: any; admins: member or viewer), optionally bound to an email; the one-time token is shown once. Not from an API key with scopes or an expiry (403 `scope`): the membership would outlive its limits.")
        .role(Role::Admin)
        .body(s::<m::people::NewInvitation>, JSON)
        .ok(&[json(201, "Issued, with `token`.", s::<m::people::Invitation>)]),
    route("GET", "/v1/invitations", "list_invitations")
        .doc("people", "Open invitations (unused, unexpired), newest first.")
        .role(Role::Admin)
        .scope(Resource::Members, Verb::Read)
        .ok(&[json(200, "Every open invitation.", s::<m::List<m::people::Invitation>>)]),
    route("DELETE", "/v1/invitations/{id}", "delete_invitation")
        .doc("people", "Revoke an unused invitation.")
        .role(Role::Admin)
        .scope_on(Resource::Members, Verb::Write, ScopeId::Path("id"))
        .ok(NO_CONTENT),
    route("GET", "/v1/audit", "list_audit")
        .doc("keys", "The tenant's audit log, newest first.")
        .role(Role::Admin)
        .scope(Resource::Audit, Verb::Read)
        .query(q::<m::AuditQuery>)
        .ok(&[json(200, "The newest entries.", s::<m::List<m::AuditEntry>>)]),
    route("GET", "/v1/usage", "get_usage")
        .doc("usage", "The tenant's usage counters for a range of UTC days (default: this month), by day or by workflow (the CSV export is `/v1/usage.csv`).")
        .role(Role::Viewer)
        .scope(Resource::Usage, Verb::Read)
        .query(q::<m::usage::UsageQuery>)
        .ok(&[
            json(200, "The report.", s::<m::usage::UsageReport>),
        ]),
    route("GET", "/v1/tenant", "get_tenant")
        .doc("usage", "The caller's own tenant: its state, the operator's overrides, the limits in force for it (the overrides over the deployment's settings, as the server enforces them; null where nothing limits), its runs not ended, and each usage quota with its limit, what this period used and when it resets. A scoped key needs `usage:read`: these are what `/v1/usage` is measured against.")
        .role(Role::Viewer)
        .scope(Resource::Usage, Verb::Read)
        .ok(&[json(200, "The tenant.", s::<m::tenant::OwnTenant>)]),
    route("GET", "/v1/usage.csv", "get_usage_csv")
        .doc("usage", "The tenant's usage report as CSV: a header line, one line per day or workflow, then a `total` line.")
        .role(Role::Viewer)
        .scope(Resource::Usage, Verb::Read)
        .query(q::<m::usage::UsageQuery>)
        .ok(&[Answer {
            status: 200,
            description: "CSV (RFC 4180), `text/csv`.",
            content: Content::Csv,
        }]),
    route("GET", "/v1/dead-letters", "list_dead_letters")
        .doc("operations", "The tenant's dead-lettered step tasks (poison steps), oldest first.")
        .role(Role::Admin)
        .scope(Resource::Audit, Verb::Read)
        .ok(&[json(200, "At most 500.", s::<m::List<m::DeadLetter>>)]),
    route("POST", "/v1/registry/publishers", "create_publisher")
        .doc("registry", "Create a publisher owned by this tenant (`weft` is reserved).")
        .role(Role::Admin)
        .scope(Resource::Registry, Verb::Write)
        .body(s::<m::registry::NewPublisher>, JSON)
        .ok(&[json(201, "Created.", s::<m::registry::Publisher>)])
        .also(&[409, 422]),
    route("GET", "/v1/registry/publishers/{name}", "get_publisher")
        .doc("registry", "A publisher and its public keys (publishers are public).")
        .role(Role::Viewer)
        .scope(Resource::Registry, Verb::Read)
        .ok(&[json(200, "The publisher.", s::<m::registry::Publisher>)]),
    route("POST", "/v1/registry/publishers/{name}/keys", "add_publisher_key")
        .doc("registry", "Add an ed25519 public key to one of this tenant's publishers (another tenant's publisher is not found).")
        .role(Role::Admin)
        .scope(Resource::Registry, Verb::Write)
        .body(s::<m::registry::NewPublisherKey>, JSON)
        .ok(&[json(201, "Added.", s::<m::registry::PublisherKey>)])
        .also(&[409]),
    route("DELETE", "/v1/registry/publishers/{name}/keys/{key_id}", "revoke_publisher_key")
        .doc("registry", "Revoke a key: versions it signed stay; new signatures by it are refused.")
        .role(Role::Admin)
        .scope(Resource::Registry, Verb::Write)
        .ok(NO_CONTENT),
    route("PUT", "/v1/registry/blobs/{digest}", "put_blob")
        .doc("registry", "Upload an artifact by its SHA-256 (`sha256:…`); the digest is recomputed. Storing it again is a no-op (200).")
        .role(Role::Admin)
        .scope(Resource::Registry, Verb::Write)
        .body(binary, ARTIFACT)
        .ok(&[
            json(201, "Stored.", s::<m::registry::Blob>),
            json(200, "Stored already.", s::<m::registry::Blob>),
        ])
        .also(&[422]),
    route("GET", "/v1/registry/packages", "search_packages")
        .doc("registry", "Search packages: text over name, description, keywords and README; filters by kind, publisher, verified and capability; by relevance or installs.")
        .role(Role::Viewer)
        .scope(Resource::Registry, Verb::Read)
        .query(q::<m::registry::PackageQuery>)
        .ok(&[json(200, "One page.", s::<m::registry::PackagePage>)]),
    route("GET", "/v1/registry/packages/{publisher}/{name}", "get_package")
        .doc("registry", "A package and all its versions.")
        .role(Role::Viewer)
        .scope(Resource::Registry, Verb::Read)
        .ok(&[json(200, "The package.", s::<m::registry::PackageDetail>)]),
    route("POST", "/v1/registry/packages/{publisher}/{name}/versions", "publish_version")
        .doc("registry", "Publish a signed version of an uploaded artifact: the signature (R1), the bytes (B1-B3), the world fit with every misfit (R4), `describe`, the name and version, confusable names; the disclosure is derived from the component.")
        .role(Role::Admin)
        .scope(Resource::Registry, Verb::Write)
        .body(s::<m::registry::NewVersion>, JSON)
        .ok(&[json(201, "Published.", s::<m::registry::Version>)])
        .also(&[409, 422]),
    route("GET", "/v1/registry/packages/{publisher}/{name}/versions/{version}", "get_package_version")
        .doc("registry", "One version with its capability disclosure and the digest an install consents to.")
        .role(Role::Viewer)
        .scope(Resource::Registry, Verb::Read)
        .ok(&[json(200, "The version.", s::<m::registry::Version>)]),
    route("POST", "/v1/registry/packages/{publisher}/{name}/versions/{version}/yank", "yank_version")
        .doc("registry", "Yank (or restore) a version: no new installs or upgrades to it; installs keep running.")
        .role(Role::Admin)
        .scope(Resource::Registry, Verb::Write)
        .body(s::<m::registry::Yank>, JSON)
        .ok(&[json(200, "The version.", s::<m::registry::Version>)]),
    route("POST", "/v1/registry/packages/{publisher}/{name}/use", "use_template")
        .doc("registry", "Create a workflow (inactive) from a template with its parameters; a connector the tenant lacks is named with its install.")
        .role(Role::Admin)
        .scope(Resource::Workflows, Verb::Write)
        .opt_body(s::<m::registry::UseTemplate>)
        .ok(&[json(201, "The workflow.", s::<m::Workflow>)])
        .also(&[409, 422]),
    route("POST", "/v1/installs", "create_install")
        .doc("registry", "Install a connector in this tenant, consenting to exactly the disclosure of the version (`consent`: its `disclosure_digest`).")
        .role(Role::Admin)
        .scope(Resource::Installs, Verb::Write)
        .body(s::<m::registry::NewInstall>, JSON)
        .ok(&[json(201, "Installed.", s::<m::registry::Install>)])
        .also(&[404, 409]),
    route("GET", "/v1/installs", "list_installs")
        .doc("registry", "This tenant's installs.")
        .role(Role::Viewer)
        .scope(Resource::Installs, Verb::Read)
        .ok(&[json(200, "Every install.", s::<m::List<m::registry::Install>>)]),
    route("GET", "/v1/installs/{id}", "get_install")
        .doc("registry", "One install, with a held upgrade and a takedown if any.")
        .role(Role::Viewer)
        .scope_on(Resource::Installs, Verb::Read, ScopeId::Path("id"))
        .ok(&[json(200, "The install.", s::<m::registry::Install>)]),
    route("POST", "/v1/installs/{id}/upgrade", "upgrade_install")
        .doc("registry", "Upgrade: applied at once if the new version reaches no more; held (202, with what it adds) until called with `consent` = the new `disclosure_digest` if it does.")
        .role(Role::Admin)
        .scope_on(Resource::Installs, Verb::Write, ScopeId::Path("id"))
        .opt_body(s::<m::registry::Upgrade>)
        .ok(&[
            json(200, "Applied.", s::<m::registry::Upgraded>),
            json(202, "Held for consent.", s::<m::registry::Upgraded>),
        ])
        .also(&[409]),
    route("DELETE", "/v1/installs/{id}", "delete_install")
        .doc("registry", "Uninstall; refused (409) while active workflows use it, naming them.")
        .role(Role::Admin)
        .scope_on(Resource::Installs, Verb::Write, ScopeId::Path("id"))
        .ok(NO_CONTENT)
        .also(&[409]),
    route("POST", "/v1/ops/tenants", "op_create_tenant")
        .doc("operator", "Create a tenant with an owner key (its secret is in this answer only, as `owner_key`).")
        .operator()
        .body(s::<m::ops::NewTenant>, JSON)
        .ok(&[json(201, "Created, with `owner_key`.", s::<m::ops::Tenant>)]),
    route("GET", "/v1/ops/tenants", "op_list_tenants")
        .doc("operator", "Every tenant with its state and overrides, oldest first.")
        .operator()
        .ok(&[json(200, "Every tenant.", s::<m::List<m::ops::Tenant>>)]),
    route("GET", "/v1/ops/tenants/{id}", "op_get_tenant")
        .doc("operator", "One tenant with its state and overrides.")
        .operator()
        .ok(&[json(200, "The tenant.", s::<m::ops::Tenant>)]),
    route("PATCH", "/v1/ops/tenants/{id}", "op_update_tenant")
        .doc("operator", "Rename a tenant and/or replace its overrides (`limits`; an unknown key is refused naming it); applies within 5 s on every process.")
        .operator()
        .body(s::<m::ops::TenantPatch>, JSON)
        .ok(&[json(200, "The tenant.", s::<m::ops::Tenant>)])
        .also(&[409]),
    route("DELETE", "/v1/ops/tenants/{id}", "op_delete_tenant")
        .doc("operator", "Delete a tenant: refused at once like a suspended one; erased after `worker.tenant_erase_grace_ms` unless resumed before. Refused (409) once erasing, which is final.")
        .operator()
        .ok(&[json(202, "Deleting, with `erase_after`.", s::<m::ops::Tenant>)])
        .also(&[409]),
    route("POST", "/v1/ops/tenants/{id}/suspend", "op_suspend_tenant")
        .doc("operator", "Suspend a tenant: its keys answer 403 `tenant_suspended` with the reason, its webhooks start no run.")
        .operator()
        .body(s::<m::ops::Suspend>, JSON)
        .ok(&[json(200, "Suspended.", s::<m::ops::Tenant>)])
        .also(&[409]),
    route("POST", "/v1/ops/tenants/{id}/resume", "op_resume_tenant")
        .doc("operator", "Make a suspended tenant active again, or cancel a delete during its grace period.")
        .operator()
        .ok(&[json(200, "Active.", s::<m::ops::Tenant>)])
        .also(&[409]),
    route("POST", "/v1/ops/keys", "op_create_key")
        .doc("operator", "Create an operator key (the secret is in this answer only).")
        .operator()
        .body(s::<m::ops::NewOperatorKey>, JSON)
        .ok(&[json(201, "Created, with `secret`.", s::<m::ops::OperatorKey>)]),
    route("GET", "/v1/ops/keys", "op_list_keys")
        .doc("operator", "Operator keys: prefixes and metadata.")
        .operator()
        .ok(&[json(200, "Every operator key.", s::<m::List<m::ops::OperatorKey>>)]),
    route("DELETE", "/v1/ops/keys/{id}", "op_revoke_key")
        .doc("operator", "Revoke an operator key at once (not the last one: 409).")
        .operator()
        .ok(NO_CONTENT)
        .also(&[409]),
    route("POST", "/v1/ops/tenants/{id}/invitations", "op_invite")
        .doc("operator", "Invite someone into a tenant (role `owner` unless given; optionally bound to an email): the one-time token is in this answer only; accepted with `POST /v1/auth/accept-invitation`. Refused for a tenant being deleted (422 `tenant_deleted`) or erasing (409).")
        .operator()
        .body(s::<m::ops::TenantInvitation>, JSON)
        .ok(&[json(201, "Issued, with `token`.", s::<m::people::Invitation>)])
        .also(&[409, 422]),
    route("POST", "/v1/ops/users/reset", "op_reset_user")
        .doc("operator", "Issue a one-time password reset link for the user with this email, whatever their tenants; used with `POST /v1/auth/reset`.")
        .operator()
        .body(s::<m::ops::UserReset>, JSON)
        .ok(&[json(201, "Issued, with `token`.", s::<m::people::Invitation>)])
        .also(&[404]),
    route("POST", "/v1/ops/users/totp/remove", "op_remove_totp")
        .doc("operator", "Turn off the TOTP of the user with this email (a lost device), whatever their tenants; in the operator audit log and the user's tenant's.")
        .operator()
        .body(s::<m::ops::UserReset>, JSON)
        .ok(NO_CONTENT)
        .also(&[404]),
    route("GET", "/v1/ops/usage", "op_get_usage")
        .doc("operator", "Every tenant's usage counters for a range of UTC days (default: this month), by tenant and day or workflow (the CSV export is `/v1/ops/usage.csv`).")
        .operator()
        .query(q::<m::usage::UsageQuery>)
        .ok(&[json(200, "The report, each line with `tenant_id`.", s::<m::usage::UsageReport>)]),
    route("GET", "/v1/ops/usage.csv", "op_get_usage_csv")
        .doc("operator", "Every tenant's usage as CSV: a header line, one line per tenant and day or workflow, then a `total` line.")
        .operator()
        .query(q::<m::usage::UsageQuery>)
        .ok(&[Answer {
            status: 200,
            description: "CSV (RFC 4180), `text/csv`.",
            content: Content::Csv,
        }]),
    route("POST", "/v1/ops/registry/publishers/{name}/verify", "op_verify_publisher")
        .doc("operator", "Mark a registry publisher verified or not; in the operator audit log.")
        .operator()
        .body(s::<m::registry::Verify>, JSON)
        .ok(&[json(200, "The publisher.", s::<m::registry::Publisher>)]),
    route("POST", "/v1/ops/registry/packages/{publisher}/{name}/versions/{version}/takedown", "op_take_down_version")
        .doc("operator", "Take a registry version down everywhere, with a reason: its steps fail `taken_down`; in the operator audit log and the audit log of every tenant that installed it.")
        .operator()
        .body(s::<m::registry::NewTakedown>, JSON)
        .ok(&[json(200, "The version.", s::<m::registry::Version>)]),
    route("GET", "/v1/ops/audit", "op_list_audit")
        .doc("operator", "The operator audit log, newest first (actor `op:<key id>`, or `op:sweeper`).")
        .operator()
        .query(q::<m::AuditQuery>)
        .ok(&[json(200, "The newest entries.", s::<m::List<m::AuditEntry>>)]),
    route("POST", "/v1/dead-letters/{id}/redrive", "redrive_dead_letter")
        .doc("operations", "Put a dead letter back into the queue; a step that failed as poison is re-run in a new run from that step.")
        .role(Role::Admin)
        .scope_on(Resource::Audit, Verb::Write, ScopeId::Path("id"))
        .ok(&[json(200, "Redriven.", s::<m::Redriven>)]),
];
