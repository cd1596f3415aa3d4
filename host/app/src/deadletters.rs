//! Dead letters: step tasks the queue gave up on (poison steps), listed for
//! the caller's tenant and re-driven one by one (admin and above).

use crate::{Actor, App, Result};
use weft_queue::DeadLetter;
use weft_types::{Role, Run};

/// Most dead letters one listing returns.
pub const MAX_DEAD_LETTERS: usize = 500;

/// What re-driving a dead letter did.
#[derive(Debug, Clone, PartialEq)]
pub struct Redriven {
    /// The dead letter.
    pub id: String,
    /// The new run, when the step had failed as poison and runs again from it.
    pub rerun: Option<Run>,
}

impl App {
    /// The tenant's dead letters, oldest first.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`]; queue failures.
    pub async fn list_dead_letters(&self, actor: &Actor) -> Result<Vec<DeadLetter>> {
        actor.require(Role::Admin)?;
        Ok(self
            .handle
            .dead_letters(&actor.tenant_id, MAX_DEAD_LETTERS)
            .await?)
    }

    /// Puts a dead letter back into the queue; a step that failed as poison is
    /// re-run in a new run from that step.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`], [`crate::Error::Forbidden`].
    pub async fn redrive_dead_letter(&self, actor: &Actor, id: &str) -> Result<Redriven> {
        actor.require(Role::Admin)?;
        let rerun = self.handle.redrive(&actor.tenant_id, id).await?;
        self.audit(actor, "dead_letter.redrive", id).await?;
        Ok(Redriven {
            id: id.to_owned(),
            rerun,
        })
    }
}
