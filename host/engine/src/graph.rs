//! The step graph of one step list (the top level, or one loop body): a DAG.
//!
//! A step's dependencies are its `after` list; when `after` is absent they are the
//! branching steps that name it in `then`/`else`/`cases`/`default`, else the previous
//! step of the list, else none (the first step is a root). `after: []` makes a root.

use std::collections::{HashMap, VecDeque};
use weft_types::{Problem, StepDef};

/// A validated step graph. Nodes are indexes into the step list it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    deps: Vec<Vec<usize>>,
    succs: Vec<Vec<usize>>,
    order: Vec<usize>,
}

impl Graph {
    /// Builds the graph of `steps`.
    ///
    /// # Errors
    /// Every [`Problem`] (paths relative to the list, e.g. `/3/after/0`): duplicate ids,
    /// unknown or self references in `after`, cycles.
    pub fn build(steps: &[StepDef]) -> Result<Self, Vec<Problem>> {
        let (g, problems) = Self::build_lenient(steps);
        if problems.is_empty() {
            Ok(g)
        } else {
            Err(problems)
        }
    }

    /// Builds what can be built, dropping bad edges, and reports the problems.
    pub(crate) fn build_lenient(steps: &[StepDef]) -> (Self, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut index = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            if index.insert(s.id.clone(), i).is_some() {
                problems.push(Problem::new(
                    format!("/{i}/id"),
                    format!("duplicate step id `{}`", s.id),
                ));
                index.insert(s.id.clone(), first(steps, &s.id));
            }
        }
        let mut branched: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            for t in s.kind.branch_targets() {
                if let Some(&j) = index.get(t)
                    && j != i
                    && !branched[j].contains(&i)
                {
                    branched[j].push(i);
                }
            }
        }
        let mut deps = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            deps[i] = match &s.after {
                Some(after) => {
                    let mut d = Vec::new();
                    for (k, a) in after.iter().enumerate() {
                        let path = format!("/{i}/after/{k}");
                        match index.get(a) {
                            None => {
                                problems.push(Problem::new(path, format!("unknown step `{a}`")))
                            }
                            Some(&j) if j == i => problems.push(Problem::new(
                                path,
                                format!("step `{a}` cannot come after itself"),
                            )),
                            Some(&j) if !d.contains(&j) => d.push(j),
                            Some(_) => problems
                                .push(Problem::new(path, format!("step `{a}` is listed twice"))),
                        }
                    }
                    d
                }
                None if !branched[i].is_empty() => branched[i].clone(),
                None if i > 0 => vec![i - 1],
                None => Vec::new(),
            };
        }
        let mut succs = vec![Vec::new(); steps.len()];
        for (i, d) in deps.iter().enumerate() {
            for &j in d {
                succs[j].push(i);
            }
        }
        let order = topo(&deps, &succs);
        if order.len() < steps.len() {
            let cycle = find_cycle(&deps, &order);
            let names: Vec<&str> = cycle.iter().map(|&i| steps[i].id.as_str()).collect();
            let at = cycle.iter().copied().min().unwrap_or(0);
            problems.push(Problem::new(
                format!("/{at}/after"),
                format!(
                    "cycle: {} -> {}",
                    names.join(" -> "),
                    names.first().copied().unwrap_or_default()
                ),
            ));
        }
        let ids = steps.iter().map(|s| s.id.clone()).collect();
        (
            Self {
                ids,
                index,
                deps,
                succs,
                order,
            },
            problems,
        )
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of step `i`.
    pub fn id(&self, i: usize) -> &str {
        self.ids.get(i).map_or("", String::as_str)
    }

    /// The index of the step called `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The steps `i` waits for.
    pub fn dependencies(&self, i: usize) -> &[usize] {
        self.deps.get(i).map_or(&[], Vec::as_slice)
    }

    /// The steps waiting for `i`.
    pub fn successors(&self, i: usize) -> &[usize] {
        self.succs.get(i).map_or(&[], Vec::as_slice)
    }

    /// Steps with no dependencies, in list order.
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&i| self.deps[i].is_empty())
    }

    /// A topological order (dependencies first; ties in list order).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Marks every step `i` depends on, directly or not (`i` itself is not marked).
    pub fn ancestors(&self, i: usize) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut todo: Vec<usize> = self.dependencies(i).to_vec();
        while let Some(j) = todo.pop() {
            if !std::mem::replace(&mut seen[j], true) {
                todo.extend_from_slice(&self.deps[j]);
            }
        }
        seen
    }
}

fn first(steps: &[StepDef], id: &str) -> usize {
    steps.iter().position(|s| s.id == id).unwrap_or(0)
}

/// Kahn's algorithm; returns fewer nodes than there are when there is a cycle.
fn topo(deps: &[Vec<usize>], succs: &[Vec<usize>]) -> Vec<usize> {
    let mut missing: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: VecDeque<usize> = (0..deps.len()).filter(|&i| missing[i] == 0).collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &s in &succs[i] {
            missing[s] -= 1;
            if missing[s] == 0 {
                ready.push_back(s);
            }
        }
    }
    order
}

/// One cycle among the nodes Kahn's algorithm could not order, in dependency order.
fn find_cycle(deps: &[Vec<usize>], ordered: &[usize]) -> Vec<usize> {
    let mut done = vec![false; deps.len()];
    for &i in ordered {
        done[i] = true;
    }
    // Every unordered node has an unordered dependency: walk them until one repeats.
    let Some(start) = (0..deps.len()).find(|&i| !done[i]) else {
        return Vec::new();
    };
    let mut pos = vec![usize::MAX; deps.len()];
    let mut walk = Vec::new();
    let mut at = start;
    while pos[at] == usize::MAX {
        pos[at] = walk.len();
        walk.push(at);
        match deps[at].iter().find(|&&d| !done[d]) {
            Some(&d) => at = d,
            None => return walk,
        }
    }
    let mut cycle = walk.split_off(pos[at]);
    cycle.reverse();
    // Start the cycle at its earliest step so the message is stable.
    let lowest = cycle
        .iter()
        .enumerate()
        .min_by_key(|(_, i)| **i)
        .map_or(0, |(k, _)| k);
    cycle.rotate_left(lowest);
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps(v: Value) -> Vec<StepDef> {
        serde_json::from_value(v).unwrap()
    }
    use serde_json::Value;

    #[test]
    fn defaults_to_the_previous_step_and_branches() {
        let s = steps(json!([
            {"id": "a", "kind": "merge"},
            {"id": "c", "kind": "condition", "if": "true", "then": ["t"], "else": ["e"]},
            {"id": "t", "kind": "merge"},
            {"id": "e", "kind": "merge"},
            {"id": "m", "kind": "merge", "after": ["t", "e"]},
            {"id": "r", "kind": "merge", "after": []}
        ]));
        let g = Graph::build(&s).unwrap();
        assert_eq!(g.dependencies(1), &[0]);
        assert_eq!(g.dependencies(2), &[1]);
        assert_eq!(
            g.dependencies(3),
            &[1],
            "branch target depends on its branching step"
        );
        assert_eq!(g.successors(1), &[2, 3]);
        assert_eq!(g.roots().collect::<Vec<_>>(), vec![0, 5]);
        assert_eq!(g.order(), &[0, 5, 1, 2, 3, 4]);
        let anc = g.ancestors(4);
        assert_eq!(anc, vec![true, true, true, true, false, false]);
        assert_eq!(g.index_of("m"), Some(4));
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let s = steps(json!([
            {"id": "a", "kind": "merge", "after": ["c"]},
            {"id": "b", "kind": "merge", "after": ["nope", "b", "a", "a"]},
            {"id": "c", "kind": "merge"},
            {"id": "a", "kind": "merge", "after": []}
        ]));
        let p: Vec<String> = Graph::build(&s)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            p,
            vec![
                "/3/id: duplicate step id `a`",
                "/1/after/0: unknown step `nope`",
                "/1/after/1: step `b` cannot come after itself",
                "/1/after/3: step `a` is listed twice",
                "/0/after: cycle: a -> b -> c -> a",
            ]
        );
    }

    #[test]
    fn long_chains_are_fine() {
        let s: Vec<StepDef> = (0..1000)
            .map(|i| {
                serde_json::from_value(json!({"id": format!("s{i}"), "kind": "merge"})).unwrap()
            })
            .collect();
        let g = Graph::build(&s).unwrap();
        assert_eq!(g.order().len(), 1000);
        assert_eq!(g.ancestors(999).iter().filter(|x| **x).count(), 999);
    }
}
