//! A workflow's polling trigger, as its owner sees it (`triggers.poll`).

use crate::{Actor, App, Result};
use weft_store::polling::PollState;
use weft_types::Role;

impl App {
    /// The workflow's polling row, if it has ever had an armed
    /// `triggers.poll`: when the next poll is due, what the last did.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the workflow is not the tenant's.
    pub async fn poll_status(&self, actor: &Actor, id: &str) -> Result<Option<PollState>> {
        actor.require(Role::Viewer)?;
        self.load_workflow(actor, id).await?;
        Ok(self.store().poll_state(&actor.tenant_id, id).await?)
    }
}
