//! Installs with consent (docs/REGISTRY.md, section 6): a tenant consents to
//! exactly the disclosure it was shown; an upgrade that widens it is held
//! until the tenant consents to the new one.

use crate::{Actor, App, Error, Result};
use serde_json::Value;
use weft_registry::pin::Pin;
use weft_registry::{HeldUpgrade, Install, Kind, Version};
use weft_store::{Page, RunFilter, WorkflowFilter};
use weft_types::{Role, Status};
use weft_worker::{new_id, now_ms};

/// What a tenant asks to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallRequest {
    /// `publisher/name`.
    pub package: String,
    /// An exact version; else the highest the pin allows (else the latest).
    pub version: Option<String>,
    /// `=1.2.3` or `^1`; by default `^` of the version installed.
    pub pin: Option<String>,
    /// The disclosure digest the tenant was shown and accepts.
    pub consent: String,
}

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq)]
pub enum Upgraded {
    /// The version is in use now.
    Applied(Install),
    /// The new version reaches more than the tenant consented to: held
    /// until a call consents to the new disclosure; what it adds, one line
    /// each.
    Held(Install, Vec<String>),
}

fn consent_error(code: &'static str, message: String, version: &Version) -> Error {
    Error::Consent {
        code,
        message,
        disclosure: serde_json::to_value(&version.disclosure).unwrap_or(Value::Null),
        disclosure_digest: version.disclosure_digest.clone(),
    }
}

impl App {
    /// Every taken-down artifact (64 hex) with its takedown, under whichever
    /// version or package it was taken down (one read: a few rows).
    ///
    /// # Errors
    /// Store failures.
    pub async fn takedowns(
        &self,
    ) -> Result<std::collections::HashMap<String, weft_registry::Takedown>> {
        Ok(self
            .registry()?
            .store
            .taken_down()
            .await?
            .into_iter()
            .collect())
    }

    /// Refuses a version whose artifact was taken down under any version or
    /// package (the same bytes published again are still taken down).
    pub(crate) async fn refuse_taken_down(&self, v: &Version) -> Result<()> {
        match self.takedowns().await?.get(&v.digest) {
            Some(t) => Err(Error::Conflict(format!(
                "{}/{}@{} runs an artifact that was taken down (sha256:{}): {}",
                v.publisher, v.name, v.version, v.digest, t.reason
            ))),
            None => Ok(()),
        }
    }
}

fn installable(v: &Version) -> Result<()> {
    if let Some(t) = &v.taken_down {
        return Err(Error::Conflict(format!(
            "{}/{}@{} was taken down: {}",
            v.publisher, v.name, v.version, t.reason
        )));
    }
    if v.yanked {
        return Err(Error::Conflict(format!(
            "{}/{}@{} is yanked: pick another version",
            v.publisher, v.name, v.version
        )));
    }
    Ok(())
}

impl App {
    /// The version `package` (`publisher/name`) resolves to: `version`
    /// exactly, else the highest installable one `pin` allows, else the
    /// latest installable one.
    async fn pick_version(
        &self,
        package: &str,
        version: Option<&str>,
        pin: Option<&Pin>,
    ) -> Result<Version> {
        let (publisher, name) = package.split_once('/').ok_or_else(|| {
            Error::Invalid(format!("package: `{package}` is not `publisher/name`"))
        })?;
        let store = &self.registry()?.store;
        if let Some(v) = version {
            let found = store
                .get_version(publisher, name, v)
                .await?
                .ok_or(Error::NotFound("version"))?;
            installable(&found)?;
            return Ok(found);
        }
        let mut versions = store.list_versions(publisher, name).await?;
        if versions.is_empty() {
            return Err(Error::NotFound("package"));
        }
        // Bytes taken down under any version or package are not candidates.
        let down = self.takedowns().await?;
        versions.retain(|v| !down.contains_key(&v.digest));
        let picked = match pin {
            Some(pin) => weft_registry::pin::resolve(pin, &versions),
            // A release before a higher pre-release, as search shows.
            None => weft_registry::index::latest(&versions),
        };
        picked.cloned().ok_or_else(|| {
            Error::Conflict(format!(
                "{package} has no installable version{}",
                pin.map(|p| format!(" matching `{p}`")).unwrap_or_default()
            ))
        })
    }

    /// Installs a connector in the caller's tenant (admin), with consent to
    /// exactly the disclosure of the version installed.
    ///
    /// # Errors
    /// `Consent` (`consent_mismatch`, with the disclosure to show);
    /// `Duplicate` (installed already); `Conflict` (yanked, taken down);
    /// `Invalid`.
    pub async fn install(&self, actor: &Actor, req: InstallRequest) -> Result<Install> {
        actor.require(Role::Admin)?;
        let pin = req
            .pin
            .as_deref()
            .map(Pin::parse)
            .transpose()
            .map_err(|e| Error::Invalid(format!("pin: {e}")))?;
        let v = self
            .pick_version(&req.package, req.version.as_deref(), pin.as_ref())
            .await?;
        if v.kind != Kind::Connector {
            return Err(Error::Invalid(format!(
                "package: {} is a template; use it (POST .../use) rather than installing it",
                req.package
            )));
        }
        // A bundled connector of that name would shadow the install.
        if self.handle.connectors().get(&v.name).is_some() {
            return Err(Error::Conflict(format!(
                "`{}` is a connector bundled with this server: every tenant has it already",
                v.name
            )));
        }
        self.refuse_taken_down(&v).await?;
        self.check_component_size(&actor.tenant_id, v.size).await?;
        if let Some(p) = &pin
            && !allows(p, &v.version)
        {
            return Err(Error::Invalid(format!(
                "pin: `{p}` does not allow version {}",
                v.version
            )));
        }
        let consent = super::parse_digest("consent", &req.consent)?;
        if consent != v.disclosure_digest {
            return Err(consent_error(
                "consent_mismatch",
                format!(
                    "the consent does not match the disclosure of {}/{}@{} (sha256:{}): show it to the tenant and send that digest",
                    v.publisher, v.name, v.version, v.disclosure_digest
                ),
                &v,
            ));
        }
        let pin = match pin {
            Some(p) => p,
            None => caret_of(&v.version)?,
        };
        let now = now_ms();
        let install = Install {
            id: new_id("ins"),
            tenant_id: actor.tenant_id.clone(),
            publisher: v.publisher.clone(),
            name: v.name.clone(),
            kind: v.kind,
            pin: pin.to_string(),
            version: v.version.clone(),
            digest: v.digest.clone(),
            consent_digest: v.disclosure_digest.clone(),
            consented_by: actor.key_id.clone(),
            consented_at: now,
            held: None,
            created_at: now,
        };
        self.registry()?.store.create_install(&install).await?;
        self.audit(
            actor,
            "install.create",
            &format!("{}/{}@{}", v.publisher, v.name, v.version),
        )
        .await?;
        Ok(install)
    }

    /// The caller's installs.
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_installs(&self, actor: &Actor) -> Result<Vec<Install>> {
        actor.require(Role::Viewer)?;
        Ok(self
            .registry()?
            .store
            .list_installs(&actor.tenant_id)
            .await?)
    }

    /// One of the caller's installs.
    ///
    /// # Errors
    /// `NotFound` (another tenant's too).
    pub async fn get_install(&self, actor: &Actor, id: &str) -> Result<Install> {
        actor.require(Role::Viewer)?;
        self.registry()?
            .store
            .get_install(&actor.tenant_id, id)
            .await?
            .ok_or(Error::NotFound("install"))
    }

    /// Upgrades (or downgrades) an install to `version`, else to the
    /// highest its pin allows. A version whose disclosure reaches no more
    /// than the one consented to applies at once; a wider one is held
    /// (and reported with what it adds) until a call whose `consent` is
    /// the new disclosure's digest.
    ///
    /// # Errors
    /// `Consent` (`consent_mismatch`: a consent that is not the new
    /// disclosure's); `Conflict` (yanked, taken down, nothing newer).
    pub async fn upgrade_install(
        &self,
        actor: &Actor,
        id: &str,
        version: Option<&str>,
        consent: Option<&str>,
    ) -> Result<Upgraded> {
        actor.require(Role::Admin)?;
        let mut install = self.get_install(actor, id).await?;
        let package = format!("{}/{}", install.publisher, install.name);
        let pin =
            Pin::parse(&install.pin).map_err(|e| Error::Internal(format!("stored pin: {e}")))?;
        // No version named: the held upgrade if there is one (its consent
        // applies it), else the highest version the pin allows.
        let held_version = install.held.as_ref().map(|h| h.version.clone());
        let version = version.map(str::to_owned).or(held_version);
        let target = self
            .pick_version(
                &package,
                version.as_deref(),
                if version.is_some() { None } else { Some(&pin) },
            )
            .await?;
        if version.is_none() && target.version == install.version {
            return Err(Error::Conflict(format!(
                "{package} has no installable version newer than {} within its pin `{pin}`; \
                 name a version to move the pin",
                install.version
            )));
        }
        // A version named outside the pin moves the pin to it (`^` of it, or
        // exactly it for an exact pin), as `cargo add name@version` does.
        let pin = if allows(&pin, &target.version) {
            pin
        } else if matches!(pin, Pin::Exact(_)) {
            Pin::parse(&format!("={}", target.version))
                .map_err(|e| Error::Internal(e.to_string()))?
        } else {
            caret_of(&target.version)?
        };
        self.refuse_taken_down(&target).await?;
        self.check_component_size(&actor.tenant_id, target.size)
            .await?;
        let store = &self.registry()?.store;
        let current = store
            .get_version(&install.publisher, &install.name, &install.version)
            .await?
            .ok_or(Error::NotFound("version"))?;
        let widening: Vec<String> =
            weft_registry::disclosure::widening(&current.disclosure, &target.disclosure)
                .iter()
                .map(ToString::to_string)
                .collect();
        let consent = consent
            .map(|c| super::parse_digest("consent", c))
            .transpose()?;
        if let Some(c) = &consent
            && *c != target.disclosure_digest
        {
            return Err(consent_error(
                "consent_mismatch",
                format!(
                    "the consent does not match the disclosure of {package}@{} (sha256:{})",
                    target.version, target.disclosure_digest
                ),
                &target,
            ));
        }
        // Active workflows whose steps accept only other versions of it.
        let pinned = self
            .active_matching(actor, |def| excludes(def, &install.name, &target.version))
            .await?;
        if !pinned.is_empty() {
            return Err(Error::Conflict(format!(
                "{package}@{} is outside the `version` of steps of active workflows: {}; \
                 change their range first",
                target.version,
                pinned.join(", ")
            )));
        }
        // And runs not finished yet (an older version of a workflow, one
        // waiting for a resume) whose steps would refuse it.
        let running = self
            .runs_in_flight_matching(actor, |def| excludes(def, &install.name, &target.version))
            .await?;
        if !running.is_empty() {
            let shown: Vec<&str> = running.iter().take(5).map(String::as_str).collect();
            return Err(Error::Conflict(format!(
                "{package}@{} is outside the `version` of steps of {} run(s) not finished yet \
                 (such as {}); let them end or cancel them first",
                target.version,
                running.len(),
                shown.join(", ")
            )));
        }
        let target_ref = format!("{package}@{}", target.version);
        if !widening.is_empty() && consent.is_none() {
            install.held = Some(HeldUpgrade {
                version: target.version.clone(),
                digest: target.digest.clone(),
                disclosure_digest: target.disclosure_digest.clone(),
                requested_at: now_ms(),
            });
            store.update_install(&install).await?;
            self.audit(actor, "install.upgrade.held", &target_ref)
                .await?;
            return Ok(Upgraded::Held(install, widening));
        }
        install.version = target.version.clone();
        install.digest = target.digest.clone();
        install.pin = pin.to_string();
        // Consented now, or no wider than what was: the install's consent
        // is to the disclosure it runs under.
        install.consent_digest = target.disclosure_digest.clone();
        install.consented_by = actor.key_id.clone();
        install.consented_at = now_ms();
        install.held = None;
        store.update_install(&install).await?;
        self.audit(actor, "install.upgrade", &target_ref).await?;
        Ok(Upgraded::Applied(install))
    }

    /// Uninstalls, unless an active workflow of the tenant uses the
    /// connector (each is named).
    ///
    /// # Errors
    /// `NotFound`; `Conflict` naming the workflows.
    pub async fn uninstall(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        let install = self.get_install(actor, id).await?;
        let users = self.active_users(actor, &install.name).await?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "{}/{} is used by active workflows: {}; deactivate them or remove its steps first",
                install.publisher,
                install.name,
                users.join(", ")
            )));
        }
        let running = self.runs_in_flight_using(actor, &install.name).await?;
        if !running.is_empty() {
            let shown: Vec<&str> = running.iter().take(5).map(String::as_str).collect();
            return Err(Error::Conflict(format!(
                "{}/{} is used by {} run(s) not finished yet (such as {}); \
                 let them end or cancel them first",
                install.publisher,
                install.name,
                running.len(),
                shown.join(", ")
            )));
        }
        self.registry()?
            .store
            .delete_install(&actor.tenant_id, id)
            .await?;
        self.audit(
            actor,
            "install.delete",
            &format!("{}/{}", install.publisher, install.name),
        )
        .await
    }

    /// The tenant's active workflows (`name (id)`) whose current definition
    /// has a step of connector `name`.
    async fn active_users(&self, actor: &Actor, name: &str) -> Result<Vec<String>> {
        self.active_matching(actor, |def| uses(def, name)).await
    }

    /// The tenant's runs not finished yet (pending, running, waiting: a
    /// run of an inactive workflow or an older version included) whose
    /// definition has a step of connector `name`; at most
    /// [`MAX_RUNS_CHECKED`] runs are looked at, beyond which the answer is
    /// a refusal (the check cannot be made).
    async fn runs_in_flight_using(&self, actor: &Actor, name: &str) -> Result<Vec<String>> {
        self.runs_in_flight_matching(actor, |def| uses(def, name))
            .await
    }

    /// The tenant's runs not finished yet whose definition `matches` (see
    /// [`App::runs_in_flight_using`]).
    async fn runs_in_flight_matching(
        &self,
        actor: &Actor,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Vec<String>> {
        let mut found = Vec::new();
        let mut seen = 0usize;
        let mut uses_it: std::collections::HashMap<(String, u32), bool> =
            std::collections::HashMap::new();
        for status in [Status::Pending, Status::Running, Status::Waiting] {
            let filter = RunFilter {
                status: Some(status),
                ..RunFilter::default()
            };
            let mut page = Page {
                before: None,
                limit: crate::MAX_PAGE,
            };
            loop {
                let runs = self
                    .store()
                    .list_runs(&actor.tenant_id, &filter, &page)
                    .await?;
                seen += runs.len();
                if seen > MAX_RUNS_CHECKED {
                    return Err(Error::Conflict(format!(
                        "more than {MAX_RUNS_CHECKED} runs are not finished yet; \
                         uninstall when fewer are in flight"
                    )));
                }
                for run in &runs {
                    let key = (run.workflow_id.clone(), run.version);
                    let used = match uses_it.get(&key) {
                        Some(u) => *u,
                        None => {
                            let u = self
                                .store()
                                .get_version(&actor.tenant_id, &run.workflow_id, run.version)
                                .await?
                                .is_some_and(|v| matches(&v.definition));
                            uses_it.insert(key, u);
                            u
                        }
                    };
                    if used {
                        found.push(run.id.clone());
                    }
                }
                match (runs.len() == page.limit as usize, runs.last()) {
                    (true, Some(last)) => page.before = Some(last.id.clone()),
                    _ => break,
                }
            }
        }
        Ok(found)
    }

    /// The tenant's active workflows (`name (id)`) whose current definition
    /// `matches`.
    async fn active_matching(
        &self,
        actor: &Actor,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut page = Page {
            before: None,
            limit: crate::MAX_PAGE,
        };
        loop {
            let wfs = self
                .store()
                .list_workflows(&actor.tenant_id, &WorkflowFilter::default(), &page)
                .await?;
            let full = wfs.len() == page.limit as usize;
            for wf in &wfs {
                if !wf.active {
                    continue;
                }
                let Some(v) = self
                    .store()
                    .get_version(&actor.tenant_id, &wf.id, wf.version)
                    .await?
                else {
                    continue;
                };
                if matches(&v.definition) {
                    out.push(format!("{} ({})", wf.name, wf.id));
                }
            }
            match (full, wfs.last()) {
                (true, Some(last)) => page.before = Some(last.id.clone()),
                _ => return Ok(out),
            }
        }
    }
}

/// Whether a definition has a step of connector `name` whose `version`
/// range does not accept `version`.
fn excludes(def: &Value, name: &str, version: &str) -> bool {
    match def {
        Value::Object(map) => {
            let here = map.get("connector").and_then(Value::as_str) == Some(name)
                && map
                    .get("version")
                    .and_then(Value::as_str)
                    .is_some_and(|range| {
                        !matches!(
                            (semver::VersionReq::parse(range), semver::Version::parse(version)),
                            (Ok(req), Ok(v)) if req.matches(&v)
                        )
                    });
            here || map.values().any(|v| excludes(v, name, version))
        }
        Value::Array(items) => items.iter().any(|v| excludes(v, name, version)),
        _ => false,
    }
}

/// Runs in flight an uninstall looks at, at most.
const MAX_RUNS_CHECKED: usize = 20_000;

/// Whether `pin` allows `version` (a stored version always parses).
fn allows(pin: &Pin, version: &str) -> bool {
    semver::Version::parse(version).is_ok_and(|v| pin.matches(&v))
}

/// The default pin of an install of `version`: `^major` (`^0.minor` below 1).
fn caret_of(version: &str) -> Result<Pin> {
    let v = semver::Version::parse(version)
        .map_err(|e| Error::Internal(format!("stored version `{version}`: {e}")))?;
    Ok(if v.major > 0 {
        Pin::Major(v.major)
    } else {
        Pin::Minor(v.minor)
    })
}

/// Whether a definition has a step (at any depth) whose `connector` is `name`.
fn uses(def: &Value, name: &str) -> bool {
    match def {
        Value::Object(map) => {
            map.get("connector").and_then(Value::as_str) == Some(name)
                || map.values().any(|v| uses(v, name))
        }
        Value::Array(items) => items.iter().any(|v| uses(v, name)),
        _ => false,
    }
}
