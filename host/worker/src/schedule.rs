//! Cron schedules: a due tick starts a run and moves the schedule to its next
//! tick in the same commit, so a tick fires once even with several workers.

use crate::{Handle, Result};
use serde_json::json;
use weft_engine::schedule::{Cron, next_fire};
use weft_store::{Commit, ScheduleAdvance};
use weft_types::{Schedule, Trigger};

/// The first tick of a schedule after `now`, for activation.
///
/// # Errors
/// The expression or time zone is invalid (validation catches this earlier).
pub fn first_tick(cron: &str, timezone: &str, now: i64) -> std::result::Result<i64, String> {
    Cron::parse(cron, timezone)?
        .next_after(now)
        .ok_or_else(|| format!("`{cron}` never fires"))
}

impl Handle {
    pub(crate) async fn fire_schedules(&self, now: i64) -> Result<()> {
        // A suspended or deleted tenant's schedules are not due (the query
        // leaves them out, so they hold back no other tenant's); they stay
        // due, so on resume their missed ticks follow the `missed` rule.
        for s in self.store().due_schedules(now, 100).await? {
            if let Err(e) = self.fire(&s, now).await {
                tracing::debug!(workflow.id = %s.workflow_id, error = %e, "schedule tick not taken");
            }
        }
        Ok(())
    }

    async fn fire(&self, s: &Schedule, now: i64) -> Result<()> {
        // An expression that no longer parses (it was validated when stored)
        // parks the schedule rather than firing it in a loop.
        let fire = match Cron::parse(&s.cron, &s.timezone) {
            Ok(cron) => next_fire(&cron, s.missed, s.next_fire_at, now),
            Err(e) => {
                tracing::warn!(workflow.id = %s.workflow_id, error = %e, "schedule no longer parses");
                weft_engine::schedule::Fire {
                    run_now: false,
                    next_ms: None,
                }
            }
        };
        let advance = ScheduleAdvance {
            tenant_id: s.tenant_id.clone(),
            workflow_id: s.workflow_id.clone(),
            expected: s.next_fire_at,
            next: fire.next_ms.unwrap_or(i64::MAX),
        };
        let workflow = self
            .store()
            .get_workflow(&s.tenant_id, &s.workflow_id)
            .await?;
        match workflow {
            Some(wf) if wf.active && fire.run_now => {
                let input = json!({"body": {"scheduled_at": s.next_fire_at, "fired_at": now}});
                self.start_with(
                    &s.tenant_id,
                    &wf,
                    Trigger::Schedule,
                    input,
                    Some(advance),
                    None,
                )
                .await?;
            }
            _ => {
                self.store()
                    .commit(&Commit {
                        schedule: Some(advance),
                        ..Commit::default()
                    })
                    .await?;
            }
        }
        Ok(())
    }
}
