//! Write Weft connectors in Rust.
//!
//! A connector is a WebAssembly component targeting the `weft:plugin/connector`
//! world (`wit/plugin.wit`). This crate hides the generated bindings behind a
//! small API: implement [`Connector`], call [`export!`], and build with
//! `cargo build --release --target wasm32-wasip2`.
//!
//! - [`Manifest`], [`Action`], [`CredentialSlot`]: what the connector offers and
//!   may do (hosts, credentials, state). Everything undeclared is denied.
//! - [`Call`]: the action's input, config and [`Context`] (idempotency key, deadline).
//! - [`Error`] / [`ErrorKind`]: classified failures; the engine retries
//!   `transient` and `rate-limited` ones. A panic is not an error: it traps,
//!   after the panic message is written to the step log.
//! - [`http`], [`state`], [`log`]: the host imports.
//! - [`usage`]: report what a call used that the host cannot measure (an
//!   LLM's tokens and cost), counted in the tenant's usage.
//!
//! # Example
//!
//! A complete connector that looks up a customer in a CRM:
//!
//! ```no_run
//! use serde::Deserialize;
//! use serde_json::{Value, json};
//! use weft_sdk::http::Request;
//! use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};
//!
//! struct Crm;
//!
//! #[derive(Deserialize)]
//! struct Config {
//!     #[serde(default = "default_base_url")]
//!     base_url: String,
//! }
//!
//! fn default_base_url() -> String {
//!     "https://api.crm.example".into()
//! }
//!
//! #[derive(Deserialize)]
//! struct Lookup {
//!     email: String,
//! }
//!
//! impl Connector for Crm {
//!     fn manifest() -> Manifest {
//!         Manifest::new("crm", "0.1.0", "Look up CRM customers.")
//!             .action(
//!                 Action::new("lookup", "Find a customer by e-mail address.")
//!                     .input_schema(json!({
//!                         "type": "object",
//!                         "required": ["email"],
//!                         "properties": {"email": {"type": "string"}}
//!                     }))
//!                     .output_schema(json!({"type": "object"})),
//!             )
//!             .host("api.crm.example")
//!             .credential(CredentialSlot::new("api-key", "CRM API key").host("api.crm.example"))
//!             .config_schema(json!({
//!                 "type": "object",
//!                 "properties": {"base_url": {"type": "string"}}
//!             }))
//!     }
//!
//!     fn invoke(call: Call) -> Result<Value> {
//!         match call.action() {
//!             "lookup" => {
//!                 let config: Config = call.config()?;
//!                 let input: Lookup = call.input()?; // errors name the field
//!                 let response = Request::get(format!("{}/customers", config.base_url))
//!                     .query("email", &input.email)
//!                     .credential("api-key")
//!                     .send()?               // host refusals, timeouts -> classified
//!                     .error_for_status()?;  // 401 -> auth, 429 -> rate-limited, ...
//!                 weft_sdk::log::info("customer found");
//!                 response.json()
//!             }
//!             other => Err(Error::unknown_action(other)),
//!         }
//!     }
//! }
//!
//! weft_sdk::export!(Crm);
//! # fn main() {}
//! ```
#![deny(missing_docs)]

mod call;
mod error;
mod glue;
pub mod http;
pub mod log;
mod manifest;
pub mod state;
mod trigger;
pub mod usage;

pub use call::{Call, Context};
pub use error::{
    Error, ErrorKind, Result, SNIPPET_MAX, parse_retry_after, parse_retry_after_ms_header,
    retry_after_ms, snippet,
};
pub use manifest::{Action, CredentialSlot, Manifest};
pub use trigger::{Poll, PollItem, PollResult, Trigger, TriggerDef};

use __private::{bindings, bindings_init, bindings_trigger};

/// A Weft connector: describes itself and runs actions.
///
/// Each call runs in a fresh component instance, so there is no `self`: keep
/// anything durable in [`state`].
pub trait Connector {
    /// The connector's self-description. Must not use any host import
    /// (no [`http`], [`state`] or [`log`] calls).
    fn manifest() -> Manifest;

    /// Run `call.action()` with the call's input and config.
    ///
    /// # Errors
    ///
    /// A classified [`Error`]; the engine decides from its kind whether to retry.
    /// Return [`Error::unknown_action`] for an action the connector does not offer.
    fn invoke(call: Call) -> Result<serde_json::Value>;

    /// One-time set-up, exported only by [`export!`]`(MyConnector, init)`: a
    /// host that pre-initialises connectors runs it once per build of the
    /// connector, at load, snapshots the instance, and starts every call from
    /// that snapshot (each call still gets a fresh instance of it). Put the
    /// work every call would otherwise repeat here, into statics that
    /// `invoke` reads (e.g. a parsed grammar, a compiled library).
    ///
    /// It runs before any call: no input, config or credentials exist yet,
    /// [`http`] and [`state`] are refused, clocks read the Unix epoch, and
    /// whatever it computes is shared by every call of every tenant, so keep
    /// nothing secret or call-specific in it. It may not print (stdout and
    /// stderr keep a stream open). A host may also not call it (an older one
    /// does not), so `invoke` must work without it: fill the statics lazily
    /// (`std::sync::OnceLock`) and have `init` only force them.
    fn init() {}
}

/// Export a [`Connector`] as the component's `weft:plugin/plugin` interface.
///
/// Use it once, at the crate root of a `cdylib`, naming the type that implements
/// [`Connector`] — `weft_sdk::export!(MyConnector);` (see the crate-level example).
/// `weft_sdk::export!(MyConnector, init);` also exports [`Connector::init`] as the
/// component's `init` (the `connector-with-init` world), so a host runs it once
/// and starts every call from the snapshot taken after it.
/// `weft_sdk::export!(MyConnector, trigger);` also exports the [`Trigger`]
/// the type implements (the `connector-with-trigger` world), and
/// `weft_sdk::export!(MyConnector, trigger, init);` both.
#[macro_export]
macro_rules! export {
    ($connector:ty) => {
        const _: () = {
            type __WeftExport = $crate::__private::Adapter<$connector>;
            $crate::__private::bindings::__export_connector!(
                __WeftExport with_types_in $crate::__private::bindings
            );
        };
    };
    ($connector:ty, init) => {
        $crate::export!($connector);
        const _: () = {
            type __WeftExport = $crate::__private::Adapter<$connector>;
            $crate::__private::bindings_init::__export_connector_with_init!(
                __WeftExport with_types_in $crate::__private::bindings_init
            );
        };
    };
    ($connector:ty, trigger) => {
        $crate::export!($connector);
        const _: () = {
            type __WeftExport = $crate::__private::Adapter<$connector>;
            $crate::__private::bindings_trigger::__export_trigger_only!(
                __WeftExport with_types_in $crate::__private::bindings_trigger
            );
        };
    };
    ($connector:ty, trigger, init) => {
        $crate::export!($connector, init);
        const _: () = {
            type __WeftExport = $crate::__private::Adapter<$connector>;
            $crate::__private::bindings_trigger::__export_trigger_only!(
                __WeftExport with_types_in $crate::__private::bindings_trigger
            );
        };
    };
}

/// Implementation details of [`export!`]. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::glue::Adapter;

    /// The one guest-side bindgen over `wit/plugin.wit`. The rest of the crate
    /// converts to and from these types; connectors never name them.
    #[allow(unsafe_code, missing_docs, clippy::all)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../wit",
            world: "connector",
            pub_export_macro: true,
            export_macro_name: "__export_connector",
            default_bindings_module: "weft_sdk::__private::bindings",
        });
    }

    /// The root `init` export of the `connector-with-init` world
    /// (`wit/plugin.wit`), for `export!(C, init)`, which also invokes
    /// [`bindings`]' macro: the component then has both worlds' exports. A
    /// world of its own, because a second `generate!` over `wit/plugin.wit`
    /// would define the `plugin` interface's export macro twice.
    #[allow(unsafe_code, missing_docs, clippy::all)]
    pub mod bindings_init {
        wit_bindgen::generate!({
            inline: "package weft:sdk-init;\nworld init-only {\n    export init: func();\n}\n",
            world: "init-only",
            pub_export_macro: true,
            export_macro_name: "__export_connector_with_init",
            default_bindings_module: "weft_sdk::__private::bindings_init",
        });
    }

    /// The `trigger` export of the `connector-with-trigger` world, for
    /// `export!(C, trigger)`: a world of its own (like [`bindings_init`]),
    /// its `types` those of [`bindings`].
    #[allow(unsafe_code, missing_docs, clippy::all)]
    pub mod bindings_trigger {
        wit_bindgen::generate!({
            path: "../wit",
            inline: "package weft:sdk-trigger;\nworld trigger-only {\n    export weft:plugin/trigger@0.1.0;\n}\n",
            world: "weft:sdk-trigger/trigger-only",
            with: {
                "weft:plugin/types@0.1.0": crate::__private::bindings::weft::plugin::types,
            },
            pub_export_macro: true,
            export_macro_name: "__export_trigger_only",
            default_bindings_module: "weft_sdk::__private::bindings_trigger",
        });
    }
}
