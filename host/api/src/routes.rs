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
    /// The request body.
    pub body: Option<Body>,
    /// The query string's type.
    pub query: Option<SchemaFn>,
    /// The success answers.
    pub ok: &'static [Answer],
    /// Error statuses besides those every route of its kind has (see
    /// [`Route::errors`]); all carry the error envelope.
    pub more_errors: &'static [u16],
}

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
        body: None,
        query: None,
        ok: &[],
        more_errors: &[],
    }
}
        scope: None,

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

    /// Every error status this route answers with the envelope: 400 for a bad
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
        .doc("triggers", "Start a run of the workflow whose webhook token this is; a synchronous webhook answers with its `respond` step (any status, headers and body it declares), else the run's output; an async one, or a sync one past its timeout, 202. A signed webhook (`triggers.webhook.signature`) refuses a call whose signature check fails with 401 `invalid_signature` and the failed check as `reason`, starting no run; with `triggers.webhook.dedupe`, a repeated delivery id starts no run and answers as the first delivery did (the same run).")
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
        .also(&[401, 409, 422, 429]),
    route("POST", "/resume/{token}", "post_resume")
        .doc("triggers", "Resume the waiting step this token belongs to; the body becomes its output's payload.")
        .opt_body(s::<serde_json::Value>)
        .ok(&[json(200, "Resumed.", s::<m::RunRef>)]),
    route("POST", "/v1/workflows", "create_workflow")
        .doc("workflows", "Create a workflow from a definition (JSON, or YAML with content-type application/yaml); inactive until activated.")
        .role(Role::Admin)
        .body(s::<m::Definition>, DEFINITION)
        .ok(&[json(201, "Created.", s::<m::Workflow>)]),
        .scope(Resource::Workflows, Verb::Write)
    route("GET", "/v1/workflows", "list_workflows")
        .doc("workflows", "List workflows, newest first.")
        .role(Role::Viewer)
        .query(q::<m::PageQuery>)
        .ok(&[json(200, "A page.", s::<m::Page<m::Workflow>>)]),
        .scope(Resource::Workflows, Verb::Read)
    route("POST", "/v1/workflows/validate", "validate_workflow")
        .doc("workflows", "Validate a definition without storing it; every problem by path (400 `invalid_workflow`).")
        .role(Role::Viewer)
        .body(s::<m::Definition>, DEFINITION)
        .ok(&[json(200, "Valid.", s::<m::Validation>)]),
        .scope(Resource::Workflows, Verb::Read)
    route("GET", "/v1/workflows/{id}", "get_workflow")
        .doc("workflows", "A workflow with its current definition.")
        .role(Role::Viewer)
        .ok(&[json(200, "The workflow.", s::<m::Workflow>)]),
    route("PUT", "/v1/workflows/{id}", "update_workflow")
        .scope_on(Resource::Workflows, Verb::Read, ScopeId::Path("id"))
        .doc("workflows", "Store a new version of the definition (runs keep theirs).")
        .role(Role::Admin)
        .body(s::<m::Definition>, DEFINITION)
        .ok(&[json(200, "The new version.", s::<m::Workflow>)])
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .also(&[409]),
    route("DELETE", "/v1/workflows/{id}", "delete_workflow")
        .doc("workflows", "Delete a workflow (its runs and versions stay readable).")
        .role(Role::Admin)
        .ok(NO_CONTENT),
    route("GET", "/v1/workflows/{id}/versions/{version}", "get_version")
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .doc("workflows", "One version of a workflow's definition.")
        .role(Role::Viewer)
        .ok(&[json(200, "The version.", s::<m::WorkflowVersion>)]),
    route("POST", "/v1/workflows/{id}/activate", "activate_workflow")
        .scope_on(Resource::Workflows, Verb::Read, ScopeId::Path("id"))
        .doc("workflows", "Let the webhook and the schedule start runs.")
        .role(Role::Admin)
        .ok(&[json(200, "Active.", s::<m::Workflow>)])
        .also(&[400]),
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
    route("POST", "/v1/workflows/{id}/deactivate", "deactivate_workflow")
        .doc("workflows", "Stop the webhook and the schedule.")
        .role(Role::Admin)
        .ok(&[json(200, "Inactive.", s::<m::Workflow>)]),
    route("POST", "/v1/workflows/{id}/runs", "start_run")
        .scope_on(Resource::Workflows, Verb::Write, ScopeId::Path("id"))
        .doc("runs", "Start a run by hand (an empty body is `{\"input\": null}`); with `wait_ms` the answer waits for its response or end.")
        .role(Role::Member)
        .query(q::<m::StartQuery>)
        .opt_body(s::<m::StartRun>)
        .scope_on(Resource::Runs, Verb::Start, ScopeId::Path("id"))
        .ok(&[json(201, "Started.", s::<m::Run>)])
        .also(&[429]),
    route("GET", "/v1/runs", "list_runs")
        .doc("runs", "List runs, newest first.")
        .role(Role::Viewer)
        .query(q::<m::RunsQuery>)
        .ok(&[json(200, "A page.", s::<m::Page<m::Run>>)]),
        .scope_on(Resource::Runs, Verb::Read, ScopeId::Query("workflow_id"))
    route("GET", "/v1/runs/{id}", "get_run")
        .doc("runs", "A run with its steps and the attempt journal.")
        .role(Role::Viewer)
        .ok(&[json(200, "The run, with `steps`.", s::<m::Run>)]),
    route("POST", "/v1/runs/{id}/cancel", "cancel_run")
        .scope_on(Resource::Runs, Verb::Read, ScopeId::RunOf("id"))
        .doc("runs", "Cancel a run and its sub-workflow runs.")
        .role(Role::Member)
        .ok(&[json(200, "Cancelled.", s::<m::Run>)])
        .also(&[409]),
        .scope_on(Resource::Runs, Verb::Cancel, ScopeId::RunOf("id"))
    route("POST", "/v1/runs/{id}/retry", "retry_run")
        .doc("runs", "New run reusing every result of a finished run; re-executes what failed.")
        .role(Role::Member)
        .ok(&[json(201, "The new run.", s::<m::Run>)])
        .also(&[400, 409]),
        .scope_on(Resource::Runs, Verb::Start, ScopeId::RunOf("id"))
    route("POST", "/v1/runs/{id}/rerun", "rerun_run")
        .doc("runs", "New run from a top-level step; upstream results are reused.")
        .role(Role::Member)
        .body(s::<m::Rerun>, JSON)
        .ok(&[json(201, "The new run.", s::<m::Run>)])
        .scope_on(Resource::Runs, Verb::Start, ScopeId::RunOf("id"))
        .also(&[409]),
    route("POST", "/v1/runs/{id}/steps/{key}/resume", "resume_step")
        .doc("runs", "Resume a waiting step (an empty body is `{\"payload\": null}`).")
        .role(Role::Member)
        .opt_body(s::<m::Resume>)
        .ok(&[json(200, "The run.", s::<m::Run>)])
        .scope_on(Resource::Runs, Verb::Resume, ScopeId::RunOf("id"))
        .also(&[409]),
    route("POST", "/v1/credentials", "create_credential")
        .doc("credentials", "Store a credential (sealed; never returned).")
        .role(Role::Admin)
        .body(s::<m::NewCredential>, JSON)
        .ok(&[json(201, "Stored: its metadata.", s::<m::Credential>)])
        .scope(Resource::Credentials, Verb::Write)
        .also(&[409]),
    route("GET", "/v1/credentials", "list_credentials")
        .doc("credentials", "Credentials: names and metadata only.")
        .role(Role::Viewer)
        .ok(&[json(200, "Every credential of the tenant.", s::<m::List<m::Credential>>)]),
    route("DELETE", "/v1/credentials/{id}", "delete_credential")
        .scope(Resource::Credentials, Verb::Read)
        .doc("credentials", "Delete a credential.")
        .role(Role::Admin)
        .ok(NO_CONTENT),
    route("GET", "/v1/connectors", "list_connectors")
        .scope_on(Resource::Credentials, Verb::Write, ScopeId::Path("id"))
        .doc("connectors", "Connectors with their actions and schemas.")
        .role(Role::Viewer)
        .ok(&[json(200, "Every connector.", s::<m::List<m::Connector>>)]),
    route("POST", "/v1/keys", "create_key")
        .scope(Resource::Connectors, Verb::Read)
        .doc("keys", "Create an API key (the secret is shown once).")
        .role(Role::Owner)
        .body(s::<m::NewKey>, JSON)
        .ok(&[json(201, "Created, with `secret`.", s::<m::Key>)]),
        .scope(Resource::Keys, Verb::Write)
    route("GET", "/v1/keys", "list_keys")
        .doc("keys", "API keys: prefixes and metadata.")
        .role(Role::Owner)
        .ok(&[json(200, "Every key of the tenant.", s::<m::List<m::Key>>)]),
    route("DELETE", "/v1/keys/{id}", "revoke_key")
        .scope(Resource::Keys, Verb::Read)
        .doc("keys", "Revoke an API key at once.")
        .role(Role::Owner)
        .ok(NO_CONTENT),
    route("GET", "/v1/audit", "list_audit")
        .scope_on(Resource::Keys, Verb::Write, ScopeId::Path("id"))
        .doc("keys", "The tenant's audit log, newest first.")
        .role(Role::Admin)
        .query(q::<m::AuditQuery>)
        .ok(&[json(200, "The newest entries.", s::<m::List<m::AuditEntry>>)]),
        .scope(Resource::Audit, Verb::Read)
    route("GET", "/v1/usage", "get_usage")
        .doc("usage", "The tenant's usage counters for a range of UTC days (default: this month), by day or by workflow (the CSV export is `/v1/usage.csv`).")
        .role(Role::Viewer)
        .scope(Resource::Usage, Verb::Read)
        .query(q::<m::usage::UsageQuery>)
        .ok(&[
            json(200, "The report.", s::<m::usage::UsageReport>),
        ]),
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
    route("GET", "/v1/usage", "get_usage")
        .doc("usage", "The tenant's usage counters for a range of UTC days (default: this month), by day or by workflow; `Accept: text/csv` answers the CSV export.")
        .role(Role::Viewer)
        .scope(Resource::Usage, Verb::Read)
        .query(q::<m::usage::UsageQuery>)
        .ok(&[
            json(200, "The report.", s::<m::usage::UsageReport>),
        ]),
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
        .role(Role::Admin)
        .ok(&[json(200, "At most 500.", s::<m::List<m::DeadLetter>>)]),
    route("POST", "/v1/registry/publishers", "create_publisher")
        .scope(Resource::Audit, Verb::Read)
        .doc("registry", "Create a publisher owned by this tenant (`weft` is reserved).")
        .role(Role::Admin)
        .body(s::<m::registry::NewPublisher>, JSON)
        .ok(&[json(201, "Created.", s::<m::registry::Publisher>)])
        .scope(Resource::Registry, Verb::Write)
        .also(&[409, 422]),
    route("GET", "/v1/registry/publishers/{name}", "get_publisher")
        .doc("registry", "A publisher and its public keys (publishers are public).")
        .role(Role::Viewer)
        .ok(&[json(200, "The publisher.", s::<m::registry::Publisher>)]),
    route("POST", "/v1/registry/publishers/{name}/keys", "add_publisher_key")
        .scope(Resource::Registry, Verb::Read)
        .doc("registry", "Add an ed25519 public key to one of this tenant's publishers (another tenant's publisher is not found).")
        .role(Role::Admin)
        .body(s::<m::registry::NewPublisherKey>, JSON)
        .ok(&[json(201, "Added.", s::<m::registry::PublisherKey>)])
        .scope(Resource::Registry, Verb::Write)
        .also(&[409]),
    route("DELETE", "/v1/registry/publishers/{name}/keys/{key_id}", "revoke_publisher_key")
        .doc("registry", "Revoke a key: versions it signed stay; new signatures by it are refused.")
        .role(Role::Admin)
        .ok(NO_CONTENT),
    route("POST", "/v1/registry/publishers/{name}/verify", "verify_publisher")
        .scope(Resource::Registry, Verb::Write)
        .doc("registry", "Mark a publisher verified or not (the operator: until issue 13, the owner keys of the first tenant).")
        .role(Role::Owner)
        .body(s::<m::registry::Verify>, JSON)
        .ok(&[json(200, "The publisher.", s::<m::registry::Publisher>)]),
    route("PUT", "/v1/registry/blobs/{digest}", "put_blob")
        .doc("registry", "Upload an artifact by its SHA-256 (`sha256:…`); the digest is recomputed. Storing it again is a no-op (200).")
        .role(Role::Admin)
        .body(binary, ARTIFACT)
        .ok(&[
        .scope(Resource::Registry, Verb::Write)
            json(201, "Stored.", s::<m::registry::Blob>),
            json(200, "Stored already.", s::<m::registry::Blob>),
        ])
        .also(&[422]),
    route("GET", "/v1/registry/packages", "search_packages")
        .doc("registry", "Search packages: text over name, description, keywords and README; filters by kind, publisher, verified and capability; by relevance or installs.")
        .role(Role::Viewer)
        .query(q::<m::registry::PackageQuery>)
        .ok(&[json(200, "One page.", s::<m::registry::PackagePage>)]),
        .scope(Resource::Registry, Verb::Read)
    route("GET", "/v1/registry/packages/{publisher}/{name}", "get_package")
        .doc("registry", "A package and all its versions.")
        .role(Role::Viewer)
        .ok(&[json(200, "The package.", s::<m::registry::PackageDetail>)]),
    route("POST", "/v1/registry/packages/{publisher}/{name}/versions", "publish_version")
        .scope(Resource::Registry, Verb::Read)
        .doc("registry", "Publish a signed version of an uploaded artifact: the signature (R1), the bytes (B1-B3), the world fit with every misfit (R4), `describe`, the name and version, confusable names; the disclosure is derived from the component.")
        .role(Role::Admin)
        .body(s::<m::registry::NewVersion>, JSON)
        .ok(&[json(201, "Published.", s::<m::registry::Version>)])
        .scope(Resource::Registry, Verb::Write)
        .also(&[409, 422]),
    route("GET", "/v1/registry/packages/{publisher}/{name}/versions/{version}", "get_package_version")
        .doc("registry", "One version with its capability disclosure and the digest an install consents to.")
        .role(Role::Viewer)
        .ok(&[json(200, "The version.", s::<m::registry::Version>)]),
    route("POST", "/v1/registry/packages/{publisher}/{name}/versions/{version}/yank", "yank_version")
        .scope(Resource::Registry, Verb::Read)
        .doc("registry", "Yank (or restore) a version: no new installs or upgrades to it; installs keep running.")
        .role(Role::Admin)
        .body(s::<m::registry::Yank>, JSON)
        .ok(&[json(200, "The version.", s::<m::registry::Version>)]),
        .scope(Resource::Registry, Verb::Write)
    route("POST", "/v1/registry/packages/{publisher}/{name}/versions/{version}/takedown", "take_down_version")
        .doc("registry", "Take a version down everywhere, with a reason (the operator): its steps fail `taken_down`.")
        .role(Role::Owner)
        .body(s::<m::registry::NewTakedown>, JSON)
        .ok(&[json(200, "The version.", s::<m::registry::Version>)]),
    route("POST", "/v1/registry/packages/{publisher}/{name}/use", "use_template")
        .doc("registry", "Create a workflow (inactive) from a template with its parameters; a connector the tenant lacks is named with its install.")
        .role(Role::Admin)
        .opt_body(s::<m::registry::UseTemplate>)
        .ok(&[json(201, "The workflow.", s::<m::Workflow>)])
        .scope(Resource::Workflows, Verb::Write)
        .also(&[409, 422]),
    route("POST", "/v1/installs", "create_install")
        .doc("registry", "Install a connector in this tenant, consenting to exactly the disclosure of the version (`consent`: its `disclosure_digest`).")
        .role(Role::Admin)
        .body(s::<m::registry::NewInstall>, JSON)
        .ok(&[json(201, "Installed.", s::<m::registry::Install>)])
        .scope(Resource::Installs, Verb::Write)
        .also(&[404, 409]),
    route("GET", "/v1/installs", "list_installs")
        .doc("registry", "This tenant's installs.")
        .role(Role::Viewer)
        .ok(&[json(200, "Every install.", s::<m::List<m::registry::Install>>)]),
    route("GET", "/v1/installs/{id}", "get_install")
        .scope(Resource::Installs, Verb::Read)
        .doc("registry", "One install, with a held upgrade and a takedown if any.")
        .role(Role::Viewer)
        .ok(&[json(200, "The install.", s::<m::registry::Install>)]),
    route("POST", "/v1/installs/{id}/upgrade", "upgrade_install")
        .scope_on(Resource::Installs, Verb::Read, ScopeId::Path("id"))
        .doc("registry", "Upgrade: applied at once if the new version reaches no more; held (202, with what it adds) until called with `consent` = the new `disclosure_digest` if it does.")
        .role(Role::Admin)
        .opt_body(s::<m::registry::Upgrade>)
        .ok(&[
        .scope_on(Resource::Installs, Verb::Write, ScopeId::Path("id"))
            json(200, "Applied.", s::<m::registry::Upgraded>),
            json(202, "Held for consent.", s::<m::registry::Upgraded>),
        ])
        .also(&[409]),
    route("DELETE", "/v1/installs/{id}", "delete_install")
        .doc("registry", "Uninstall; refused (409) while active workflows use it, naming them.")
        .role(Role::Admin)
        .ok(NO_CONTENT)
        .also(&[409]),
        .scope_on(Resource::Installs, Verb::Write, ScopeId::Path("id"))
    route("POST", "/v1/dead-letters/{id}/redrive", "redrive_dead_letter")
        .doc("operations", "Put a dead letter back into the queue; a step that failed as poison is re-run in a new run from that step.")
        .role(Role::Admin)
        .ok(&[json(200, "Redriven.", s::<m::Redriven>)]),
];
        .scope_on(Resource::Audit, Verb::Write, ScopeId::Path("id"))
