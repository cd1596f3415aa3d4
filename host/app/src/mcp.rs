//! The use cases of the MCP server (`weft-mcp`, `docs/MCP.md`) that the HTTP
//! API does not have: which workflows a caller may call as tools, and a run
//! started by a tool call. Every other tool calls the same use case as its
//! API route.

use crate::{Actor, App, Error, Result};
use serde_json::{Value, json};
use std::sync::Arc;
use weft_store::{Page, WorkflowFilter};
use weft_types::scope::{Resource, Verb};
use weft_types::{Definition, Role, Run, Trigger, Workflow};

/// At most this many workflows are read when listing a tenant's tools.
pub const MAX_EXPOSED_SCAN: usize = 5_000;

/// A workflow the caller may call as a tool.
#[derive(Debug, Clone)]
pub struct Exposed {
    /// The workflow (its current version).
    pub workflow: Workflow,
    /// Its current definition, parsed.
    pub definition: Arc<Definition>,
}

impl App {
    /// The tenant's active workflows that opt in to MCP (`mcp.expose`), oldest
    /// first (so a tool name taken first keeps it), that the caller may start:
    /// a member or more, and for a scoped key, `runs:start` on the workflow.
    /// A viewer gets none: a tool call starts a run.
    ///
    /// # Errors
    /// Store failures; a stored definition that no longer parses.
    pub async fn exposed_workflows(&self, actor: &Actor) -> Result<Vec<Exposed>> {
        if actor.require(Role::Member).is_err() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut page = Page::first(1_000);
        let mut scanned = 0;
        loop {
            let items = self
                .store()
                .list_workflows(&actor.tenant_id, &WorkflowFilter::default(), &page)
                .await?;
            let full = items.len() >= page.limit as usize;
            scanned += items.len();
            page.before = items.last().map(|w| w.id.clone());
            for wf in items {
                if !wf.active || !actor.may(Role::Member, Resource::Runs, Verb::Start, Some(&wf.id))
                {
                    continue;
                }
                let definition = self
                    .handle
                    .definition(&actor.tenant_id, &wf.id, wf.version)
                    .await?;
                if definition.mcp.as_ref().is_some_and(|m| m.expose) {
                    found.push(Exposed {
                        workflow: wf,
                        definition,
                    });
                }
            }
            if !full || scanned >= MAX_EXPOSED_SCAN {
                break;
            }
        }
        found.reverse();
        Ok(found)
    }

    /// Starts a run of a workflow for a tool call (an exposed workflow's
    /// tool, or `run_workflow`): trigger `mcp`, the arguments as
    /// `trigger.body`, checked against the workflow's `input_schema` before
    /// anything is stored.
    ///
    /// # Errors
    /// [`Error::Forbidden`] below member; [`Error::OutOfScope`];
    /// [`Error::InvalidInput`] naming the field; quota, queue and
    /// store failures.
    pub async fn start_tool_run(
        &self,
        actor: &Actor,
        workflow: &Workflow,
        args: Value,
    ) -> Result<Run> {
        actor.require(Role::Member)?;
        actor.require_scope(Resource::Runs, Verb::Start, Some(&workflow.id))?;
        let run = self
            .handle
            .start(
                &actor.tenant_id,
                workflow,
                Trigger::Mcp,
                json!({ "body": args }),
            )
            .await?;
        self.audit(actor, "run.start", &run.id).await?;
        Ok(run)
    }

    /// Waits at most `wait` for a run of the caller's tenant to respond or
    /// end, and returns it as it then stands.
    ///
    /// # Errors
    /// [`Error::NotFound`]; store failures.
    pub async fn wait_run(
        &self,
        actor: &Actor,
        id: &str,
        wait: std::time::Duration,
    ) -> Result<Run> {
        actor.require(Role::Viewer)?;
        self.handle
            .wait(&actor.tenant_id, id, wait.min(crate::MAX_WAIT))
            .await
            .map_err(|e| match Error::from(e) {
                Error::NotFound(_) => Error::NotFound("run"),
                e => e,
            })
    }
}
