//! The sandbox's plugin-state port on top of the store.

use std::sync::Arc;
use weft_sandbox::{Namespace, StateStore, Unavailable};
use weft_store::Store;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Plugin state kept in the store, per (tenant, plugin).
pub struct StoreState(pub Arc<dyn Store>);

fn unavailable(e: weft_store::Error) -> Unavailable {
    Unavailable(e.to_string())
}

impl StateStore for StoreState {
    fn get<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, Unavailable>> {
        Box::pin(async move {
            self.0
                .state_get(&ns.tenant, &ns.plugin, key)
                .await
                .map_err(unavailable)
        })
    }

    fn set<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), Unavailable>> {
        Box::pin(async move {
            self.0
                .state_set(&ns.tenant, &ns.plugin, key, &value)
                .await
                .map_err(unavailable)
        })
    }

    fn delete<'a>(
        &'a self,
        ns: &'a Namespace,
        key: &'a str,
    ) -> BoxFuture<'a, Result<bool, Unavailable>> {
        Box::pin(async move {
            self.0
                .state_delete(&ns.tenant, &ns.plugin, key)
                .await
                .map_err(unavailable)
        })
    }
}
