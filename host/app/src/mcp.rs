//! The use cases of the MCP server (`weft-mcp`, `docs/MCP.md`) that the HTTP
//! API does not have: which workflows a caller may call as tools, and a run
//! started by a tool call. Every other tool calls the same use case as its
//! API route.

use crate::{Actor, App, Error, Result};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use weft_store::{Page, WorkflowFilter};
use weft_types::scope::{Resource, Verb};
use weft_types::{Definition, Role, Run, Status, Trigger, Workflow};

/// At most this many workflows are read when listing a tenant's tools.
pub const MAX_EXPOSED_SCAN: usize = 5_000;

/// Workflow versions remembered as exposed or not, across tenants.
const EXPOSURE_CACHE: usize = 50_000;

/// The exposure of workflow versions: `(tenant, workflow, version)` to its
/// definition when exposed, `None` when not. Emptied when full.
#[derive(Debug, Default)]
pub(crate) struct Exposure {
    known: Mutex<HashMap<Key, Option<Arc<Definition>>>>,
}

/// `(tenant, workflow, version)`.
type Key = (String, String, u32);

impl Exposure {
    fn get(&self, key: &Key) -> Option<Option<Arc<Definition>>> {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn put(&self, key: Key, value: Option<Arc<Definition>>) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() >= EXPOSURE_CACHE {
            known.clear();
        }
        known.insert(key, value);
    }
}

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
                if let Some(definition) = self.exposure_of(&wf).await {
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

    /// The definition of a workflow's current version when it is exposed,
    /// read once per version (versions never change) into a cache of its
    /// own, so that listing tools does not churn the runtime's definition
    /// cache. A version that cannot be read or parsed is left out (and
    /// logged), not fatal to the tenant's whole list.
    async fn exposure_of(&self, wf: &Workflow) -> Option<Arc<Definition>> {
        let key = (wf.tenant_id.clone(), wf.id.clone(), wf.version);
        if let Some(known) = self.exposure.get(&key) {
            return known;
        }
        let parsed = match self
            .store()
            .get_version(&wf.tenant_id, &wf.id, wf.version)
            .await
        {
            Ok(Some(v)) => {
                serde_json::from_value::<Definition>(v.definition).map_err(|e| e.to_string())
            }
            Ok(None) => Err("the version is missing".to_owned()),
            Err(e) => {
                // A store failure is not remembered: the next call tries again.
                tracing::warn!(workflow = %wf.id, error = %e, "cannot read a workflow for its MCP tool");
                return None;
            }
        };
        let exposed = match parsed {
            Ok(def) => def
                .mcp
                .as_ref()
                .is_some_and(|m| m.expose)
                .then(|| Arc::new(def)),
            Err(e) => {
                tracing::warn!(workflow = %wf.id, version = wf.version, error = %e,
                    "a stored workflow definition does not parse: left out of the MCP tools");
                None
            }
        };
        self.exposure.put(key, exposed.clone());
        exposed
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

    /// Each step of a run with its status (what a progress report counts),
    /// without the attempts' journal.
    ///
    /// # Errors
    /// [`Error::NotFound`]; store failures.
    pub async fn step_statuses(&self, actor: &Actor, id: &str) -> Result<Vec<(String, Status)>> {
        actor.require(Role::Viewer)?;
        let loaded = self
            .store()
            .load_run(&actor.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("run"))?;
        Ok(loaded
            .steps
            .into_iter()
            .map(|s| (s.key, s.status))
            .collect())
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
