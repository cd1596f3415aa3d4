//! What [`export!`](crate::export) wires up: the generated `Guest` trait
//! implemented for any [`Connector`], and conversions to the WIT types.

use std::marker::PhantomData;
use std::sync::Once;

use crate::bindings::exports::weft::plugin::plugin::Guest;
use crate::bindings::weft::plugin::types as wit;
use crate::bindings_trigger::exports::weft::plugin::trigger as wt;
use crate::call::parse_json_text;
use crate::{Action, Call, Connector, Context, CredentialSlot, Error, ErrorKind, Manifest};

/// Adapts a [`Connector`] to the generated export traits.
pub struct Adapter<C>(PhantomData<C>);

impl<C: Connector> Guest for Adapter<C> {
    fn describe() -> wit::Manifest {
        C::manifest().into()
    }

    fn invoke(
        ctx: wit::Context,
        action: String,
        input: String,
        config: String,
    ) -> Result<String, wit::PluginError> {
        install_panic_hook();
        run::<C>(ctx.into(), action, &input, &config).map_err(Into::into)
    }
}

/// The `connector-with-init` world's own export: `init`.
impl<C: Connector> crate::bindings_init::Guest for Adapter<C> {
    fn init() {
        install_panic_hook();
        C::init();
    }
}

/// The `connector-with-trigger` world's own export: `trigger`.
impl<C: crate::Trigger> crate::bindings_trigger::exports::weft::plugin::trigger::Guest
    for Adapter<C>
{
    fn describe_triggers() -> Vec<wt::TriggerDef> {
        C::triggers()
            .into_iter()
            .map(|t| wt::TriggerDef {
                name: t.name,
                description: t.description,
                config_schema: json_text(&t.config_schema),
                item_schema: json_text(&t.item_schema),
            })
            .collect()
    }

    fn poll(
        ctx: wit::Context,
        name: String,
        config: String,
        cursor: Option<String>,
    ) -> Result<wt::PollResult, wit::PluginError> {
        install_panic_hook();
        let found = crate::trigger::run_poll::<C>(ctx.into(), name, &config, cursor)?;
        Ok(wt::PollResult {
            items: found
                .items
                .into_iter()
                .map(|i| wt::PollItem {
                    key: i.key,
                    payload: json_text(&i.payload),
                })
                .collect(),
            next_cursor: found.next_cursor,
        })
    }
}

fn run<C: Connector>(
    context: Context,
    action: String,
    input: &str,
    config: &str,
) -> crate::Result<String> {
    let input = parse_json_text("input", input)?;
    let config = parse_json_text("config", config)?;
    let output = C::invoke(Call::new(context, action, input, config))?;
    serde_json::to_string(&output)
        .map_err(|e| Error::permanent(format!("could not serialize the output: {e}")))
}

/// Route panics to the step log before the trap: the host only sees `unreachable`.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(non-string panic payload)");
            let message = match info.location() {
                Some(at) => format!(
                    "connector panicked at {}:{}:{}: {payload}",
                    at.file(),
                    at.line(),
                    at.column()
                ),
                None => format!("connector panicked: {payload}"),
            };
            crate::log::write(crate::log::Level::Error, &message, &[("panic", "true")]);
        }));
    });
}

fn json_text(value: &serde_json::Value) -> String {
    // Serializing a `Value` cannot fail (its map keys are strings).
    serde_json::to_string(value).unwrap_or_default()
}

impl From<Manifest> for wit::Manifest {
    fn from(m: Manifest) -> Self {
        Self {
            name: m.name,
            version: m.version,
            description: m.description,
            actions: m.actions.into_iter().map(Into::into).collect(),
            capabilities: wit::Capabilities {
                hosts: m.hosts,
                credentials: m.credentials.into_iter().map(Into::into).collect(),
                state: m.state,
            },
            config_schema: m.config_schema.as_ref().map(json_text).unwrap_or_default(),
        }
    }
}

impl From<Action> for wit::Action {
    fn from(a: Action) -> Self {
        Self {
            name: a.name,
            description: a.description,
            input_schema: json_text(&a.input_schema),
            output_schema: json_text(&a.output_schema),
        }
    }
}

impl From<CredentialSlot> for wit::CredentialSlot {
    fn from(c: CredentialSlot) -> Self {
        Self {
            name: c.name,
            description: c.description,
            hosts: c.hosts,
            optional: c.optional,
        }
    }
}

impl From<wit::Context> for Context {
    fn from(c: wit::Context) -> Self {
        Self {
            workflow_id: c.workflow_id,
            run_id: c.run_id,
            step_id: c.step_id,
            attempt: c.attempt,
            idempotency_key: c.idempotency_key,
            deadline_unix_ms: c.deadline_unix_ms,
        }
    }
}

impl From<Error> for wit::PluginError {
    fn from(e: Error) -> Self {
        let kind = match e.kind {
            ErrorKind::InvalidInput => wit::ErrorKind::InvalidInput,
            ErrorKind::Auth => wit::ErrorKind::Auth,
            ErrorKind::RateLimited => wit::ErrorKind::RateLimited,
            ErrorKind::Transient => wit::ErrorKind::Transient,
            ErrorKind::Permanent => wit::ErrorKind::Permanent,
        };
        Self {
            kind,
            message: e.message,
            retry_after_ms: e.retry_after_ms,
        }
    }
}
