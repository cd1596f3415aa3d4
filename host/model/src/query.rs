//! Query strings. Each type lists its parameters ([`Query::PARAMS`]) and checks
//! its values ([`Query::check`]) beyond their types: the server refuses an
//! unknown parameter, a value of the wrong type and a cursor that is not an id
//! of the listed resource with 400, naming the parameter and the value.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::{Status, Trigger};

/// A query string's type.
pub trait Query {
    /// Every parameter it takes.
    const PARAMS: &'static [&'static str];

    /// Checks the values beyond their types.
    ///
    /// # Errors
    /// The first bad parameter.
    fn check(&self) -> Result<(), BadQuery> {
        Ok(())
    }
}

/// A refused query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery {
    /// The parameter.
    pub param: String,
    /// Its value as sent.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for BadQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "query parameter `{}`: `{}` {}",
            self.param, self.value, self.reason
        )
    }
}

/// Whether `s` is an id the server makes with `prefix`: `{prefix}_` and 28
/// lower-case hex digits (milliseconds and 64 random bits).
pub fn is_id(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|hex| {
            hex.len() == 28 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

fn cursor(before: Option<&String>, prefix: &str, what: &str) -> Result<(), BadQuery> {
    match before {
        Some(b) if !is_id(prefix, b) => Err(BadQuery {
            param: "before".into(),
            value: b.clone(),
            reason: format!("is not a {what} id (`{prefix}_…`, from a page's `next`)"),
        }),
        _ => Ok(()),
    }
}

/// Longest `q` of `GET /v1/workflows` (a workflow's name is at most 200
/// characters).
pub const MAX_SEARCH: usize = 200;

/// `GET /v1/workflows`: a page, newest first, optionally only the workflows
/// whose name contains `q`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowsQuery {
    /// Only workflows whose name contains this text (letters A-Z match either
    /// case; `%` and `_` are plain characters); at most 200 characters. Empty:
    /// every workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The `next` of the previous page: only items older than this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Items per page, 1-500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl WorkflowsQuery {
    /// The page size the server uses.
    pub fn size(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }

    /// The search text, `None` when absent or empty.
    pub fn search(&self) -> Option<&str> {
        self.q.as_deref().filter(|q| !q.is_empty())
    }
}

impl Query for WorkflowsQuery {
    const PARAMS: &'static [&'static str] = &["q", "before", "limit"];
    fn check(&self) -> Result<(), BadQuery> {
        if let Some(q) = &self.q
            && q.chars().count() > MAX_SEARCH
        {
            return Err(BadQuery {
                param: "q".into(),
                value: q.chars().take(40).chain("…".chars()).collect(),
                reason: format!("is longer than {MAX_SEARCH} characters"),
            });
        }
        cursor(self.before.as_ref(), "wf", "workflow")
    }
}

/// `GET /v1/runs`: a page of runs, newest first. The filters combine (all
/// must hold).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Only this workflow's runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// Only runs in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Only runs started this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// Only runs created at or after this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Only runs created before this time (Unix milliseconds, excluded);
    /// after `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// The `next` of the previous page: only runs older than this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Runs per page, 1-500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl RunsQuery {
    /// The page size the server uses.
    pub fn size(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
}

impl Query for RunsQuery {
    const PARAMS: &'static [&'static str] = &[
        "workflow_id",
        "status",
        "trigger",
        "from",
        "to",
        "before",
        "limit",
    ];
    fn check(&self) -> Result<(), BadQuery> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to <= from
        {
            return Err(BadQuery {
                param: "to".into(),
                value: to.to_string(),
                reason: format!("is not after `from` ({from})"),
            });
        }
        cursor(self.before.as_ref(), "run", "run")
    }
}

/// `POST /v1/workflows/{id}/runs`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// Wait up to this many milliseconds (at most 60000) for the run to
    /// respond or end before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

impl Query for StartQuery {
    const PARAMS: &'static [&'static str] = &["wait_ms"];
}

/// `GET /v1/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries, newest first, at most 1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Query for AuditQuery {
    const PARAMS: &'static [&'static str] = &["limit"];
}

/// A route without query parameters: any parameter is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

impl Query for NoQuery {
    const PARAMS: &'static [&'static str] = &[];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_must_be_ids_of_the_resource() {
        assert!(is_id("run", "run_0190a1b2c3d4e5f60718293a4b5c"));
        assert!(!is_id("run", "wf_0190a1b2c3d4e5f60718293a4b5c"));
        assert!(!is_id("run", "zzz"));
        assert!(!is_id("run", "run_0190A1B2C3D4E5F60718293A4B5C"));
        let q = RunsQuery {
            before: Some("zzz".into()),
            ..RunsQuery::default()
        };
        let e = q.check().unwrap_err();
        assert_eq!((e.param.as_str(), e.value.as_str()), ("before", "zzz"));
    }

    #[test]
    fn a_time_window_must_not_be_empty() {
        let q = |from, to| RunsQuery {
            from,
            to,
            ..RunsQuery::default()
        };
        assert!(q(Some(5), Some(6)).check().is_ok());
        assert!(q(Some(5), None).check().is_ok() && q(None, Some(5)).check().is_ok());
        let e = q(Some(5), Some(5)).check().unwrap_err();
        assert_eq!((e.param.as_str(), e.value.as_str()), ("to", "5"));
        assert!(q(Some(6), Some(5)).check().is_err());
    }
}
