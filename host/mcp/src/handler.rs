//! [`Weft`], the MCP server handler: which caller a request is from (the
//! API key's, put into the request by the guard; or the one `weft mcp` runs
//! as), and the protocol's tool and resource methods over the application.

use crate::errors::{internal, unknown_tool};
use crate::{Options, resources, tools, workflow_tools};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use std::sync::Arc;
use weft_app::{Actor, App};

/// What the server tells a client about itself.
const INSTRUCTIONS: &str = "Weft runs workflows: each step a sandboxed WebAssembly connector. \
    Workflows exposed to MCP are tools of their own (their input schema is the workflow's). \
    To build one: read the resource weft://docs/workflows, call list_connectors for the \
    actions and their input schemas, check a draft with validate_workflow until it is valid, \
    then create_workflow, run_workflow to try it, and set_workflow_active. Runs that outlast \
    a call are finished with get_run.";

/// The MCP server of one process (HTTP: one per request or session; stdio:
/// one for the connection).
#[derive(Clone)]
pub struct Weft {
    app: App,
    base_url: Arc<str>,
    options: Arc<Options>,
    /// The caller of every request (stdio); `None`: each HTTP request's own.
    actor: Option<Actor>,
}

/// One tool call's context: the use cases, the caller, and the request (its
/// cancellation, its progress token, the peer to notify).
pub struct Call<'a> {
    /// The use cases.
    pub app: &'a App,
    /// The caller.
    pub actor: &'a Actor,
    /// The public base URL (webhook URLs in answers).
    pub base_url: &'a str,
    /// The settings.
    pub options: &'a Options,
    /// The request.
    pub context: &'a RequestContext<RoleServer>,
}

impl Weft {
    /// A handler over `app`; `actor` fixes the caller (stdio).
    pub fn new(app: App, base_url: Arc<str>, options: Arc<Options>, actor: Option<Actor>) -> Self {
        Self {
            app,
            base_url,
            options,
            actor,
        }
    }

    /// The caller of the request: the fixed one, or the one the guard found.
    fn actor(&self, context: &RequestContext<RoleServer>) -> Result<Actor, ErrorData> {
        if let Some(a) = &self.actor {
            return Ok(a.clone());
        }
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Actor>())
            .cloned()
            .ok_or_else(|| internal("the request carries no authenticated caller"))
    }
}

impl ServerHandler for Weft {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        );
        let mut me = Implementation::new("weft", env!("CARGO_PKG_VERSION"));
        me.title = Some("Weft".to_owned());
        me.description =
            Some("Workflow automation: every step a sandboxed WebAssembly connector.".to_owned());
        info.server_info = me;
        info.instructions = Some(INSTRUCTIONS.to_owned());
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let actor = self.actor(&context)?;
        let mut list = tools::listed(&actor);
        let exposed = workflow_tools::listed(&self.app, &actor)
            .await
            .map_err(|e| internal(&format!("cannot list the workflow tools: {e}")))?;
        list.extend(exposed.into_iter().map(|t| t.tool));
        Ok(ListToolsResult::with_all_items(list))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let actor = self.actor(&context)?;
        let args = request.arguments.clone().unwrap_or_default();
        let call = Call {
            app: &self.app,
            actor: &actor,
            base_url: &self.base_url,
            options: &self.options,
            context: &context,
        };
        let name = request.name.as_ref();
        if let Some(spec) = tools::find(name).filter(|s| tools::offered(&actor, s)) {
            return Ok(tools::call(spec, &call, &args).await.into());
        }
        match workflow_tools::find(&self.app, &actor, name)
            .await
            .map_err(|e| internal(&format!("cannot list the workflow tools: {e}")))?
        {
            Some(exposed) => Ok(workflow_tools::call(&call, &exposed, args).await.into()),
            None => Err(unknown_tool(name)),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let actor = self.actor(&context)?;
        resources::list(&self.app, &actor).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        self.actor(&context)?;
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let actor = self.actor(&context)?;
        resources::read(&self.app, &actor, &self.base_url, &request.uri)
            .await
            .map(Into::into)
    }
}
