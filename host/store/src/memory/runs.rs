//! Runs, steps and the journal in memory: `commit` and the run queries.

use super::{Inner, k2, page};
use crate::stats::{BUSIEST, BucketCount, BusyWorkflow, RunStats, StatsWindow};
use crate::{Commit, Error, LastRun, Page, Result, RunFilter, RunState};
use std::collections::BTreeMap;
use weft_types::{Run, Status, Step};

impl Inner {
    /// Whether `tenant` is active, or has no row (the sweeper's queries
    /// leave out a suspended tenant's steps and schedules).
    pub(super) fn tenant_active(&self, tenant: &str) -> bool {
        self.tenants
            .get(tenant)
            .is_none_or(|t| t.state.refusal().is_none())
    }

    /// Checks everything first, then writes: a failed commit writes nothing.
    pub(super) fn commit(&mut self, c: &Commit) -> Result<()> {
        for (run, expected) in &c.runs {
            let stored = self.runs.get(&k2(&run.tenant_id, &run.id));
            match (expected, stored) {
                (None, None) => {}
                (Some(e), Some(s)) if s.seq == *e && run.seq > *e => {}
                (None, Some(_)) => return Err(Error::Duplicate(format!("run {} exists", run.id))),
                _ => return Err(Error::Stale(format!("run {} moved on", run.id))),
            }
        }
        if let Some(a) = &c.schedule {
            let s = self.schedules.get(&k2(&a.tenant_id, &a.workflow_id));
            if s.is_none_or(|s| s.next_fire_at != a.expected) {
                return Err(Error::Stale("schedule tick already taken".into()));
            }
        }
        if let Some(p) = &c.poll {
            self.polls.check(p)?;
        }
        self.check_refs(c)?;
        if let Some(d) = &c.delivery {
            let key = (
                d.tenant_id.clone(),
                d.workflow_id.clone(),
                d.delivery_id.clone(),
            );
            if self
                .deliveries
                .get(&key)
                .is_some_and(|old| old.expires_at > d.created_at)
            {
                return Err(Error::Duplicate(format!(
                    "delivery `{}` was seen",
                    d.delivery_id
                )));
            }
        }
        if let Some(d) = &c.delivery {
            let key = (
                d.tenant_id.clone(),
                d.workflow_id.clone(),
                d.delivery_id.clone(),
            );
            self.deliveries.insert(key, d.clone());
        }
        if let Some(p) = &c.poll {
            self.polls.advance(p);
        }
        let usage = self.usage_of(c);
        self.count(usage);
        for (run, _) in &c.runs {
            self.runs.insert(k2(&run.tenant_id, &run.id), run.clone());
        }
        for s in &c.steps {
            self.steps.insert(step_key(s), s.clone());
        }
        for a in &c.attempts {
            let key = (
                a.tenant_id.clone(),
                a.run_id.clone(),
                a.step_key.clone(),
                a.attempt,
            );
            self.attempts.insert(key, a.clone());
        }
        if let Some(a) = &c.schedule
            && let Some(s) = self.schedules.get_mut(&k2(&a.tenant_id, &a.workflow_id))
        {
            s.next_fire_at = a.next;
        }
        for e in &c.outbox {
            self.outbox
                .insert((e.created_at, e.id.clone()), (e.clone(), e.claimed_until));
        }
        self.notify(c);
        Ok(())
    }

    /// What a database's foreign keys and unique indexes check in a commit:
    /// every step belongs to a run and every attempt to a step (stored or in
    /// the commit), and a resume token names one step only.
    fn check_refs(&self, c: &Commit) -> Result<()> {
        let run_known = |t: &str, r: &str| {
            self.runs.contains_key(&k2(t, r))
                || c.runs.iter().any(|(x, _)| x.tenant_id == t && x.id == r)
        };
        for s in &c.steps {
            if !run_known(&s.tenant_id, &s.run_id) {
                return Err(Error::NotFound("run"));
            }
            let Some(token) = s.resume_token.as_deref() else {
                continue;
            };
            let holds = |o: &Step| o.resume_token.as_deref() == Some(token);
            let taken = self
                .steps
                .values()
                .chain(&c.steps)
                .filter(|o| holds(o))
                .any(|o| step_key(o) != step_key(s));
            if taken {
                return Err(Error::Duplicate("resume token is taken".into()));
            }
        }
        for a in &c.attempts {
            let key = (a.tenant_id.clone(), a.run_id.clone(), a.step_key.clone());
            if !self.steps.contains_key(&key) && !c.steps.iter().any(|s| step_key(s) == key) {
                return Err(Error::NotFound("step"));
            }
        }
        Ok(())
    }

    pub(super) fn load_run(&self, tenant: &str, id: &str) -> Option<RunState> {
        let run = self.runs.get(&k2(tenant, id)).cloned()?;
        let lo = (tenant.to_owned(), id.to_owned(), String::new());
        let steps = self
            .steps
            .range(lo..)
            .take_while(|((t, r, _), _)| t == tenant && r == id)
            .map(|(_, s)| s.clone())
            .collect();
        Some(RunState { run, steps })
    }

    /// [`Inner::load_run`] with a terminal step's data left out unless its
    /// key is in `full` (`Store::load_run_lean`).
    pub(super) fn load_run_lean(
        &self,
        tenant: &str,
        id: &str,
        full: &[String],
    ) -> Option<RunState> {
        let run = self.runs.get(&k2(tenant, id)).cloned()?;
        let lo = (tenant.to_owned(), id.to_owned(), String::new());
        let steps = self
            .steps
            .range(lo..)
            .take_while(|((t, r, _), _)| t == tenant && r == id)
            .map(|(_, s)| {
                if s.status.is_terminal() && !full.contains(&s.key) {
                    Step {
                        input: None,
                        output: None,
                        error: None,
                        ..s.clone()
                    }
                } else {
                    s.clone()
                }
            })
            .collect();
        Some(RunState { run, steps })
    }

    pub(super) fn list_runs(&self, tenant: &str, f: &RunFilter, p: &Page) -> Vec<Run> {
        let it = self
            .runs
            .iter()
            .filter(|((t, _), r)| t == tenant && f.accepts(r))
            .map(|((_, id), r)| (id.clone(), r.clone()));
        page(it, p)
    }

    pub(super) fn last_runs(&self, tenant: &str, workflow_ids: &[String]) -> Vec<LastRun> {
        let mut newest: BTreeMap<&str, &Run> = BTreeMap::new();
        for ((t, _), r) in &self.runs {
            if t != tenant || !workflow_ids.contains(&r.workflow_id) {
                continue;
            }
            let slot = newest.entry(r.workflow_id.as_str()).or_insert(r);
            if r.id > slot.id {
                *slot = r;
            }
        }
        newest
            .into_values()
            .map(|r| LastRun {
                workflow_id: r.workflow_id.clone(),
                id: r.id.clone(),
                status: r.status,
                created_at: r.created_at,
            })
            .collect()
    }

    pub(super) fn due_steps(&self, at: i64, limit: u32) -> Vec<Step> {
        let mut v: Vec<Step> = self
            .steps
            .values()
            .filter(|s| !s.status.is_terminal() && s.due_at.is_some_and(|d| d <= at))
            .filter(|s| self.tenant_active(&s.tenant_id))
            .cloned()
            .collect();
        v.sort_by_key(|s| s.due_at);
        v.truncate(limit as usize);
        v
    }

    pub(super) fn overdue_runs(&self, at: i64, limit: u32) -> Vec<Run> {
        let mut v: Vec<Run> = self
            .runs
            .values()
            .filter(|r| !r.status.is_terminal() && r.deadline_at.is_some_and(|d| d <= at))
            .filter(|r| self.tenant_active(&r.tenant_id))
            .cloned()
            .collect();
        v.sort_by_key(|r| r.deadline_at);
        v.truncate(limit as usize);
        v
    }

    pub(super) fn run_stats(&self, tenant: &str, w: &StatsWindow) -> RunStats {
        let mut buckets: BTreeMap<(i64, &str), BucketCount> = BTreeMap::new();
        let mut per_workflow: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let runs = self
            .runs
            .iter()
            .filter(|((t, _), r)| t == tenant && w.contains(r.created_at))
            .map(|(_, r)| r);
        for r in runs {
            let bucket = w.bucket_of(r.created_at);
            buckets
                .entry((bucket, r.status.as_str()))
                .or_insert(BucketCount {
                    bucket,
                    status: r.status,
                    runs: 0,
                })
                .runs += 1;
            let counts = per_workflow.entry(r.workflow_id.as_str()).or_default();
            counts.0 += 1;
            counts.1 += u64::from(r.status == Status::Failed);
        }
        let mut busiest: Vec<BusyWorkflow> = per_workflow
            .into_iter()
            .map(|(id, (runs, failed))| BusyWorkflow {
                workflow_id: id.to_owned(),
                name: self.workflows.get(&k2(tenant, id)).map(|w| w.name.clone()),
                runs,
                failed,
            })
            .collect();
        busiest.sort_by(|a, b| b.runs.cmp(&a.runs).then(a.workflow_id.cmp(&b.workflow_id)));
        busiest.truncate(BUSIEST as usize);
        RunStats {
            buckets: buckets.into_values().collect(),
            busiest,
        }
    }

    pub(super) fn count_runs(&self) -> Vec<(Status, u64)> {
        let mut counts: BTreeMap<&str, (Status, u64)> = BTreeMap::new();
        for r in self.runs.values() {
            counts.entry(r.status.as_str()).or_insert((r.status, 0)).1 += 1;
        }
        counts.into_values().collect()
    }
}

fn step_key(s: &Step) -> (String, String, String) {
    (s.tenant_id.clone(), s.run_id.clone(), s.key.clone())
}
