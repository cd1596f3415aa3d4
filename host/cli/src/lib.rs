//! The composition root of `weft`: the only crate that names concrete backends.
//! [`server::Server`] wires the store (SQLite, memory or PostgreSQL), the queue
//! (in-process or RabbitMQ), Redis limits, the sandbox, the connectors, the
//! worker and the API together for one role (all, API or worker);
//! [`config::Settings`] is what configures it (file, then `WEFT_*`). The binary
//! and the end-to-end tests start it the same way.

pub mod config;
pub mod server;
