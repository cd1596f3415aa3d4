//! Conversions between the generated WIT types and the domain types.

use crate::gen_::weft::plugin::types as wit;
use weft_types::{ActionSpec, Capabilities, CredentialSlot, HostPattern, Manifest, StepContext};

/// A plugin's `describe` answer that does not hold together.
#[derive(Debug, thiserror::Error)]
#[error("the plugin's manifest is invalid: {0}")]
pub struct ConvertError(pub String);

fn schema(what: &str, text: &str) -> Result<serde_json::Value, ConvertError> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ConvertError(format!("{what} is not valid JSON: {e}")))?;
    if !(value.is_object() || value.is_boolean()) {
        return Err(ConvertError(format!("{what} must be a JSON Schema object")));
    }
    Ok(value)
}

fn hosts(what: &str, patterns: Vec<String>) -> Result<Vec<HostPattern>, ConvertError> {
    patterns
        .into_iter()
        .map(|p| p.parse().map_err(|e| ConvertError(format!("{what}: {e}"))))
        .collect()
}

/// Converts a `describe` result into a validated [`Manifest`].
///
/// # Errors
/// A schema that is not JSON, a host pattern that does not parse, or a manifest that
/// breaks [`Manifest::validate`]'s rules.
pub fn manifest_from_wit(m: wit::Manifest) -> Result<Manifest, ConvertError> {
    let actions = m
        .actions
        .into_iter()
        .map(|a| {
            Ok(ActionSpec {
                input_schema: schema(
                    &format!("action `{}` input-schema", a.name),
                    &a.input_schema,
                )?,
                output_schema: schema(
                    &format!("action `{}` output-schema", a.name),
                    &a.output_schema,
                )?,
                name: a.name,
                description: a.description,
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    let credentials = m
        .capabilities
        .credentials
        .into_iter()
        .map(|c| {
            Ok(CredentialSlot {
                hosts: hosts(&format!("credential slot `{}`", c.name), c.hosts)?,
                name: c.name,
                description: c.description,
                optional: c.optional,
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    let config_schema = if m.config_schema.trim().is_empty() {
        None
    } else {
        Some(schema("config-schema", &m.config_schema)?)
    };
    let manifest = Manifest {
        name: m.name,
        version: m.version,
        description: m.description,
        actions,
        capabilities: Capabilities {
            hosts: hosts("capabilities.hosts", m.capabilities.hosts)?,
            credentials,
            state: m.capabilities.state,
        },
        config_schema,
        triggers: Vec::new(),
    };
    manifest
        .validate()
        .map_err(|e| ConvertError(e.to_string()))?;
    Ok(manifest)
}

/// Converts what `describe-triggers` returned, checking each trigger's name
/// and schemas like an action's.
///
/// # Errors
/// A [`ConvertError`] naming the trigger and the field.
pub fn triggers_from_wit(
    defs: Vec<crate::wit_trigger::TriggerDef>,
) -> Result<Vec<weft_types::TriggerSpec>, ConvertError> {
    let mut out: Vec<weft_types::TriggerSpec> = Vec::with_capacity(defs.len());
    for t in defs {
        let ident = !t.name.is_empty()
            && t.name.len() <= 64
            && t.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ident {
            return Err(ConvertError(format!(
                "trigger `{}`: a name is 1 to 64 of a-z, 0-9 and -",
                t.name
            )));
        }
        if out.iter().any(|o| o.name == t.name) {
            return Err(ConvertError(format!(
                "trigger `{}` is declared twice",
                t.name
            )));
        }
        let or_any = |what: &str, text: &str| {
            if text.trim().is_empty() {
                Ok(serde_json::json!({}))
            } else {
                schema(&format!("trigger `{}` {what}", t.name), text)
            }
        };
        out.push(weft_types::TriggerSpec {
            config_schema: or_any("config-schema", &t.config_schema)?,
            item_schema: or_any("item-schema", &t.item_schema)?,
            name: t.name,
            description: t.description,
        });
    }
    Ok(out)
}

/// Builds the WIT context for one attempt.
pub fn context_to_wit(ctx: &StepContext, deadline_unix_ms: u64) -> wit::Context {
    wit::Context {
        workflow_id: ctx.workflow_id.clone(),
        run_id: ctx.run_id.clone(),
        step_id: ctx.step_id.clone(),
        attempt: ctx.attempt,
        idempotency_key: ctx.idempotency_key.clone(),
        deadline_unix_ms,
    }
}

impl From<wit::ErrorKind> for weft_types::ErrorKind {
    fn from(k: wit::ErrorKind) -> Self {
        match k {
            wit::ErrorKind::InvalidInput => Self::InvalidInput,
            wit::ErrorKind::Auth => Self::Auth,
            wit::ErrorKind::RateLimited => Self::RateLimited,
            wit::ErrorKind::Transient => Self::Transient,
            wit::ErrorKind::Permanent => Self::Permanent,
        }
    }
}

impl From<crate::gen_::weft::plugin::log::Level> for weft_types::log::Level {
    fn from(l: crate::gen_::weft::plugin::log::Level) -> Self {
        use crate::gen_::weft::plugin::log::Level as Wit;
        match l {
            Wit::Trace => Self::Trace,
            Wit::Debug => Self::Debug,
            Wit::Info => Self::Info,
            Wit::Warn => Self::Warn,
            Wit::Error => Self::Error,
        }
    }
}
