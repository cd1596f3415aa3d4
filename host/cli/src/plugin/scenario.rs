//! Scenario files (`tests/*.json`): what `weft plugin test` runs against a
//! built component. The format is documented in `sdk/README.md`
//! ("Scenario files"); every object refuses unknown keys, so a typo is an
//! error naming the file, the case and the key rather than a check that
//! silently does nothing.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use weft_types::{ErrorKind, HostPattern, Injection, Reason};

/// One scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// The connector config of every case (a case's own replaces it).
    #[serde(default)]
    pub config: Option<Value>,
    /// Credentials bound for every case, by slot.
    #[serde(default)]
    pub credentials: Option<BTreeMap<String, Credential>>,
    /// The plugin's state before every case.
    #[serde(default)]
    pub state: Option<BTreeMap<String, String>>,
    /// The cases, run in order, each in a fresh instance with fresh state.
    pub cases: Vec<Case>,
}

/// A credential: the secret the host injects, and where it may go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub secret: String,
    /// Host patterns the secret may be sent to.
    pub hosts: Vec<HostPattern>,
    /// How it is injected (default `{"type": "bearer"}`): also `basic`
    /// (`username`), `header` (`name`), `query` (`param`).
    #[serde(default)]
    pub inject: Option<Injection>,
}

/// One invocation and what it must do.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub action: String,
    #[serde(default = "empty_object")]
    pub input: Value,
    #[serde(default)]
    pub config: Option<Value>,
    #[serde(default)]
    pub credentials: Option<BTreeMap<String, Credential>>,
    #[serde(default)]
    pub state: Option<BTreeMap<String, String>>,
    /// Scripted replies, by method and URL.
    #[serde(default)]
    pub http: Vec<Http>,
    pub expect: Expect,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// A scripted reply to `method url` (a URL ending in `*` matches by prefix).
/// Replies to the same method and URL are used in order; the last repeats.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub method: String,
    pub url: String,
    pub reply: Reply,
}

/// What the scripted server answers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (and `content-type: application/json` unless headers say otherwise).
    #[serde(default)]
    pub json: Option<Value>,
    /// A text body.
    #[serde(default)]
    pub body: Option<String>,
    /// Instead of answering: `"timeout"` or `"refused"`.
    #[serde(default)]
    pub fail: Option<Fail>,
}

fn ok_status() -> u16 {
    200
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fail {
    Timeout,
    Refused,
}

/// What the case must do. Without `error`, the call must succeed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The exact output.
    #[serde(default)]
    pub output: Option<Value>,
    /// The call must fail like this.
    #[serde(default)]
    pub error: Option<ExpectError>,
    /// Exactly these requests, in order, as the host sent them.
    #[serde(default)]
    pub requests: Option<Vec<ExpectRequest>>,
    /// These state keys after the case (`null`: absent).
    #[serde(default)]
    pub state: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    /// `invalid_input`, `auth`, `rate_limited`, `transient`, `permanent`, `limit_exceeded`, `cancelled`.
    pub kind: ErrorKind,
    #[serde(default)]
    pub message_contains: Option<String>,
    /// The sandbox's reason, e.g. `deadline_exceeded`.
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRequest {
    pub method: String,
    pub url: String,
    /// These headers with these values (others may be present); names are case-insensitive.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body, parsed as JSON, equals this.
    #[serde(default)]
    pub json: Option<Value>,
    /// The body, as text, equals this.
    #[serde(default)]
    pub body: Option<String>,
}

/// A scenario file that cannot be used, with where it is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct Malformed {
    pub file: String,
    pub problem: String,
}

/// The scenario files of a project: `dir/tests/*.json`, by name.
pub fn find(dir: &Path) -> Result<Vec<PathBuf>, Malformed> {
    let tests = dir.join("tests");
    let entries = std::fs::read_dir(&tests).map_err(|e| Malformed {
        file: tests.display().to_string(),
        problem: format!("cannot list scenario files ({e})"),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// ` (case "NAME")` when `at` is inside a case that has a name.
fn case_name(text: &str, at: &str) -> String {
    let index = at
        .strip_prefix("cases[")
        .and_then(|r| r.split_once(']'))
        .and_then(|(i, _)| i.parse::<usize>().ok());
    let doc: Option<Value> = serde_json::from_str(text).ok();
    match (index, doc) {
        (Some(i), Some(doc)) => match doc["cases"][i]["name"].as_str() {
            Some(n) => format!(" (case {n:?})"),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// Reads and checks one scenario file; `shown` is how errors name it.
pub fn load(path: &Path, shown: &str) -> Result<File, Malformed> {
    let bad = |problem: String| Malformed {
        file: shown.to_owned(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read ({e})")))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    let file: File = serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string().replace("unknown field", "unknown key");
        if at == "." {
            bad(msg)
        } else {
            bad(format!("{at}{}: {msg}", case_name(&text, &at)))
        }
    })?;
    if file.cases.is_empty() {
        return Err(bad(
            "`cases` is empty: a scenario file needs at least one case".into(),
        ));
    }
    for (i, c) in file.cases.iter().enumerate() {
        let at = |key: &str| format!("cases[{i}]{key} (case {:?})", c.name);
        for (j, h) in c.http.iter().enumerate() {
            let n = [h.reply.json.is_some(), h.reply.body.is_some()]
                .iter()
                .filter(|x| **x)
                .count();
            if n > 1 {
                return Err(bad(format!(
                    "{}: give `json` or `body`, not both",
                    at(&format!(".http[{j}].reply"))
                )));
            }
        }
        if c.expect.output.is_some() && c.expect.error.is_some() {
            return Err(bad(format!(
                "{}: give `output` or `error`, not both",
                at(".expect")
            )));
        }
        for (j, r) in c.expect.requests.iter().flatten().enumerate() {
            if r.json.is_some() && r.body.is_some() {
                return Err(bad(format!(
                    "{}: give `json` or `body`, not both",
                    at(&format!(".expect.requests[{j}]"))
                )));
            }
        }
    }
    Ok(file)
}
