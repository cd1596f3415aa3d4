//! The application layer: every use case of Weft in one place, over the ports.
//!
//! The API handlers, `weft run`, `weft migrate` and (later) the MCP tools call
//! this crate; they translate their transport (HTTP, a terminal, MCP) and do not
//! build domain objects themselves. Each use case checks the caller's role,
//! does the work through the store, the vault and the worker runtime, and
//! writes the audit trail for what it changed.
//!
//! ```text
//! let app = weft_app::App::new(handle, Arc::new(DefinitionLimits::default()));
//! let actor = app.authenticate("weft_...").await?;          // who is calling
//! let (wf, _) = app.create_workflow(&actor, &body, Format::Yaml).await?;
//! let run = app.start_run(&actor, &wf.id, input, None).await?;
//! ```
//!
//! [`Tenants`] is the part that needs no runtime (no sandbox, no queue): the
//! first tenant and its owner key, other tenants, API keys. `weft migrate` uses
//! it alone.

mod actor;
mod connectors;
mod credentials;
mod deadletters;
mod error;
pub mod mcp;
pub mod notifications;
pub mod ops;
mod ops_people;
mod own_tenant;
mod people;
mod polling;
mod queue_trigger;
pub mod registry;
mod runs;
mod sessions;
pub mod signing;
pub mod stats;
mod tenants;
mod totp;
mod triggers;
pub mod usage;
mod workflows;

pub use actor::Actor;
pub use credentials::{NewCredential, OAuthStatus};
pub use deadletters::MAX_DEAD_LETTERS;
pub use deadletters::Redriven;
pub use error::{Error, Result};
pub use ops::{Operator, Swept};
pub use own_tenant::OwnTenant;
pub use people::{AddressHeader, SessionOptions, check_password, normalise_email};
pub use runs::MAX_WAIT;
pub use runs::{RunDetail, StepDetail};
pub use sessions::{Current, Started, csrf_token};
pub use tenants::{Bootstrap, Tenants};
pub use totp::TotpSetup;
pub use triggers::{DEFAULT_SYNC_WAIT, WebhookCall, WebhookStart};
/// A loaded connector (what [`App::list_connectors`] lists).
pub use weft_worker::Entry;
pub use workflows::MAX_SEARCH;

use std::sync::Arc;
use weft_engine::DefinitionLimits;
use weft_store::{AuditEntry, Page, Store};
use weft_worker::{Handle, now_ms};

/// Most items one list call returns, and the default.
pub const MAX_PAGE: u32 = 500;
/// The page size when the caller names none.
pub const DEFAULT_PAGE: u32 = 50;

/// A page of items and the cursor of the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass as `before` for the next page; `None` on the last one.
    pub next: Option<String>,
}

impl<T> Listing<T> {
    /// The listing of one page read with `page`: a next cursor when the page is full.
    fn of(items: Vec<T>, page: &Page, id: impl Fn(&T) -> &str) -> Self {
        let next = (items.len() == page.limit as usize)
            .then(|| items.last().map(|i| id(i).to_owned()))
            .flatten();
        Self { items, next }
    }
}

/// A page request: `before` (an id from the previous page) and `limit`.
pub fn page(before: Option<String>, limit: Option<u32>) -> Page {
    Page {
        before,
        limit: limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
    }
}

/// The use cases, over a worker runtime (which owns the store, the queue, the
/// sandbox and the connectors). A cheap `Clone`.
#[derive(Clone)]
pub struct App {
    handle: Handle,
    tenants: Tenants,
    limits: Arc<DefinitionLimits>,
    registry: Option<registry::Registry>,
    /// Sessions, the throttle and the bound on password hashing.
    people: Arc<people::PeopleCore>,
    /// Which workflow versions are MCP tools (`mcp.rs`).
    exposure: Arc<mcp::Exposure>,
}

impl App {
    /// The application over `handle`, validating definitions with `limits`.
    pub fn new(handle: Handle, limits: Arc<DefinitionLimits>) -> Self {
        let tenants = Tenants::new(handle.store().clone(), handle.keyring().clone())
            .with_view(handle.tenants().clone());
        Self {
            handle,
            tenants,
            limits,
            registry: None,
            people: people::PeopleCore::new(SessionOptions::default()),
            exposure: Arc::default(),
        }
    }

    /// The application with the registry's use cases.
    /// The same application with these session and login settings.
    #[must_use]
    pub fn with_sessions(mut self, options: SessionOptions) -> Self {
        self.people = people::PeopleCore::new(options);
        self
    }

    /// The session and login settings.
    pub fn session_options(&self) -> &SessionOptions {
        &self.people.options
    }

    #[must_use]
    pub fn with_registry(mut self, registry: registry::Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The runtime underneath (health, metrics, connectors).
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Tenants and keys.
    pub fn tenants(&self) -> &Tenants {
        &self.tenants
    }

    /// The definition limits.
    pub fn limits(&self) -> &DefinitionLimits {
        &self.limits
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.handle.store()
    }

    /// Appends `action` on `target` by `actor` to the tenant's audit log.
    async fn audit(&self, actor: &Actor, action: &str, target: &str) -> Result<()> {
        record(self.store().as_ref(), actor, action, target).await
    }
}

/// Appends one entry to the audit log.
async fn record(store: &dyn Store, actor: &Actor, action: &str, target: &str) -> Result<()> {
    let entry = AuditEntry {
        tenant_id: actor.tenant_id.clone(),
        actor: actor.key_id.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        at: now_ms(),
    };
    Ok(store.audit(&entry).await?)
}
