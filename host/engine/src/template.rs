//! `{{ expr }}` templates inside JSON strings.
//!
//! A string that is exactly one `{{ expr }}` (nothing outside the braces) becomes the
//! expression's JSON value, keeping its type; otherwise each `{{ }}` is replaced by
//! its text (strings as they are, `null` as nothing, other values as compact JSON).
//! Object keys are never templated. Write a literal `{{` as `{{ '{{' }}`.
//!
//! Rendering charges a [`Budget`] for every value it produces, before copying
//! it ([`render_in`], [`Template::render_in`]); [`render`] uses a budget of
//! the default [`RunLimits`](crate::RunLimits).
//!
//! ```
//! use serde_json::json;
//! use weft_engine::template::render;
//! let ctx = json!({"steps": {"fetch": {"output": {"items": [1, 2]}}}, "vars": {"who": "Ada"}});
//! let out = render(&json!({"all": "{{ steps.fetch.output.items }}", "hi": "Hi {{ vars.who }}!"}), &ctx).unwrap();
//! assert_eq!(out, json!({"all": [1, 2], "hi": "Hi Ada!"}));
//! ```

use crate::budget::{Budget, Exceeded, len};
use crate::eval::{Eval, MAX_OUTPUT_BYTES};
use crate::expr::{self, Kind, Node, Root};
use serde_json::Value;
use std::borrow::Cow;

pub use crate::eval::{MAX_EVAL_STEPS, json_eq, truthy, type_name};

/// Longest string that may contain templates, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// Longest single expression, in bytes.
pub const MAX_EXPR_BYTES: usize = 1024;

/// A template failed to parse or evaluate, or ran out of budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    /// JSON pointer of the string within the rendered value (`""` at the top).
    pub path: String,
    /// The template text, shortened to 120 characters.
    pub template: String,
    /// Byte offset in the template text.
    pub pos: usize,
    /// What went wrong.
    pub message: String,
    /// Set when the render budget ran out (then `message` says which limit).
    pub exceeded: Option<Exceeded>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if self.template.is_empty() {
            return Ok(());
        }
        write!(f, " at position {} in `{}`", self.pos, self.template)
    }
}

impl Error {
    fn new(template: &str, pos: usize, message: impl Into<String>) -> Self {
        let template = match template.char_indices().nth(120) {
            Some((cut, _)) => format!("{}…", &template[..cut]),
            None => template.to_string(),
        };
        Self {
            path: String::new(),
            template,
            pos,
            message: message.into(),
            exceeded: None,
        }
    }

    /// The budget ran out at `pos` in `template` (empty: outside any template).
    fn over(template: &str, pos: usize, e: Exceeded) -> Self {
        Self {
            exceeded: Some(e),
            ..Self::new(template, pos, e.to_string())
        }
    }
}

/// What a template reads from the evaluation context.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// Something under `trigger`.
    Trigger,
    /// `vars.<name>` (`None` when the name is computed or `vars` is read whole).
    Var(Option<String>),
    /// `steps.<id>`.
    Step(String),
    /// `item` (loop bodies only).
    Item,
    /// `index` (loop bodies only).
    Index,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr { offset: usize, node: Node },
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// Whether `s` contains a template opening `{{`.
pub fn is_template(s: &str) -> bool {
    s.contains("{{")
}

impl Template {
    /// Parses a string with `{{ expr }}` parts.
    ///
    /// # Errors
    /// An [`Error`] naming the position of the first syntax error, or a length limit.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::new(
                s,
                0,
                format!("template is longer than {MAX_TEMPLATE_BYTES} bytes"),
            ));
        }
        let mut parts = Vec::new();
        let mut rest = 0;
        while let Some(open) = s[rest..].find("{{").map(|i| i + rest) {
            if open > rest {
                parts.push(Part::Text(s[rest..open].to_string()));
            }
            let start = open + 2;
            let end = close(s, start).ok_or_else(|| Error::new(s, open, "unclosed `{{`"))?;
            parts.push(Part::Expr {
                offset: start,
                node: parse_expr_at(s, start, end)?,
            });
            rest = end + 2;
        }
        if rest < s.len() {
            parts.push(Part::Text(s[rest..].to_string()));
        }
        Ok(Self {
            source: s.to_string(),
            parts,
        })
    }

    /// Parses a routing expression (`if`, switch `value`, loop `items`): either a bare
    /// expression or a string that is exactly one `{{ expr }}`.
    ///
    /// # Errors
    /// As [`Template::parse`].
    pub fn parse_expr(s: &str) -> Result<Self, Error> {
        if is_template(s) {
            let t = Self::parse(s)?;
            if t.is_single() {
                return Ok(t);
            }
            return Err(Error::new(
                s,
                0,
                "expected one expression, not text with `{{ }}`",
            ));
        }
        let node = parse_expr_at(s, 0, s.len())?;
        Ok(Self {
            source: s.to_string(),
            parts: vec![Part::Expr { offset: 0, node }],
        })
    }

    /// Whether the template is exactly one expression (its result keeps its JSON type).
    pub fn is_single(&self) -> bool {
        matches!(self.parts.as_slice(), [Part::Expr { .. }])
    }

    /// Everything the template reads, sorted and without duplicates.
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        for p in &self.parts {
            if let Part::Expr { node, .. } = p {
                collect(node, &mut out);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Evaluates the template against `ctx`, with a budget of the default
    /// [`RunLimits`](crate::RunLimits).
    ///
    /// # Errors
    /// An [`Error`] naming the expression and position (type errors, limits).
    pub fn render(&self, ctx: &Value) -> Result<Value, Error> {
        self.render_in(ctx, &mut Budget::default())
    }

    /// Evaluates the template against `ctx`, charging `budget` for the result
    /// before it is copied out of the context.
    ///
    /// # Errors
    /// As [`Template::render`]; [`Error::exceeded`] is set when the budget ran
    /// out (at the expression that crossed it).
    pub fn render_in(&self, ctx: &Value, budget: &mut Budget) -> Result<Value, Error> {
        let fail = |offset: usize, (pos, msg): (usize, String)| {
            Error::new(&self.source, offset + pos, msg)
        };
        let over = |offset: usize| move |e| Error::over(&self.source, offset, e);
        if let [Part::Expr { offset, node }] = self.parts.as_slice() {
            let v = Eval::new(ctx).eval(node).map_err(|e| fail(*offset, e))?;
            budget.weigh(&v).map_err(over(*offset))?;
            return Ok(v.into_owned());
        }
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => {
                    budget.charge(len(t), 0).map_err(over(0))?;
                    out.push_str(t);
                }
                Part::Expr { offset, node } => {
                    let v = Eval::new(ctx).eval(node).map_err(|e| fail(*offset, e))?;
                    match &*v {
                        Value::String(s) => {
                            budget.charge(len(s), 0).map_err(over(*offset))?;
                            out.push_str(s);
                        }
                        Value::Null => {}
                        other => {
                            // Weighed before it is written (a huge value stops
                            // early), then its escapes, which weighing does not
                            // count but the text carries (`\u0000` is 6 bytes).
                            let before = budget.used().0;
                            budget.weigh(other).map_err(over(*offset))?;
                            let text =
                                crate::eval::to_json(other).map_err(|m| fail(*offset, (0, m)))?;
                            let weighed = budget.used().0.saturating_sub(before);
                            budget
                                .charge(len(&text).saturating_sub(weighed), 0)
                                .map_err(over(*offset))?;
                            out.push_str(&text);
                        }
                    }
                }
            }
            if out.len() > MAX_OUTPUT_BYTES {
                return Err(fail(
                    0,
                    (0, format!("result is larger than {MAX_OUTPUT_BYTES} bytes")),
                ));
            }
        }
        budget.charge(2, 1).map_err(over(0))?;
        Ok(Value::String(out))
    }
}

/// The index of the `}}` closing an expression that starts at `from`, skipping quoted strings.
fn close(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut quote = None;
    let mut i = from;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(b[i]),
            (None, b'}') if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_expr_at(s: &str, start: usize, end: usize) -> Result<Node, Error> {
    let src = s.get(start..end).unwrap_or_default();
    if src.len() > MAX_EXPR_BYTES {
        return Err(Error::new(
            s,
            start,
            format!("expression is longer than {MAX_EXPR_BYTES} bytes"),
        ));
    }
    if src.trim().is_empty() {
        return Err(Error::new(s, start, "empty expression"));
    }
    expr::parse(src).map_err(|(pos, msg)| Error::new(s, start + pos, msg))
}

fn collect(n: &Node, out: &mut Vec<Reference>) {
    match &n.kind {
        Kind::Lit(_) => {}
        Kind::Root(Root::Trigger) => out.push(Reference::Trigger),
        Kind::Root(Root::Vars) => out.push(Reference::Var(None)),
        Kind::Root(Root::Item) => out.push(Reference::Item),
        Kind::Root(Root::Index) => out.push(Reference::Index),
        Kind::Step(id) => out.push(Reference::Step(id.clone())),
        Kind::Field(base, name) if base.kind == Kind::Root(Root::Vars) => {
            out.push(Reference::Var(Some(name.clone())));
        }
        Kind::Field(base, _) | Kind::Not(base) => collect(base, out),
        Kind::Index(a, b) | Kind::Bin(_, a, b) => {
            collect(a, out);
            collect(b, out);
        }
        Kind::Call(_, args) => args.iter().for_each(|a| collect(a, out)),
    }
}

/// Renders every templated string in a JSON tree (object keys are left alone),
/// with a budget of the default [`RunLimits`](crate::RunLimits).
///
/// # Errors
/// The first [`Error`], with `path` pointing at the string that failed.
pub fn render(value: &Value, ctx: &Value) -> Result<Value, Error> {
    render_in(value, ctx, &mut Budget::default())
}

/// Renders every templated string in a JSON tree, charging `budget` for
/// everything it produces (the literal parts too) before copying it.
///
/// # Errors
/// As [`render`]; [`Error::exceeded`] is set when the budget ran out.
pub fn render_in(value: &Value, ctx: &Value, budget: &mut Budget) -> Result<Value, Error> {
    let prefix = |seg: &str, mut e: Error| {
        e.path = format!("/{}{}", pointer_escape(seg), e.path);
        e
    };
    let over = |e| Error::over("", 0, e);
    Ok(match value {
        Value::String(s) if is_template(s) => Template::parse(s)?.render_in(ctx, budget)?,
        Value::Array(items) => {
            budget.charge(2 + commas(items.len()), 1).map_err(over)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                out.push(render_in(v, ctx, budget).map_err(|e| prefix(&i.to_string(), e))?);
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            budget.charge(2 + commas(map.len()), 1).map_err(over)?;
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                budget
                    .charge(len(k) + 3, 0)
                    .map_err(|e| prefix(k, over(e)))?;
                out.insert(
                    k.clone(),
                    render_in(v, ctx, budget).map_err(|e| prefix(k, e))?,
                );
            }
            Value::Object(out)
        }
        other => budget.copy(other).map_err(over)?,
    })
}

/// The commas between `n` members.
fn commas(n: usize) -> u64 {
    u64::try_from(n.saturating_sub(1)).unwrap_or(u64::MAX)
}

/// Escapes one JSON-pointer segment (`~` -> `~0`, `/` -> `~1`).
pub fn pointer_escape(seg: &str) -> Cow<'_, str> {
    if seg.contains(['~', '/']) {
        Cow::Owned(seg.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(seg)
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
