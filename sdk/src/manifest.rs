//! The connector's self-description: actions, schemas and capabilities.

use serde_json::Value;

/// What a connector is and what it asks to be allowed to do.
///
/// Built once per `describe` call; the host reads it when the component is loaded.
///
/// ```
/// use weft_sdk::{Action, CredentialSlot, Manifest};
/// use serde_json::json;
///
/// let manifest = Manifest::new("echo", "0.1.0", "Returns its input.")
///     .action(Action::new("echo", "Return the input unchanged.")
///         .input_schema(json!({"type": "object"}))
///         .output_schema(json!({"type": "object"})))
///     .host("api.example.com")
///     .credential(CredentialSlot::new("api-key", "Example API key").host("api.example.com"));
/// assert_eq!(manifest.name(), "echo");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: String,
    pub(crate) actions: Vec<Action>,
    pub(crate) hosts: Vec<String>,
    pub(crate) credentials: Vec<CredentialSlot>,
    pub(crate) state: bool,
    pub(crate) config_schema: Option<Value>,
}

impl Manifest {
    /// A manifest with no actions and no capabilities. `name` is the lower-case
    /// connector identifier, `version` its semantic version.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            actions: Vec::new(),
            hosts: Vec::new(),
            credentials: Vec::new(),
            state: false,
            config_schema: None,
        }
    }

    /// Offer an action.
    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    /// Ask for outbound access to hosts matching `pattern` (`api.example.com`,
    /// `*.example.com`, or `*` for any public host the tenant allows).
    pub fn host(mut self, pattern: impl Into<String>) -> Self {
        self.hosts.push(pattern.into());
        self
    }

    /// Declare a credential slot.
    pub fn credential(mut self, slot: CredentialSlot) -> Self {
        self.credentials.push(slot);
        self
    }

    /// Declare whether the connector uses the key-value state store.
    pub fn state(mut self, uses_state: bool) -> Self {
        self.state = uses_state;
        self
    }

    /// JSON Schema of the connector's config.
    pub fn config_schema(mut self, schema: Value) -> Self {
        self.config_schema = Some(schema);
        self
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connector's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The declared actions.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The declared host patterns.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// The declared credential slots.
    pub fn credentials(&self) -> &[CredentialSlot] {
        &self.credentials
    }
}

/// One action a connector offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) input_schema: Value,
    pub(crate) output_schema: Value,
}

impl Action {
    /// An action whose input and output schemas accept anything until set.
    /// `name` is the stable identifier used in workflows, e.g. `post-message`.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema: Value::Object(Default::default()),
            output_schema: Value::Object(Default::default()),
        }
    }

    /// JSON Schema of the action's input.
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// JSON Schema of the action's output.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = schema;
        self
    }

    /// The action's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A credential the connector uses by reference: the host injects the secret
/// into outbound requests to the slot's hosts; the connector never sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSlot {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) hosts: Vec<String>,
    pub(crate) optional: bool,
}

impl CredentialSlot {
    /// A required slot with no hosts yet. `name` is what requests refer to,
    /// e.g. `bot-token`.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            hosts: Vec::new(),
            optional: false,
        }
    }

    /// A host pattern the secret may be sent to (`*` = whatever the tenant binds it to).
    pub fn host(mut self, pattern: impl Into<String>) -> Self {
        self.hosts.push(pattern.into());
        self
    }

    /// Whether actions can run without this credential bound.
    pub fn optional(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }

    /// The slot's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
