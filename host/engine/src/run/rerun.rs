//! Starting a new run from an old one's results: retry a failed run, or re-run
//! from a chosen step.

use super::{Ids, Plan, TRIGGER};
use crate::{Graph, RunLimits};
use weft_types::{Definition, Run, Status, Step};

impl<'a> Plan<'a> {
    /// A new run (`run`, pending) that reuses `old`'s results: every top-level
    /// step that finished well and whose dependencies are reused keeps its row
    /// (with its loop iterations), except `from` and what depends on it. With
    /// `from: None` that re-runs exactly what failed or was cancelled. A test
    /// run's (`run.until`) stays a test run up to the same step.
    ///
    /// # Errors
    /// `from` is not a top-level step of the definition, or not one a test
    /// run up to `run.until` runs.
    pub fn rerun(
        def: &'a Definition,
        ids: &'a dyn Ids,
        limits: RunLimits,
        now: i64,
        run: Run,
        old: &[Step],
        from: Option<&str>,
    ) -> Result<Self, String> {
        let graph = Graph::build(&def.steps).map_err(|p| format!("{p:?}"))?;
        let from = match from {
            Some(id) => Some(
                graph
                    .index_of(id)
                    .ok_or_else(|| format!("`{id}` is not a top-level step of this workflow"))?,
            ),
            None => None,
        };
        // A test run's retry or re-run is a test run up to the same step:
        // `from` must be among the steps it runs.
        if let (Some(u), Some(f)) = (&run.until, from)
            && super::until::reach(&graph, u).is_some_and(|r| !r[f])
        {
            return Err(format!(
                "a test run up to `{u}` runs `{u}` and the steps it depends on; `{}` is not \
                 one of them",
                graph.id(f)
            ));
        }
        let mut kept = vec![false; def.steps.len()];
        for &i in graph.order() {
            let s = &def.steps[i];
            let reusable = old.iter().find(|r| r.key == s.id).is_some_and(|r| {
                r.status == Status::Completed
                    || r.status == Status::Skipped
                    || (r.status == Status::Failed && s.continue_on_fail)
            });
            let downstream = from.is_some_and(|f| f == i || graph.ancestors(i)[f]);
            kept[i] = reusable && !downstream && graph.dependencies(i).iter().all(|&d| kept[d]);
        }
        let mut plan = Self::load(def, ids, limits, now, run, Vec::new());
        plan.expected_seq = None;
        plan.put(Step::new(&plan.run, TRIGGER, Status::Pending, now));
        for (i, s) in def.steps.iter().enumerate() {
            if !kept[i] {
                continue;
            }
            let inner = format!("{}[", s.id);
            for r in old
                .iter()
                .filter(|r| r.key == s.id || r.key.starts_with(&inner))
            {
                let mut copy = r.clone();
                copy.run_id = plan.run.id.clone();
                copy.tenant_id = plan.run.tenant_id.clone();
                copy.resume_token = None;
                copy.created_at = now;
                copy.updated_at = now;
                plan.put(copy);
            }
        }
        plan.begin();
        Ok(plan)
    }
}
