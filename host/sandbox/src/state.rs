//! The key-value state port a plugin reaches through `weft:plugin/state`
//! (scoped by [`Namespace`]), and an in-memory implementation (for `weft plugin
//! invoke`, tests and the harness). Durable adapters live with the store crates.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Mutex, PoisonError},
};

/// Scope of a plugin's state: nothing crosses tenants or plugins.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// The tenant.
    pub tenant: String,
    /// The plugin's name.
    pub plugin: String,
}

/// A failure of the state backend.
#[derive(Debug, thiserror::Error)]
#[error("state store unavailable: {0}")]
pub struct Unavailable(pub String);

/// A boxed future, for the object-safe port.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where plugin state lives. Every call names the (tenant, plugin) namespace.
pub trait StateStore: Send + Sync + 'static {
    /// Reads a value.
    fn get<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, Unavailable>>;
    /// Writes a value.
    fn set<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), Unavailable>>;
    /// Deletes a value; returns whether it existed.
    fn delete<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
    ) -> BoxFuture<'a, Result<bool, Unavailable>>;
}

/// State in process memory.
#[derive(Default)]
pub struct MemoryState {
    map: Mutex<HashMap<(Namespace, String), Vec<u8>>>,
}

impl MemoryState {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(Namespace, String), Vec<u8>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StateStore for MemoryState {
    fn get<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, Unavailable>> {
        let v = self.map().get(&(ns.clone(), key.to_owned())).cloned();
        Box::pin(async move { Ok(v) })
    }

    fn set<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        self.map().insert((ns.clone(), key.to_owned()), value);
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
    ) -> BoxFuture<'a, Result<bool, Unavailable>> {
        let existed = self.map().remove(&(ns.clone(), key.to_owned())).is_some();
        Box::pin(async move { Ok(existed) })
    }
}
