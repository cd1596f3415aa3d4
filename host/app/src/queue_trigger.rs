//! A workflow's queue trigger, as its owner sees it (`triggers.queue`).

use crate::{Actor, App, Result};
use weft_store::queue_trigger::QueueConsumer;
use weft_types::Role;

impl App {
    /// The workflow's queue consumer row, if it has ever had an armed
    /// `triggers.queue`: whether it consumes, its last message and error.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the workflow is not the tenant's.
    pub async fn queue_status(&self, actor: &Actor, id: &str) -> Result<Option<QueueConsumer>> {
        actor.require(Role::Viewer)?;
        self.load_workflow(actor, id).await?;
        Ok(self.store().queue_consumer(&actor.tenant_id, id).await?)
    }
}
