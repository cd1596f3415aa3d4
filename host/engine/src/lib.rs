//! Workflow definitions for Weft: parse (JSON or YAML, with limits), validate against
//! the connector catalogue, template (`{{ expr }}`, data only), the step graph, and
//! the retry policy. Pure code: no I/O, no store, no queue.
//!
//! ```
//! use weft_engine::{Format, DefinitionLimits, definition, validate};
//! use weft_types::Manifest;
//!
//! let yaml = br#"
//! name: echo
//! steps:
//!   - id: reply
//!     kind: respond
//!     body: { you_sent: "{{ trigger.body }}" }
//! "#;
//! let limits = DefinitionLimits::default();
//! let def = definition::parse(yaml, Format::Yaml, &limits).unwrap();
//! let catalog: Vec<Manifest> = Vec::new();
//! validate::validate(&def, &catalog, &limits).unwrap();
//! ```
//!
//! The format, step kinds, templating rules and limits are documented in
//! `docs/WORKFLOWS.md`.

pub mod budget;
pub mod code;
pub mod credentials;
pub mod definition;
mod eval;
mod expr;
pub mod graph;
pub mod import;
pub mod input;
mod lex;
pub mod retry;
pub mod run;
pub mod schedule;
pub mod schema;
pub mod template;
pub mod validate;

pub use budget::{Budget, RunLimits};
pub use definition::Format;
pub use graph::Graph;
pub use template::{Template, render};
pub use validate::Catalog;
use weft_types::Problem;

/// Size limits applied while parsing and validating a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionLimits {
    /// Largest definition document, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects in the document.
    pub max_depth: usize,
    /// Most steps, counting loop bodies.
    pub max_steps: usize,
    /// Deepest nesting of loops.
    pub max_loop_nesting: usize,
    /// Highest loop parallelism.
    pub max_parallelism: u32,
    /// Longest wait duration, in milliseconds: a `wait` step's `duration_ms`,
    /// a `wait until: resume` step's `timeout_ms`, a retry interval.
    pub max_wait_ms: u64,
    /// Longest `timeout_ms` of a step that is not a wait (the deadline of one
    /// attempt), in milliseconds.
    pub max_step_timeout_ms: u64,
    /// Longest `timeout_ms` of a workflow (the deadline of a run), in milliseconds.
    pub max_run_timeout_ms: u64,
    /// Widest replay window a signed webhook may set
    /// (`triggers.webhook.signature.tolerance_ms`), in milliseconds.
    pub max_webhook_tolerance_ms: u64,
    /// Shortest `triggers.poll.interval_ms`, in milliseconds (never under
    /// [`validate::MIN_POLL_INTERVAL_MS`]).
    pub min_poll_interval_ms: u64,
    /// Most problems reported at once.
    pub max_problems: usize,
}

/// The default [`DefinitionLimits::max_webhook_tolerance_ms`]: one hour.
pub const MAX_WEBHOOK_TOLERANCE_MS: u64 = 3_600_000;

/// The default [`DefinitionLimits::max_step_timeout_ms`]: one hour.
pub const MAX_STEP_TIMEOUT_MS: u64 = 3_600_000;
/// The default [`DefinitionLimits::max_run_timeout_ms`]: seven days.
pub const MAX_RUN_TIMEOUT_MS: u64 = 7 * 24 * 3_600_000;

impl Default for DefinitionLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024,
            max_depth: 64,
            max_steps: 1_000,
            max_loop_nesting: 4,
            max_parallelism: 64,
            max_wait_ms: 366 * 24 * 3_600 * 1_000,
            max_step_timeout_ms: MAX_STEP_TIMEOUT_MS,
            max_run_timeout_ms: MAX_RUN_TIMEOUT_MS,
            max_webhook_tolerance_ms: MAX_WEBHOOK_TOLERANCE_MS,
            min_poll_interval_ms: validate::MIN_POLL_INTERVAL_MS,
            max_problems: 100,
        }
    }
}

impl DefinitionLimits {
    /// The shortest poll interval in force: the deployment's, never under
    /// [`validate::MIN_POLL_INTERVAL_MS`].
    pub fn min_poll_interval(&self) -> u64 {
        self.min_poll_interval_ms
            .max(validate::MIN_POLL_INTERVAL_MS)
    }

    /// Brings every time limit of `def` within these limits: a definition
    /// stored before a limit existed (or was lowered) runs with the limit
    /// instead of its own value. What validation refuses at save, this
    /// clamps at run time, so that no deadline, lease or delay computed from
    /// a definition is absurd.
    pub fn clamp(&self, def: &mut weft_types::Definition) {
        clamp_opt(&mut def.timeout_ms, self.max_run_timeout_ms);
        if let Some(w) = def.triggers.webhook.as_mut() {
            clamp_opt(&mut w.timeout_ms, validate::MAX_WEBHOOK_TIMEOUT_MS);
            if let Some(sig) = w.signature.as_mut() {
                clamp_opt(&mut sig.tolerance_ms, self.max_webhook_tolerance_ms);
            }
        }
        if let Some(p) = def.triggers.poll.as_mut() {
            // Polled no more often than the deployment allows.
            let min = self.min_poll_interval();
            if p.interval_ms() < min {
                p.interval_ms = Some(min);
            }
        }
        self.clamp_steps(&mut def.steps);
    }

    fn clamp_steps(&self, steps: &mut [weft_types::StepDef]) {
        use weft_types::StepKind;
        for s in steps {
            let max = match &s.kind {
                StepKind::Wait(_) => self.max_wait_ms,
                _ => self.max_step_timeout_ms,
            };
            clamp_opt(&mut s.timeout_ms, max);
            if let Some(r) = s.retry.as_mut() {
                clamp_opt(&mut r.initial_interval_ms, self.max_wait_ms);
                clamp_opt(&mut r.max_interval_ms, self.max_wait_ms);
            }
            match &mut s.kind {
                StepKind::Wait(w) => clamp_opt(&mut w.duration_ms, self.max_wait_ms),
                StepKind::Loop(l) => self.clamp_steps(&mut l.body),
                _ => {}
            }
        }
    }
}

fn clamp_opt(v: &mut Option<u64>, max: u64) {
    if let Some(x) = v.as_mut() {
        *x = (*x).min(max);
    }
}

/// Why a definition was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The document is over [`DefinitionLimits::max_bytes`].
    #[error("definition is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The document nests deeper than [`DefinitionLimits::max_depth`].
    #[error("definition nests deeper than {limit} levels (at byte {offset})")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// Where the limit was crossed (0 when not known).
        offset: usize,
    },
    /// The document is not JSON or YAML.
    #[error("definition is not valid {format}: {message}")]
    Syntax {
        /// What it was parsed as.
        format: Format,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The document parsed but is not a valid workflow: every problem found.
    #[error("invalid workflow definition: {}", list(.0))]
    Invalid(Vec<Problem>),
    /// A template failed to render.
    #[error(transparent)]
    Template(#[from] template::Error),
}

fn list(problems: &[Problem]) -> String {
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    shown.join("; ")
}

impl Error {
    /// The problems, as the API reports them (one for the errors without a path).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            Self::Invalid(p) => p.clone(),
            Self::Template(e) => vec![Problem::new(e.path.clone(), {
                let mut e = e.clone();
                e.path.clear();
                e.to_string()
            })],
            other => vec![Problem::new("", other.to_string())],
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_flatten_to_problems() {
        let e = Error::Invalid(vec![Problem::new("/a", "x"), Problem::new("/b", "y")]);
        assert_eq!(e.to_string(), "invalid workflow definition: /a: x; /b: y");
        let e = Error::TooLarge { size: 2, limit: 1 };
        assert_eq!(
            e.problems(),
            vec![Problem::new(
                "",
                "definition is 2 bytes, more than the limit of 1"
            )]
        );
        let t = match render(
            &serde_json::json!({"k": "{{ 1 < 'a' }}"}),
            &serde_json::json!({}),
        ) {
            Err(t) => Error::from(t),
            Ok(v) => panic!("{v}"),
        };
        assert_eq!(
            t.problems(),
            vec![Problem::new(
                "/k",
                "cannot compare number with string at position 5 in `{{ 1 < 'a' }}`"
            )]
        );
    }
}
