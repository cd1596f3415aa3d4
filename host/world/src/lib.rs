//! The host side of the `weft:plugin` WIT contract: the one `bindgen!` over `wit/`,
//! conversions between generated types and [`weft_types`], and the check that a
//! component fits the world ([`fit::check`]).
//!
//! Everything wasmtime generates stays in the private `gen_` module; other crates use
//! the re-exports below.
//!
//! ```no_run
//! # fn demo(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let component = wasmtime::component::Component::new(engine, bytes)?;
//! let shape = weft_world::fit::check(engine, &component)?;
//! for import in &shape.imports {
//!     println!("imports {}", import.name);
//! }
//! # Ok(()) }
//! ```

mod convert;
pub mod fit;

#[allow(missing_docs, clippy::all)]
mod gen_ {
    wasmtime::component::bindgen!({
        world: "connector",
        path: "../../wit",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

/// The optional `trigger` export (`connector-with-trigger`): generated over
/// its own world, its imports the ones of [`gen_`], so a connector without it
/// still instantiates as a plain [`Connector`].
#[allow(missing_docs, clippy::all)]
mod gen_trigger {
    wasmtime::component::bindgen!({
        world: "connector-with-trigger",
        path: "../../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "weft:plugin/types": crate::gen_::weft::plugin::types,
            "weft:plugin/log": crate::gen_::weft::plugin::log,
            "weft:plugin/state": crate::gen_::weft::plugin::state,
            "weft:plugin/http": crate::gen_::weft::plugin::http,
        },
    });
}

pub use convert::{ConvertError, context_to_wit, manifest_from_wit, triggers_from_wit};
pub use gen_::weft::plugin::{http, log, state, types as wit_types};
pub use gen_::{Connector, ConnectorPre};
pub use gen_trigger::exports::weft::plugin::trigger as wit_trigger;

/// The WIT package this host implements, and the version guests may target
/// (any `0.1.x`, matched by semver).
pub const PACKAGE: &str = "weft:plugin";
/// The contract version this host is built from.
pub const VERSION: &str = "0.1.0";
/// The exported interface every connector must provide.
pub const EXPORT: &str = "weft:plugin/plugin";
/// The optional exported interface of a connector with polling triggers.
pub const TRIGGER_EXPORT: &str = "weft:plugin/trigger";
