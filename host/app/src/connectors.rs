//! Connectors: what workflows of this server can use.

use crate::{Actor, App, Result};
use weft_types::Role;
use weft_worker::Entry;

impl App {
    /// The loaded connectors, with their manifests (actions, schemas,
    /// capabilities), by name.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`] below viewer.
    pub fn list_connectors(&self, actor: &Actor) -> Result<Vec<Entry>> {
        actor.require(Role::Viewer)?;
        Ok(self.handle.connectors().list())
    }
}
