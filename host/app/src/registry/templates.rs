//! Using a template: its parameters checked against its schema and placed,
//! then a workflow created from the result like any other (validated against
//! the tenant's catalogue). A connector the tenant lacks is named with the
//! install that would provide it.

use crate::{Actor, App, Error, Result};
use serde_json::Value;
use weft_engine::Format;
use weft_registry::Kind;
use weft_types::{Problem, Role, Workflow};

impl App {
    /// Creates a workflow (inactive) from `publisher/name` at `version` (else
    /// its latest installable version) with `parameters`.
    ///
    /// # Errors
    /// `NotFound`; `Invalid` for a package that is not a template;
    /// `Refused` (`invalid_parameters` with every problem,
    /// `missing_connectors` naming the installs); what creating a workflow
    /// refuses.
    pub async fn use_template(
        &self,
        actor: &Actor,
        publisher: &str,
        name: &str,
        version: Option<&str>,
        parameters: &Value,
    ) -> Result<(Workflow, Value)> {
        actor.require(Role::Admin)?;
        let r = self.registry()?;
        let v = match version {
            Some(v) => r
                .store
                .get_version(publisher, name, v)
                .await?
                .ok_or(Error::NotFound("version"))?,
            None => {
                let versions = r.store.list_versions(publisher, name).await?;
                weft_registry::index::latest(&versions)
                    .cloned()
                    .ok_or(Error::NotFound("package"))?
            }
        };
        if v.kind != Kind::Template {
            return Err(Error::Invalid(format!(
                "{publisher}/{name} is a connector; install it instead"
            )));
        }
        if let Some(t) = &v.taken_down {
            return Err(Error::Conflict(format!(
                "{publisher}/{name}@{} was taken down: {}",
                v.version, t.reason
            )));
        }
        let bytes = r.blobs.get(&v.digest).await?.ok_or_else(|| {
            Error::Unavailable(format!(
                "the template's document sha256:{} is missing",
                v.digest
            ))
        })?;
        let template = weft_registry::template::Template::parse(&bytes).map_err(|_| {
            Error::Internal(format!(
                "stored template {publisher}/{name}@{} does not parse",
                v.version
            ))
        })?;
        let catalog = self.catalog_for(actor).await?;
        let missing = template.missing_connectors(|n| catalog.get(n).map(|m| m.version.clone()));
        if !missing.is_empty() {
            let mut problems = Vec::new();
            for (connector, range) in &missing {
                let hint = self.install_hint(connector).await?;
                problems.push(Problem::new(
                    format!("/requires/{connector}"),
                    format!("this tenant has no connector `{connector}` {range}: {hint}"),
                ));
            }
            return Err(Error::Refused {
                code: "missing_connectors",
                message: format!(
                    "the template needs {} connector(s) this tenant does not have",
                    missing.len()
                ),
                problems,
            });
        }
        let definition = template
            .instantiate(parameters)
            .map_err(|problems| Error::Refused {
                code: "invalid_parameters",
                message: "the parameters do not fit the template's schema".into(),
                problems: problems.0,
            })?;
        let body = serde_json::to_vec(&definition)
            .map_err(|e| Error::Internal(format!("definition: {e}")))?;
        let created = self.create_workflow(actor, &body, Format::Json).await?;
        self.audit(
            actor,
            "template.use",
            &format!("{publisher}/{name}@{} -> {}", v.version, created.0.id),
        )
        .await?;
        Ok(created)
    }

    /// How a tenant would get connector `name`: the registry package that
    /// provides it, or that none does.
    async fn install_hint(&self, name: &str) -> Result<String> {
        let store = &self.registry()?.store;
        Ok(
            match store
                .package_names()
                .await?
                .into_iter()
                .find(|(_, n)| n == name)
            {
                Some((publisher, n)) => {
                    format!("install it with `weft registry install {publisher}/{n}`")
                }
                None => "no registry package provides it".to_owned(),
            },
        )
    }

    /// The connectors the caller's workflows may use, by name.
    pub(crate) async fn catalog_for(
        &self,
        actor: &Actor,
    ) -> Result<std::collections::BTreeMap<String, weft_types::Manifest>> {
        Ok(self.handle.catalog(&actor.tenant_id).await?)
    }
}
