//! `transform`: reshape JSON with a jq filter (the jaq implementation).
//!
//! Action `jq`: input `{ "filter": ".items | map(.id)", "data": {...}, "vars": {"min": 3} }`,
//! output `{ "result": <first output or null>, "results": [<every output>] }`.
//! Variables in `vars` are bound as `$name`. No hosts, no credentials, no state.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{Def, Pattern, Term};
use jaq_core::load::{Arena, File, Loader, lex, parse};
use jaq_core::path::Part;
use jaq_core::{Compiler, Ctx, Vars, data, load};
use jaq_json::Val;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use weft_sdk::{Action, Call, Connector, Error, Manifest, Result};

struct Transform;

/// Longest accepted filter, in bytes.
const MAX_FILTER_LEN: usize = 64 * 1024;
/// Most outputs collected from one filter run.
const MAX_OUTPUTS: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    filter: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    vars: Map<String, Value>,
}

impl Connector for Transform {
    fn manifest() -> Manifest {
        Manifest::new("transform", env!("CARGO_PKG_VERSION"), "Reshape JSON with jq filters.")
            .action(
                Action::new("jq", "Run a jq filter over `data` and return its outputs.")
                    .input_schema(json!({
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["filter"],
                        "properties": {
                            "filter": {"type": "string", "maxLength": MAX_FILTER_LEN, "description": "jq program, e.g. `.items | map(.id)`."},
                            "data": {"description": "The filter's input (`.`); null when absent."},
                            "vars": {
                                "type": "object",
                                "description": "Bound as `$name` variables.",
                                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
                            }
                        }
                    }))
                    .output_schema(json!({
                        "type": "object",
                        "required": ["result", "results"],
                        "properties": {
                            "result": {"description": "The first output, or null when there is none."},
                            "results": {"type": "array", "maxItems": MAX_OUTPUTS, "description": "Every output, in order."}
                        }
                    })),
            )
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "jq" => {
                let input: Input = call.input()?;
                let results = run(&input.filter, &input.data, &input.vars)?;
                let result = results.first().cloned().unwrap_or(Value::Null);
                Ok(json!({ "result": result, "results": results }))
            }
            other => Err(Error::unknown_action(other)),
        }
    }

    /// Parses jaq's standard library once, for every step to start from.
    fn init() {
        prelude();
    }
}

/// jaq's standard library (core, std and JSON definitions), parsed, with
/// the names each definition calls: what every step's filter may use.
struct Prelude {
    defs: Vec<Def>,
    calls: Vec<BTreeSet<&'static str>>,
}

static PRELUDE: OnceLock<Prelude> = OnceLock::new();

/// The parsed standard library: from `init` (once per build of this
/// connector, on a host that pre-initialises connectors: every step starts
/// from the snapshot taken after it) or else parsed by this step.
fn prelude() -> &'static Prelude {
    PRELUDE.get_or_init(|| {
        let defs: Vec<Def> = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .collect();
        let calls = defs
            .iter()
            .map(|def| {
                let mut names = BTreeSet::new();
                calls_in(&def.body, &mut names);
                names
            })
            .collect();
        Prelude { defs, calls }
    })
}

impl Prelude {
    /// The definitions a filter whose text is `code` can reach: those named
    /// in it, and what they call, in library order (a definition only calls
    /// those before it, or itself). A superset: a word in a string or a
    /// field name may bring in a definition that is not called. Compiling
    /// only these is what makes a step cheap; the library has ~200.
    fn reachable(&self, code: &str) -> Vec<Def> {
        let mut wanted: BTreeSet<&str> = words(code).collect();
        let mut keep = vec![false; self.defs.len()];
        for (i, def) in self.defs.iter().enumerate().rev() {
            if wanted.contains(def.name) {
                keep[i] = true;
                wanted.extend(self.calls[i].iter().copied());
            }
        }
        self.defs
            .iter()
            .zip(keep)
            .filter(|(_, keep)| *keep)
            .map(|(def, _)| def.clone())
            .collect()
    }

    fn all(&self) -> Vec<Def> {
        self.defs.clone()
    }
}

/// Every word of `code` that could name a filter (`map`, `@base64`, `ltrimstr`).
fn words(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'))
        .filter(|w| !w.is_empty())
}

/// The names `term` calls, including string formats (`@csv "..."`).
fn calls_in(term: &Term<&'static str>, names: &mut BTreeSet<&'static str>) {
    match term {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Var(_) | Term::Break(_) => {}
        Term::Str(format, parts) => {
            names.extend(format.iter().copied());
            for part in parts {
                if let StrPart::Term(t) = part {
                    calls_in(t, names);
                }
            }
        }
        Term::Arr(t) => t.iter().for_each(|t| calls_in(t, names)),
        Term::Obj(entries) => {
            for (k, v) in entries {
                calls_in(k, names);
                v.iter().for_each(|v| calls_in(v, names));
            }
        }
        Term::Neg(t) | Term::Label(_, t) => calls_in(t, names),
        Term::BinOp(l, op, r) => {
            if let parse::BinaryOp::Pipe(Some(pattern)) = op {
                pattern_calls(pattern, names);
            }
            calls_in(l, names);
            calls_in(r, names);
        }
        Term::Fold(_, xs, pattern, args) => {
            calls_in(xs, names);
            pattern_calls(pattern, names);
            args.iter().for_each(|t| calls_in(t, names));
        }
        Term::TryCatch(t, catch) => {
            calls_in(t, names);
            catch.iter().for_each(|t| calls_in(t, names));
        }
        Term::IfThenElse(branches, otherwise) => {
            for (cond, then) in branches {
                calls_in(cond, names);
                calls_in(then, names);
            }
            otherwise.iter().for_each(|t| calls_in(t, names));
        }
        Term::Def(defs, t) => {
            defs.iter().for_each(|d| calls_in(&d.body, names));
            calls_in(t, names);
        }
        Term::Call(name, args) => {
            names.insert(name);
            args.iter().for_each(|t| calls_in(t, names));
        }
        Term::Path(t, path) => {
            calls_in(t, names);
            for (part, _) in &path.0 {
                match part {
                    Part::Index(i) => calls_in(i, names),
                    Part::Range(from, to) => {
                        from.iter().chain(to).for_each(|t| calls_in(t, names));
                    }
                }
            }
        }
    }
}

fn pattern_calls(pattern: &Pattern<&'static str>, names: &mut BTreeSet<&'static str>) {
    match pattern {
        Pattern::Var(_) => {}
        Pattern::Arr(items) => items.iter().for_each(|p| pattern_calls(p, names)),
        Pattern::Obj(entries) => {
            for (k, p) in entries {
                calls_in(k, names);
                pattern_calls(p, names);
            }
        }
    }
}

/// A compiled filter.
type Program = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

/// Loads and compiles `code` with the library definitions `defs`.
fn compile_with(code: &str, defs: Vec<Def>, vars: &[String]) -> Result<Program> {
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let arena = Arena::default();
    let modules = Loader::new(defs)
        .load(&arena, File { code, path: () })
        .map_err(|errs| load_error(code, errs))?;
    Compiler::default()
        .with_funs(funs)
        .with_global_vars(vars.iter().map(String::as_str))
        .compile(modules)
        .map_err(|errs| compile_error(code, errs))
}

/// Compiles `code` with only the library definitions it can reach, or, if
/// that fails, with all of them (so a filter the pruning misjudged still
/// compiles, and a wrong one gets the error the whole library gives).
fn compile(code: &str, vars: &[String]) -> Result<Program> {
    let prelude = prelude();
    compile_with(code, prelude.reachable(code), vars).or_else(|_| {
        let whole = compile_with(code, prelude.all(), vars);
        if whole.is_ok() {
            // The pruning missed a definition: correct, but slow. Said so
            // that a test (and an author reading the step's logs) sees it.
            weft_sdk::log::debug(WHOLE_LIBRARY);
        }
        whole
    })
}

/// Logged when a filter compiled only with the whole library.
const WHOLE_LIBRARY: &str = "transform: the filter needed jaq's whole library to compile";

/// Compile `code` and run it over `data` with `vars` bound, collecting outputs.
fn run(code: &str, data: &Value, vars: &Map<String, Value>) -> Result<Vec<Value>> {
    if code.len() > MAX_FILTER_LEN {
        return Err(Error::invalid_input(format!(
            "input.filter: {} bytes is over the limit of {MAX_FILTER_LEN}",
            code.len()
        )));
    }
    let mut names = Vec::with_capacity(vars.len());
    let mut values = Vec::with_capacity(vars.len());
    for (name, value) in vars {
        if !is_identifier(name) {
            return Err(Error::invalid_input(format!(
                "input.vars: `{name}` is not a valid variable name (letters, digits, `_`; not starting with a digit)"
            )));
        }
        names.push(format!("${name}"));
        values.push(to_val(value, &format!("input.vars.{name}"))?);
    }

    let filter = compile(code, &names)?;

    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new(values));
    let input = to_val(data, "input.data")?;
    let mut outputs = Vec::new();
    for item in filter.id.run((ctx, input)) {
        match item {
            Ok(v) => {
                if outputs.len() == MAX_OUTPUTS {
                    return Err(Error::invalid_input(format!(
                        "filter produced more than {MAX_OUTPUTS} outputs; narrow it (e.g. with `limit(n; f)`)"
                    )));
                }
                outputs.push(from_val(&v)?);
            }
            Err(exn) => match exn.get_err() {
                Ok(err) => {
                    return Err(Error::invalid_input(format!(
                        "filter failed: {}",
                        error_text(err.into_val())
                    )));
                }
                Err(exn) => match exn.get_halt() {
                    Ok(0) => break,
                    Ok(code) => {
                        return Err(Error::invalid_input(format!(
                            "filter halted with exit code {code}"
                        )));
                    }
                    Err(_) => {
                        return Err(Error::invalid_input("filter failed: unexpected exception"));
                    }
                },
            },
        }
    }
    Ok(outputs)
}

fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A string error value without its JSON quotes, anything else as JSON.
fn error_text(v: Val) -> String {
    match v {
        Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(&s).into_owned(),
        other => other.to_string(),
    }
}

/// Where `part` (a slice of `code`) starts, as "line L, column C".
fn position(code: &str, part: &str) -> String {
    let start = code.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at < start || at > start + code.len() {
        return String::new();
    }
    let offset = at - start;
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(" at line {line}, column {column}")
}

fn found(part: &str) -> String {
    if part.is_empty() {
        return "end of filter".into();
    }
    let shown: String = part.chars().take(20).collect();
    let more = if shown.len() < part.len() { "…" } else { "" };
    format!("`{shown}{more}`")
}

fn load_error(code: &str, errs: load::Errors<&str, ()>) -> Error {
    let mut messages = Vec::new();
    for (_file, err) in errs {
        match err {
            load::Error::Io(errs) => {
                for (path, why) in errs {
                    messages.push(format!("cannot import `{path}`: {why}"));
                }
            }
            load::Error::Lex(errs) => {
                for (expect, part) in errs {
                    messages.push(format!(
                        "expected {}, found {}{}",
                        lex_expect(&expect),
                        found(part),
                        position(code, part)
                    ));
                }
            }
            load::Error::Parse(errs) => {
                for (expect, part) in errs {
                    messages.push(format!(
                        "expected {}, found {}{}",
                        parse_expect(&expect),
                        found(part),
                        position(code, part)
                    ));
                }
            }
        }
    }
    Error::invalid_input(format!(
        "input.filter does not parse: {}",
        messages.join("; ")
    ))
}

fn lex_expect(expect: &lex::Expect<&str>) -> &'static str {
    match expect {
        // `as_str` panics on delimiters it does not know; name them ourselves.
        lex::Expect::Delim(d) if !["(", "[", "{", "\""].contains(d) => "closing delimiter",
        other => other.as_str(),
    }
}

fn parse_expect<'a>(expect: &parse::Expect<&'a str>) -> &'a str {
    expect.as_str()
}

fn compile_error(code: &str, errs: jaq_core::compile::Errors<&str, ()>) -> Error {
    let mut messages = Vec::new();
    for (_file, errs) in errs {
        for (name, undefined) in errs {
            let what = match undefined {
                jaq_core::compile::Undefined::Filter(arity) => format!("filter `{name}/{arity}`"),
                other => format!("{} `{name}`", other.as_str()),
            };
            messages.push(format!("undefined {what}{}", position(code, name)));
        }
    }
    Error::invalid_input(format!(
        "input.filter does not compile: {}",
        messages.join("; ")
    ))
}

/// JSON value -> jaq value (via JSON text, so numbers keep their precision).
fn to_val(value: &Value, what: &str) -> Result<Val> {
    let text = serde_json::to_vec(value)
        .map_err(|e| Error::invalid_input(format!("{what}: cannot be encoded: {e}")))?;
    jaq_json::read::parse_single(&text).map_err(|e| Error::invalid_input(format!("{what}: {e}")))
}

/// jaq value -> JSON value. Non-finite numbers become null (as in jq); byte
/// strings become text (invalid UTF-8 replaced); non-string object keys fail.
fn from_val(v: &Val) -> Result<Value> {
    Ok(match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => serde_json::from_str::<Value>(&n.to_string()).unwrap_or(Value::Null),
        Val::TStr(s) | Val::BStr(s) => Value::String(String::from_utf8_lossy(s).into_owned()),
        Val::Arr(items) => Value::Array(items.iter().map(from_val).collect::<Result<_>>()?),
        Val::Obj(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries.iter() {
                let key = match k {
                    Val::TStr(s) | Val::BStr(s) => String::from_utf8_lossy(s).into_owned(),
                    other => {
                        return Err(Error::invalid_input(format!(
                            "filter output has an object key that is not a string: {other}"
                        )));
                    }
                };
                map.insert(key, from_val(v)?);
            }
            Value::Object(map)
        }
    })
}

weft_sdk::export!(Transform, init);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use weft_sdk::ErrorKind;

    fn jq(code: &str, data: Value) -> Result<Vec<Value>> {
        run(code, &data, &Map::new())
    }

    #[test]
    fn reshapes() {
        let out = jq(
            ".items | map(.id)",
            json!({"items": [{"id": 1}, {"id": 2}]}),
        )
        .unwrap();
        assert_eq!(out, vec![json!([1, 2])]);
        assert_eq!(
            jq(".[]", json!([1, "a", null])).unwrap(),
            vec![json!(1), json!("a"), json!(null)]
        );
        assert_eq!(jq("empty", json!(1)).unwrap(), Vec::<Value>::new());
        assert_eq!(
            jq("1.5, 12345678901234567890, nan", Value::Null).unwrap()[0],
            json!(1.5)
        );
        assert_eq!(
            jq("{a: (.x | tostring)}", json!({"x": 3})).unwrap(),
            vec![json!({"a": "3"})]
        );
    }

    #[test]
    fn vars_are_bound() {
        let vars = json!({"min": 2, "name": "x"}).as_object().unwrap().clone();
        let out = run(
            "[.[] | select(. >= $min)] | {($name): .}",
            &json!([1, 2, 3]),
            &vars,
        )
        .unwrap();
        assert_eq!(out, vec![json!({"x": [2, 3]})]);
        let bad = json!({"1x": 1}).as_object().unwrap().clone();
        assert_eq!(
            run(".", &json!(1), &bad).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn parse_errors_say_where() {
        let e = jq(".a |\n  (.b", json!({})).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(
            e.message.starts_with("input.filter does not parse:"),
            "{}",
            e.message
        );
        assert!(e.message.contains("line 2"), "{}", e.message);
        assert_eq!(
            jq(".a |", json!({})).unwrap_err().message,
            "input.filter does not parse: expected term, found end of filter at line 1, column 5"
        );
        let e = jq(".a | nosuch(1)", json!({})).unwrap_err();
        assert_eq!(
            e.message,
            "input.filter does not compile: undefined filter `nosuch/1` at line 1, column 6"
        );
        let e = jq("$nope", json!({})).unwrap_err();
        assert!(
            e.message.contains("undefined variable `$nope`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn runtime_errors_and_limits() {
        let e = jq("error(\"boom\")", json!({})).unwrap_err();
        assert_eq!(e.message, "filter failed: boom");
        let e = jq("range(20000)", Value::Null).unwrap_err();
        assert!(
            e.message.contains("more than 10000 outputs"),
            "{}",
            e.message
        );
        let e = jq(&" ".repeat(MAX_FILTER_LEN + 1), Value::Null).unwrap_err();
        assert!(e.message.contains("over the limit"), "{}", e.message);
    }
}
