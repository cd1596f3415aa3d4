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
pub mod usage;

pub use call::{Call, Context};
pub use error::{
    Error, ErrorKind, Result, SNIPPET_MAX, parse_retry_after, parse_retry_after_ms_header,
    retry_after_ms, snippet,
};
pub use manifest::{Action, CredentialSlot, Manifest};

use __private::bindings;

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
}

/// Export a [`Connector`] as the component's `weft:plugin/plugin` interface.
///
/// Use it once, at the crate root of a `cdylib`, naming the type that implements
/// [`Connector`] — `weft_sdk::export!(MyConnector);` (see the crate-level example).
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
}
