//! Dead letters as a tenant sees them: the queue's dead-letter store, filtered
//! to the tenant's tasks, and re-driving one.

use crate::{Error, Handle, Result};
use weft_queue::{DeadLetter, MessageId};
use weft_types::{Reason, Run, Status};

/// How many dead letters are read from the queue to find a tenant's.
const SCAN: usize = 1_000;

impl Handle {
    /// The tenant's dead letters, oldest first (at most `limit`).
    ///
    /// # Errors
    /// `Queue` when the queue cannot list them.
    pub async fn dead_letters(&self, tenant: &str, limit: usize) -> Result<Vec<DeadLetter>> {
        let all = self
            .queue()
            .dead_letters(SCAN)
            .await
            .map_err(|e| Error::Queue(e.to_string()))?;
        Ok(all
            .into_iter()
            .filter(|d| d.task.tenant_id == tenant)
            .take(limit)
            .collect())
    }

    /// Puts dead letter `id` back into the queue. When its step already failed
    /// as `poison` (the run ended), the step is run again in a new run that
    /// re-executes it and what follows, reusing the results before it; that run
    /// is returned.
    ///
    /// # Errors
    /// `NotFound` for an id that is not one of the tenant's dead letters.
    pub async fn redrive(&self, tenant: &str, id: &str) -> Result<Option<Run>> {
        let letter = self
            .dead_letters(tenant, SCAN)
            .await?
            .into_iter()
            .find(|d| d.id.as_str() == id)
            .ok_or(Error::NotFound("dead letter"))?;
        let t = &letter.task;
        let state = self.store().load_run(tenant, &t.run_id).await?;
        let poisoned = state.as_ref().is_some_and(|s| {
            s.run.status.is_terminal()
                && s.step(&t.step_key).is_some_and(|st| {
                    st.status == Status::Failed
                        && st.error.as_ref().is_some_and(|e| e.is(Reason::Poison))
                })
        });
        self.queue()
            .redrive(&MessageId::new(id))
            .await
            .map_err(|e| match e {
                weft_queue::Error::NotFound(_) => Error::NotFound("dead letter"),
                e => Error::Queue(e.to_string()),
            })?;
        if poisoned && !t.step_key.contains('[') {
            return Ok(Some(
                self.rerun(tenant, &t.run_id, Some(&t.step_key)).await?,
            ));
        }
        Ok(None)
    }
}
