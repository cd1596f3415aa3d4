//! `weft:plugin/state` for a plugin: the grant is checked, then the call goes
//! to the granted [`StateStore`](crate::StateStore).

use super::HostState;
use crate::grants::StateGrant;
use weft_world::state::{Host, StateError as WitError};

/// Longest key accepted.
const MAX_KEY: usize = 512;

impl HostState {
    fn state_grant(
        &mut self,
        key: &str,
        value_len: usize,
    ) -> wasmtime::Result<Result<StateGrant, WitError>> {
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
