//! The key-value state port a plugin reaches through `weft:plugin/state`, and an
//! in-memory implementation (for `weft plugin invoke`, tests and the harness).
//! Durable adapters live with the store crates.

use super::HostState;
use crate::grants::Namespace;
use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Mutex, PoisonError},
};
use weft_world::state::{Host, StateError as WitError};

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

/// Longest key accepted.
const MAX_KEY: usize = 512;

impl HostState {
    fn state_grant(
        &mut self,
        key: &str,
        value_len: usize,
    ) -> wasmtime::Result<Result<crate::grants::StateGrant, WitError>> {
        self.check_hostcall("a state value", value_len)?;
        if key.len() > MAX_KEY {
            return Ok(Err(WitError::TooLarge(MAX_KEY as u64)));
        }
        let declared = self.manifest.as_ref().is_some_and(|m| m.capabilities.state);
        match (&self.grants.state, declared, self.phase) {
            (Some(g), true, super::Phase::Invoke) => Ok(Ok(g.clone())),
            _ => Ok(Err(WitError::NotGranted)),
        }
    }
}

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, WitError>> {
        let grant = match self.state_grant(&key, 0)? {
            Ok(g) => g,
            Err(e) => return Ok(Err(e)),
        };
        Ok(grant
            .store
            .get(&grant.namespace, &key)
            .await
            .map_err(|e| WitError::Unavailable(e.0)))
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), WitError>> {
        let grant = match self.state_grant(&key, value.len())? {
            Ok(g) => g,
            Err(e) => return Ok(Err(e)),
        };
        Ok(grant
            .store
            .set(&grant.namespace, &key, value)
            .await
            .map_err(|e| WitError::Unavailable(e.0)))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, WitError>> {
        let grant = match self.state_grant(&key, 0)? {
            Ok(g) => g,
            Err(e) => return Ok(Err(e)),
        };
        Ok(grant
            .store
            .delete(&grant.namespace, &key)
            .await
            .map_err(|e| WitError::Unavailable(e.0)))
    }
}
