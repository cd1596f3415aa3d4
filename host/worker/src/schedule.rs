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
                // A tick a quota refuses is skipped: the schedule moves on to
                // its next tick like any other, so it does not stay due and
                // keep the oldest slots of the sweep from other tenants'
                // schedules. It is not replayed when the quota resets (it was
                // not missed, it was refused: `docs/TENANCY.md`, section 5).
                if let Some(r) = self.refusal(&s.tenant_id, now).await? {
                    // Counted once the advance commits: of N workers racing
                    // on one tick, the one whose compare-and-set won.
                    self.store()
                        .commit(&Commit {
                            schedule: Some(advance),
                            ..Commit::default()
                        })
                        .await?;
                    self.0.metrics.tick_refused(r.quota);
                    tracing::warn!(
                        tenant.id = %s.tenant_id,
                        workflow.id = %s.workflow_id,
                        quota = r.quota,
                        reason = %r.message,
                        "schedule tick skipped: a quota refused its run"
                    );
                    return Ok(());
                }
                let input = json!({"body": {"scheduled_at": s.next_fire_at, "fired_at": now}});
                self.start_admitted(
                    &s.tenant_id,
                    &wf,
                    Trigger::Schedule,
                    input,
                    Some(advance),
                    None,
                    now,
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
