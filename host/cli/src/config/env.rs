//! `WEFT_*` variables, derived from the settings' own structure rather than
//! kept in a list: the defaults are serialized, and every leaf's key path
//! names a variable (`worker.lease_grace_ms` → `WEFT_WORKER_LEASE_GRACE_MS`),
//! whose value is read as the leaf's type (an integer, a number, `true` /
//! `false`, a comma-separated list, else a string). A key that is a table with
//! no fixed keys (`sandbox.egress.resolve`) is set in the file only.
//!
//! Keys that moved keep working under their older names ([`ALIASES`]), in the
//! file and as variables.

use super::{ConfigError, Settings};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Older key paths, still read, and the key each now is.
pub const ALIASES: &[(&str, &str)] = &[
    ("concurrency", "worker.concurrency"),
    ("shutdown.grace_ms", "worker.shutdown_grace_ms"),
    ("limits.max_running_steps", "worker.max_running_steps"),
    ("limits.max_active_runs", "worker.max_active_runs"),
    (
        "sandbox.allow_private_network",
        "sandbox.egress.allow_private",
    ),
];

/// `WEFT_*` variables weft reads that are not settings: the configuration
/// file itself, the log filter, the API client's server and key, and the
/// plugin author's tools.
pub const NOT_SETTINGS: &[&str] = &[
    "WEFT_CONFIG",
    "WEFT_LOG",
    "WEFT_SERVER",
    "WEFT_API_KEY",
    "WEFT_SDK_PATH",
    "WEFT_CACHE_DIR",
];

/// How a variable's text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (also a key whose default is unset).
    Str,
    /// An integer.
    Int,
    /// A number.
    Float,
    /// `true`/`false` (`1`/`0`, `yes`/`no`).
    Bool,
    /// Comma-separated strings.
    List,
}

/// One settable variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// `WEFT_...`.
    pub name: String,
    /// The key path it sets (the current one, for an older name).
    pub path: Vec<String>,
    /// How its text is read.
    pub kind: Kind,
    /// The older key path it is named after, for an alias.
    pub alias_of: Option<String>,
}

/// The variable of a key path: `a.b_c` → `WEFT_A_B_C`.
pub fn name_of(path: &str) -> String {
    format!("WEFT_{}", path.replace('.', "_").to_uppercase())
}

/// Every settable variable, by name: one per leaf of the defaults, plus one
/// per older name.
pub fn vars() -> &'static BTreeMap<String, Var> {
    static VARS: LazyLock<BTreeMap<String, Var>> = LazyLock::new(derive);
    &VARS
}

fn derive() -> BTreeMap<String, Var> {
    let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
    let mut leaves = Vec::new();
    walk(&defaults, &mut Vec::new(), &mut leaves);
    let mut out = BTreeMap::new();
    for (path, kind) in &leaves {
        let key = path.join(".");
        out.insert(
            name_of(&key),
            Var {
                name: name_of(&key),
                path: path.clone(),
                kind: *kind,
                alias_of: None,
            },
        );
    }
    for (old, new) in ALIASES {
        if let Some((_, kind)) = leaves.iter().find(|(p, _)| p.join(".") == *new) {
            out.insert(
                name_of(old),
                Var {
                    name: name_of(old),
                    path: new.split('.').map(str::to_owned).collect(),
                    kind: *kind,
                    alias_of: Some((*old).to_owned()),
                },
            );
        }
    }
    out
}

fn walk(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Kind)>) {
    use serde_json::Value;
    let kind = match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                walk(child, path, out);
                path.pop();
            }
            return;
        }
        Value::Null | Value::String(_) => Kind::Str,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_f64() => Kind::Float,
        Value::Number(_) => Kind::Int,
        Value::Array(_) => Kind::List,
    };
    out.push((path.clone(), kind));
}

/// Moves values set under an older key to the current key.
///
/// # Errors
/// Both names set.
pub(super) fn apply_aliases(table: &mut toml::Table) -> Result<(), String> {
    for (old, new) in ALIASES {
        let old_path: Vec<&str> = old.split('.').collect();
        let Some(value) = remove(table, &old_path) else {
            continue;
        };
        let new_path: Vec<&str> = new.split('.').collect();
        if get(table, &new_path).is_some() {
            return Err(format!(
                "`{old}` and `{new}` are both set; `{old}` is the older name of `{new}`"
            ));
        }
        set(table, &new_path, value);
    }
    Ok(())
}

/// Sets every `WEFT_*` variable of `env` in `table`.
///
/// # Errors
/// An unknown variable (with the closest known name), a value of the wrong
/// type, or a key set by two names.
pub(super) fn apply(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let known = vars();
    let mut seen: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for (name, value) in env {
        if !name.starts_with("WEFT_") || NOT_SETTINGS.contains(&name.as_str()) {
            continue;
        }
        let Some(var) = known.get(&name) else {
            return Err(ConfigError::UnknownEnv {
                suggestion: closest(&name, known.keys()),
                name,
            });
        };
        if let Some(other) = seen.insert(var.path.clone(), name.clone()) {
            return Err(ConfigError::Invalid {
                origin: "environment".into(),
                message: format!(
                    "{other} and {name} set the same key `{}`",
                    var.path.join(".")
                ),
            });
        }
        let path: Vec<&str> = var.path.iter().map(String::as_str).collect();
        set(table, &path, value_of(&name, &value, var.kind)?);
    }
    Ok(())
}

fn value_of(name: &str, value: &str, kind: Kind) -> Result<toml::Value, ConfigError> {
    let bad = |what: &str| ConfigError::Invalid {
        origin: "environment".into(),
        message: format!("{name}={value:?} is not {what}"),
    };
    Ok(match kind {
        Kind::Str => toml::Value::String(value.to_owned()),
        Kind::Int => toml::Value::Integer(value.trim().parse().map_err(|_| bad("an integer"))?),
        Kind::Float => toml::Value::Float(value.trim().parse().map_err(|_| bad("a number"))?),
        Kind::Bool => toml::Value::Boolean(match value.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::List => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
    })
}

fn get<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut t = table;
    for p in parents {
        t = t.get(*p)?.as_table()?;
    }
    t.get(*last)
}

/// Removes a value, and the tables it leaves empty.
fn remove(table: &mut toml::Table, path: &[&str]) -> Option<toml::Value> {
    let (first, rest) = path.split_first()?;
    if rest.is_empty() {
        return table.remove(*first);
    }
    let child = table.get_mut(*first)?.as_table_mut()?;
    let v = remove(child, rest)?;
    if child.is_empty() {
        table.remove(*first);
    }
    Some(v)
}

fn set(table: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry((*p).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    t.insert((*last).to_owned(), value);
}

/// The known name closest to `name`, if it is a plausible typo.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    known
        .map(|k| (distance(name, k), k))
        .filter(|(d, k)| *d <= (k.len() / 4).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// Levenshtein distance, by bytes (the names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
