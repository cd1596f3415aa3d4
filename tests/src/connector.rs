//! A bundled connector in the real sandbox against a [`StandIn`] that answers as
//! the provider: the sandbox resolves the provider's host (the one the manifest
//! declares) to loopback, so the connector's egress checks and the host's
//! credential injection run exactly as in production, and the test points the
//! connector's `base_url` at `http://{host}:{port}`.

use crate::{Built, StandIn, TestSandbox, hosts};
use serde_json::Value;
use std::sync::Arc;
use weft_sandbox::{Credential, Grants, Injection, Invocation, Outcome, Plugin, Secret};
use weft_types::HostPattern;

/// A connector loaded in a sandbox that sends `host` to a stand-in.
pub struct Provider {
    /// The sandbox.
    pub sandbox: Built,
    /// The loaded connector.
    pub plugin: Arc<Plugin>,
    /// The provider's host name, as declared by the connector.
    pub host: String,
    /// The stand-in's port.
    pub port: u16,
}

impl Provider {
    /// Loads the built component `artifact` (e.g. `weft_plugin_github`) with
    /// `host` resolving to the stand-in `server`.
    pub async fn new(artifact: &str, host: &str, server: &StandIn) -> Self {
        let sandbox = TestSandbox::new().resolve(host, "127.0.0.1").build();
        let plugin = sandbox.plugin(artifact).await;
        Self {
            sandbox,
            plugin,
            host: host.into(),
            port: server.port(),
        }
    }

    /// `http://{host}:{port}{path}`: the `base_url` that reaches the stand-in.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.port)
    }

    /// The provider's host granted, with `credentials`.
    pub fn grants(&self, credentials: Vec<Credential>) -> Grants {
        Grants {
            credentials,
            ..hosts(&[&self.host])
        }
    }

    /// Runs `action` with `input`, `config` and `grants` in a fresh instance.
    pub async fn invoke(
        &self,
        action: &str,
        input: Value,
        config: Value,
        grants: Grants,
    ) -> Outcome {
        self.invoke_with(Invocation {
            config: config.to_string(),
            grants,
            ..Invocation::new(action, input.to_string())
        })
        .await
    }

    /// Runs a prepared invocation (to set the step context, e.g. its idempotency key).
    pub async fn invoke_with(&self, invocation: Invocation) -> Outcome {
        self.sandbox.invoke(&self.plugin, invocation).await
    }
}

/// A credential for `slot`, bound to `bound`, injected as `inject`.
pub fn credential(slot: &str, secret: &str, bound: &[&str], inject: Injection) -> Credential {
    Credential {
        slot: slot.into(),
        secret: Secret::new(secret),
        hosts: bound
            .iter()
            .map(|p| p.parse::<HostPattern>().unwrap())
            .collect(),
        inject,
    }
}
