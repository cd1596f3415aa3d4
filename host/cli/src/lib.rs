//! The composition root of `weft`: the only crate that names concrete backends.
//! [`server::Server`] wires SQLite (or memory), the in-process queue, the
//! sandbox, the bundled connectors, the worker and the API together; the binary
//! and the end-to-end tests start it the same way.

pub mod config;
pub mod server;
