//! Workflows: parse and validate a definition (every problem by path), create,
//! store a new version, activate (the webhook and the schedule), deactivate,
//! delete, read.

use crate::{Actor, App, Error, Listing, Result};
use serde_json::Value;
use std::collections::HashMap;
use weft_engine::{Format, definition, validate};
use weft_store::{LastRun, Page, WorkflowFilter};
use weft_types::scope::{Resource, Verb};
use weft_types::{
    CodeStep, Definition, Problem, Role, Schedule, StepDef, StepKind, Workflow, WorkflowVersion,
};
use weft_worker::{new_id, new_token, now_ms};

/// Most workflow references (sub-workflows, the error workflow) checked per definition.
const MAX_REFS: usize = 100;
/// Longest name filter of a workflow list (a name is at most 200 characters).
pub const MAX_SEARCH: usize = 200;

impl App {
    /// Parses and validates a definition against the tenant's connectors and the
    /// caller's workflows, without storing it; returns it with its warnings
    /// (what is allowed but worth changing, each with its path).
    ///
    /// # Errors
    /// [`Error::InvalidWorkflow`] with every problem; [`Error::Forbidden`] below viewer.
    pub async fn validate_workflow(
        &self,
        actor: &Actor,
        body: &[u8],
        format: Format,
    ) -> Result<(Definition, Vec<Problem>)> {
        actor.require(Role::Viewer)?;
        let def = self.parse(actor, body, format).await?;
        let catalog = self.handle.catalog(&actor.tenant_id).await?;
        let warnings = validate::warnings(&def, &catalog);
        Ok((def, warnings))
    }

    /// Turns an n8n workflow export into a definition and its notes, without
    /// storing anything (docs/IMPORT.md); `workflows` maps the n8n ids of
    /// sub-workflows imported first to their Weft ids.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming what makes it no n8n export;
    /// [`Error::Forbidden`] below viewer.
    pub fn import_n8n(
        &self,
        actor: &Actor,
        export: &Value,
        workflows: std::collections::BTreeMap<String, String>,
    ) -> Result<weft_engine::import::Imported> {
        actor.require(Role::Viewer)?;
        let options = weft_engine::import::n8n::Options { workflows };
        weft_engine::import::n8n::import(export, &options)
            .map_err(|e| Error::Invalid(format!("export: {e}")))
    }

    /// Creates a workflow (inactive, version 1); returns it with its definition.
    ///
    /// # Errors
    /// [`Error::InvalidWorkflow`]; [`Error::Forbidden`] below admin.
    pub async fn create_workflow(
        &self,
        actor: &Actor,
        body: &[u8],
        format: Format,
    ) -> Result<(Workflow, Value)> {
        actor.require(Role::Member)?;
        let def = self.parse(actor, body, format).await?;
        let now = now_ms();
        let wf = Workflow {
            tenant_id: actor.tenant_id.clone(),
            id: new_id("wf"),
            name: def.name.clone(),
            version: 1,
            active: false,
            webhook_token: new_token(),
            created_at: now,
            updated_at: now,
        };
        let value = to_value(&def)?;
        let first = WorkflowVersion {
            tenant_id: actor.tenant_id.clone(),
            workflow_id: wf.id.clone(),
            version: 1,
            definition: value.clone(),
            created_at: now,
        };
        self.store().create_workflow(&wf, &first).await?;
        // The seed matrix: members change only what they created.
        self.store()
            .set_workflow_creator(&actor.tenant_id, &wf.id, &actor.key_id)
            .await?;
        self.audit(actor, "workflow.create", &wf.id).await?;
        Ok((hide_hook(actor, wf), value))
    }

    /// The tenant's workflows, newest first, whose name passes `filter`
    /// (at most [`MAX_SEARCH`] characters), each with its newest run: two
    /// queries per page, whatever its size.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; [`Error::Invalid`] for a filter too long;
    /// store failures.
    pub async fn list_workflows(
        &self,
        actor: &Actor,
        filter: &WorkflowFilter,
        page: &Page,
    ) -> Result<Listing<(Workflow, Option<LastRun>)>> {
        actor.require(Role::Viewer)?;
        if let Some(q) = &filter.name
            && q.chars().count() > MAX_SEARCH
        {
            return Err(Error::Invalid(format!(
                "query parameter `q`: longer than {MAX_SEARCH} characters"
            )));
        }
        let items = self
            .store()
            .list_workflows(&actor.tenant_id, filter, page)
            .await?;
        let next = Listing::of(items, page, |w| &w.id);
        let ids: Vec<String> = next.items.iter().map(|w| w.id.clone()).collect();
        let mut last: HashMap<String, LastRun> = self
            .store()
            .last_runs(&actor.tenant_id, &ids)
            .await?
            .into_iter()
            .map(|r| (r.workflow_id.clone(), r))
            .collect();
        Ok(Listing {
            items: next
                .items
                .into_iter()
                .map(|w| {
                    let run = last.remove(&w.id).filter(|_| may_read_runs(actor, &w.id));
                    (hide_hook(actor, w), run)
                })
                .collect(),
            next: next.next,
        })
    }

    /// A workflow, its current version's definition and its newest run.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_workflow(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(Workflow, Option<Value>, Option<LastRun>)> {
        actor.require(Role::Viewer)?;
        let wf = self.load_workflow(actor, id).await?;
        let v = self
            .store()
            .get_version(&actor.tenant_id, id, wf.version)
            .await?;
        let last = self
            .store()
            .last_runs(&actor.tenant_id, std::slice::from_ref(&wf.id))
            .await?
            .pop()
            .filter(|_| may_read_runs(actor, &wf.id));
        Ok((hide_hook(actor, wf), v.map(|v| v.definition), last))
    }

    /// One version of a workflow.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn get_workflow_version(
        &self,
        actor: &Actor,
        id: &str,
        version: u32,
    ) -> Result<WorkflowVersion> {
        actor.require(Role::Viewer)?;
        self.store()
            .get_version(&actor.tenant_id, id, version)
            .await?
            .ok_or(Error::NotFound("workflow version"))
    }

    /// Stores a new version of the definition (runs keep theirs); an active
    /// workflow's schedule follows the new version.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidWorkflow`], [`Error::Forbidden`].
    pub async fn update_workflow(
        &self,
        actor: &Actor,
        id: &str,
        body: &[u8],
        format: Format,
    ) -> Result<(Workflow, Value)> {
        self.require_own_workflow(actor, id).await?;
        let wf = self.load_workflow(actor, id).await?;
        let def = self.parse(actor, body, format).await?;
        let value = to_value(&def)?;
        let now = now_ms();
        let next = WorkflowVersion {
            tenant_id: actor.tenant_id.clone(),
            workflow_id: id.to_owned(),
            version: wf.version + 1,
            definition: value.clone(),
            created_at: now,
        };
        let mut wf = self.store().add_version(&next, &def.name, now).await?;
        if wf.active {
            let schedule = schedule_of(&wf, &def, now)?;
            wf = self
                .store()
                .set_active(&actor.tenant_id, id, true, schedule.as_ref(), now)
                .await?;
            // A poll trigger added by this version starts polling (one
            // removed is disarmed by the poller when next due).
            if def.triggers.poll.is_some() {
                self.store()
                    .poll_arm(&actor.tenant_id, id, true, now)
                    .await?;
            }
            // A queue trigger added or removed by this version: its consumer
            // starts, or stops at its next lease renewal.
            if def.triggers.queue.is_some()
                || self
                    .store()
                    .queue_consumer(&actor.tenant_id, id)
                    .await?
                    .is_some()
            {
                self.store()
                    .queue_arm(&actor.tenant_id, id, def.triggers.queue.is_some())
                    .await?;
            }
        }
        self.audit(actor, "workflow.update", id).await?;
        Ok((hide_hook(actor, wf), value))
    }

    /// Lets the webhook and the schedule start runs (`true`), or stops them.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`], [`Error::InvalidWorkflow`] for
    /// a schedule that has no next tick.
    pub async fn set_workflow_active(
        &self,
        actor: &Actor,
        id: &str,
        active: bool,
    ) -> Result<Workflow> {
        self.require_own_workflow(actor, id).await?;
        let wf = self.load_workflow(actor, id).await?;
        let now = now_ms();
        let mut polls = false;
        let mut queues = false;
        let schedule = if active {
            let def = self
                .handle
                .definition(&actor.tenant_id, id, wf.version)
                .await?;
            // Checked again against the connectors the tenant has now: an
            // install removed or upgraded out of a step's range since the
            // save would make every run fail.
            let catalog = self.handle.catalog(&actor.tenant_id).await?;
            let problems = validate::check(&def, &catalog, self.limits());
            if !problems.is_empty() {
                return Err(Error::InvalidWorkflow {
                    problems,
                    too_large: false,
                });
            }
            polls = def.triggers.poll.is_some();
            queues = def.triggers.queue.is_some();
            schedule_of(&wf, &def, now)?
        } else {
            None
        };
        let wf = self
            .store()
            .set_active(&actor.tenant_id, id, active, schedule.as_ref(), now)
            .await?;
        // Polls run while the workflow is active (`weft_store::polling`).
        if polls
            || (!active
                && self
                    .store()
                    .poll_state(&actor.tenant_id, id)
                    .await?
                    .is_some())
        {
            self.store()
                .poll_arm(&actor.tenant_id, id, polls, now)
                .await?;
        }
        // A queue consumer runs while the workflow is active
        // (`weft_store::queue_trigger`); paused, it stops within a renewal.
        if queues
            || (!active
                && self
                    .store()
                    .queue_consumer(&actor.tenant_id, id)
                    .await?
                    .is_some())
        {
            self.store().queue_arm(&actor.tenant_id, id, queues).await?;
        }
        let action = if active {
            "workflow.activate"
        } else {
            "workflow.deactivate"
        };
        self.audit(actor, action, id).await?;
        Ok(hide_hook(actor, wf))
    }

    /// Deletes a workflow; its runs and versions stay readable.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`].
    pub async fn delete_workflow(&self, actor: &Actor, id: &str) -> Result<()> {
        self.require_own_workflow(actor, id).await?;
        self.store().delete_workflow(&actor.tenant_id, id).await?;
        // Its queue consumer stops at its next lease renewal.
        if self
            .store()
            .queue_consumer(&actor.tenant_id, id)
            .await?
            .is_some()
        {
            self.store().queue_arm(&actor.tenant_id, id, false).await?;
        }
        self.audit(actor, "workflow.delete", id).await
    }

    /// The seed matrix (`docs/TENANCY.md`, section 3): admins and owners
    /// change any workflow; members only those they created (by the same
    /// user, or the same API key); viewers none.
    ///
    /// # Errors
    /// `Forbidden` below member; `Denied` for a member and another's
    /// workflow; `NotFound`.
    async fn require_own_workflow(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Member)?;
        if actor.role >= Role::Admin {
            return Ok(());
        }
        let creator = self
            .store()
            .workflow_creator(&actor.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("workflow"))?;
        if creator == actor.key_id {
            Ok(())
        } else {
            Err(Error::Denied(format!(
                "workflow {id} was created by {creator}: a member changes only the workflows \
                 they created (admins and owners change any)"
            )))
        }
    }

    pub(crate) async fn load_workflow(&self, actor: &Actor, id: &str) -> Result<Workflow> {
        self.store()
            .get_workflow(&actor.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("workflow"))
    }

    /// Parses, validates against the tenant's connectors (bundled and
    /// installed), and checks references.
    async fn parse(&self, actor: &Actor, body: &[u8], format: Format) -> Result<Definition> {
        let def = definition::parse(body, format, self.limits())?;
        let catalog = self.handle.catalog(&actor.tenant_id).await?;
        let mut problems = validate::check(&def, &catalog, self.limits());
        problems.extend(self.workflow_refs(actor, &def).await?);
        problems.extend(self.check_scripts(&def).await);
        if problems.is_empty() {
            Ok(def)
        } else {
            Err(Error::InvalidWorkflow {
                problems,
                too_large: false,
            })
        }
    }

    /// Sub-workflows and the error workflow must be workflows of the same
    /// tenant, and a signed webhook's credential a credential of it.
    async fn workflow_refs(&self, actor: &Actor, def: &Definition) -> Result<Vec<Problem>> {
        let mut refs = Vec::new();
        if let Some(e) = &def.error_workflow {
            refs.push(("/error_workflow".to_owned(), e.clone()));
        }
        collect(&def.steps, "/steps", &mut refs);
        let mut problems = Vec::new();
        for (path, id) in refs.into_iter().take(MAX_REFS) {
            if self
                .store()
                .get_workflow(&actor.tenant_id, &id)
                .await?
                .is_none()
            {
                problems.push(Problem::new(path, format!("unknown workflow `{id}`")));
            }
        }
        // A signed webhook's secret is a credential of the tenant.
        if let Some(sig) = def
            .triggers
            .webhook
            .as_ref()
            .and_then(|w| w.signature.as_ref())
            && !sig.credential.trim().is_empty()
            && self
                .store()
                .credential_by_name(&actor.tenant_id, &sig.credential)
                .await?
                .is_none()
        {
            problems.push(Problem::new(
                "/triggers/webhook/signature/credential",
                format!(
                    "unknown credential `{}` (create it with the signing secret first)",
                    sig.credential
                ),
            ));
        }
        Ok(problems)
    }
}

impl App {
    /// The syntax of every code step's script, checked by the bundled `code`
    /// connector's `check` action in the sandbox (the parser is the one that
    /// runs the script; `weft_engine` stays pure): a problem at
    /// `/steps/<i>/code` naming the line and column.
    async fn check_scripts(&self, def: &Definition) -> Vec<Problem> {
        let mut scripts = Vec::new();
        code_steps(&def.steps, "/steps", &mut scripts);
        if scripts.is_empty() {
            return Vec::new();
        }
        let Some(entry) = self.handle.connectors().get(CodeStep::CONNECTOR) else {
            return scripts
                .into_iter()
                .map(|(path, _)| {
                    Problem::new(
                        path,
                        "this server has no `code` connector loaded (weft_plugin_code.wasm \
                         beside the other bundled connectors), so code steps cannot run",
                    )
                })
                .collect();
        };
        let mut problems = Vec::new();
        for (path, code) in scripts {
            let input = serde_json::json!({ "code": code }).to_string();
            let inv = weft_sandbox::Invocation::new(CodeStep::CHECK, input);
            let outcome = self.handle.sandbox().invoke(&entry.plugin, inv).await;
            match outcome.result {
                Ok(v) if v["ok"] == Value::Bool(true) => {}
                Ok(v) => problems.push(Problem::new(
                    path,
                    format!(
                        "syntax error at line {}, column {}: {}",
                        v["line"],
                        v["column"],
                        v["message"].as_str().unwrap_or("the script does not parse")
                    ),
                )),
                Err(f) => problems.push(Problem::new(
                    path,
                    format!("the script could not be checked: {}", f.message),
                )),
            }
        }
        problems
    }
}

/// The code steps' scripts with their paths (`/steps/1/code`), loop bodies included.
fn code_steps(steps: &[StepDef], path: &str, out: &mut Vec<(String, String)>) {
    for (i, s) in steps.iter().enumerate() {
        match &s.kind {
            StepKind::Code(c) if !c.code.trim().is_empty() => {
                out.push((format!("{path}/{i}/code"), c.code.clone()));
            }
            StepKind::Loop(l) => code_steps(&l.body, &format!("{path}/{i}/body"), out),
            _ => {}
        }
    }
}

fn collect(steps: &[StepDef], path: &str, out: &mut Vec<(String, String)>) {
    for (i, s) in steps.iter().enumerate() {
        match &s.kind {
            StepKind::Subworkflow(sw) => {
                out.push((format!("{path}/{i}/workflow"), sw.workflow.clone()))
            }
            StepKind::Loop(l) => collect(&l.body, &format!("{path}/{i}/body"), out),
            _ => {}
        }
    }
}

fn to_value(def: &Definition) -> Result<Value> {
    serde_json::to_value(def).map_err(|e| Error::Internal(format!("definition: {e}")))
}

/// The schedule an active workflow gets from its definition.
fn schedule_of(wf: &Workflow, def: &Definition, now: i64) -> Result<Option<Schedule>> {
    let Some(s) = &def.triggers.schedule else {
        return Ok(None);
    };
    let next = weft_worker::schedule::first_tick(&s.cron, &s.timezone, now).map_err(|m| {
        Error::InvalidWorkflow {
            problems: vec![Problem::new("/triggers/schedule/cron", m)],
            too_large: false,
        }
    })?;
    Ok(Some(Schedule {
        tenant_id: wf.tenant_id.clone(),
        workflow_id: wf.id.clone(),
        cron: s.cron.clone(),
        timezone: s.timezone.clone(),
        missed: s.missed,
        next_fire_at: next,
    }))
}

/// `wf` as `actor` may see it: the webhook token is the credential of
/// `/hooks/{token}`, so only a caller who could start a run of `wf` through
/// the API (a member or above, within `runs:start`) is given it; for anyone
/// else it is empty (and the answer has no `webhook_url`).
fn hide_hook(actor: &Actor, mut wf: Workflow) -> Workflow {
    if !actor.may(Role::Member, Resource::Runs, Verb::Start, Some(&wf.id)) {
        wf.webhook_token = String::new();
    }
    wf
}

/// Whether `actor` may read the runs of workflow `id` (a key scoped to
/// `workflows:read` alone is not shown its newest run).
fn may_read_runs(actor: &Actor, id: &str) -> bool {
    actor.may(Role::Viewer, Resource::Runs, Verb::Read, Some(id))
}
