//! `code`: the interpreter behind the workflow step `kind: code` (Boa, a
//! JavaScript engine in pure Rust, compiled to wasm32-wasip2 by cargo).
//!
//! Action `run`: input `{ "code": "...", "items": [...], "trigger": ...,
//! "steps": {...}, "vars": {...}, "item"?: ..., "index"?: n }`; the script is
//! the body of an `async` function that sees those names (plus `console`,
//! `http` and `fetch`) and whose `return` value is the step's output as
//! items: an array as it is, `undefined` as `[]`, any other value as a
//! one-item array. `await` works at the script's top level; the promise the
//! function returns is awaited by running Boa's job queue to completion
//! inside the invocation (the sandbox's deadline still bounds it), and a
//! promise rejected with nobody awaiting it fails the step.
//!
//! Action `check`: input `{ "code": "..." }`, output `{ "ok": true }` or
//! `{ "ok": false, "message", "line", "column" }`: the syntax check run when a
//! workflow is saved. Nothing of the script runs.
//!
//! The engine's realm (every built-in object) is built once in `init`; a host
//! that pre-initialises connectors starts every step from that snapshot.
//! No state. Network only through the `http` import, so only to what the
//! step is granted.

use boa_engine::builtins::promise::Promise;
use boa_engine::builtins::promise::{OperationType, PromiseState};
use boa_engine::context::HostHooks;
use boa_engine::object::ObjectInitializer;
use boa_engine::object::builtins::JsPromise;
use boa_engine::property::Attribute;
use boa_engine::{
    Context, JsArgs, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction,
    Source, js_string,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::rc::Rc;
use weft_sdk::http::{HttpError, Request};
use weft_sdk::{Action, Call, Connector, Error, Manifest, Result, log};

struct Code;

/// Longest accepted script, in bytes.
const MAX_CODE_LEN: usize = 256 * 1024;
/// Deepest JavaScript call nesting: past it a `RangeError`, not a wasm stack
/// overflow.
const RECURSION_LIMIT: usize = 400;
/// What the script is wrapped in: an `async` function of the step's names
/// (so `await` works at the script's top level). The newline keeps the
/// script's own columns; lines are reported minus one.
const PRELUDE: &str = "(async function (items, item, index, trigger, steps, vars) {\n";
/// `fetch` and its `Response`, on top of `http.send` (the request is made
/// when `fetch` is called: the host's `http` import is synchronous; the
/// promise settles on the job queue like any other).
const FETCH: &str = r#"(function () {
  const send = http.send;
  function header(init, name) {
    const h = init && init.headers;
    if (!h) return undefined;
    for (const k of Object.keys(h)) {
      if (k.toLowerCase() === name) return h[k];
    }
    return undefined;
  }
  class Headers {
    constructor(map) { Object.defineProperty(this, "_map", { value: map || {} }); }
    get(name) { const v = this._map[String(name).toLowerCase()]; return v === undefined ? null : v; }
    has(name) { return String(name).toLowerCase() in this._map; }
    forEach(f) { for (const k of Object.keys(this._map)) f(this._map[k], k, this); }
    entries() { return Object.entries(this._map)[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toJSON() { return this._map; }
  }
  class Response {
    constructor(r, url) {
      this.status = r.status;
      this.ok = r.status >= 200 && r.status < 300;
      this.url = url;
      this.headers = new Headers(r.headers);
      Object.defineProperty(this, "_body", { value: r.body });
    }
    text() { return Promise.resolve(this._body); }
    json() { const b = this._body; return new Promise(function (ok) { ok(JSON.parse(b)); }); }
  }
  function fetch(input, init) {
    init = init || {};
    return new Promise(function (resolve) {
      const url = typeof input === "object" && input !== null && input.url ? input.url : String(input);
      let body = init.body;
      if (body !== undefined && body !== null && typeof body !== "string") {
        throw new TypeError("fetch: `body` must be a string (use JSON.stringify)");
      }
      const spec = { method: (init.method || "GET").toUpperCase(), url: url, headers: init.headers || {} };
      if (body !== undefined && body !== null) {
        spec.body = body;
        if (header(init, "content-type") === undefined) spec.headers["content-type"] = "text/plain;charset=UTF-8";
      }
      if (init.credential !== undefined) spec.credential = init.credential;
      if (init.timeoutMs !== undefined) spec.timeoutMs = init.timeoutMs;
      resolve(new Response(send(spec), url));
    });
  }
  globalThis.fetch = fetch;
  globalThis.Response = Response;
  globalThis.Headers = Headers;
})();"#;
/// Stack frames kept in a failure's message.
const MAX_FRAMES: usize = 8;
/// The name scripts are compiled under (in error positions: `code:3:7`).
const PATH: &str = "code";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunInput {
    code: String,
    #[serde(default)]
    items: Value,
    #[serde(default)]
    trigger: Value,
    #[serde(default)]
    steps: Value,
    #[serde(default)]
    vars: Value,
    #[serde(default)]
    item: Value,
    #[serde(default)]
    index: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckInput {
    code: String,
}

impl Connector for Code {
    fn manifest() -> Manifest {
        Manifest::new(
            "code",
            env!("CARGO_PKG_VERSION"),
            "Run JavaScript on a step's items (the `code` step kind).",
        )
        // Any host, but only what the step itself grants (`hosts:` on the
        // code step): the host intersects the two.
        .host("*")
        .action(
            Action::new(
                "run",
                "Run a script on items; its return value is the output.",
            )
            .input_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["code"],
                "properties": {
                    "code": {"type": "string", "maxLength": MAX_CODE_LEN},
                    "items": {"type": "array"},
                    "trigger": {}, "steps": {"type": "object"}, "vars": {"type": "object"},
                    "item": {}, "index": {}
                }
            }))
            .output_schema(json!({"type": "array"})),
        )
        .action(
            Action::new("check", "Check a script's syntax without running it.")
                .input_schema(json!({
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}}
                }))
                .output_schema(json!({
                    "type": "object",
                    "required": ["ok"],
                    "properties": {
                        "ok": {"type": "boolean"},
                        "message": {"type": "string"},
                        "line": {"type": "integer"},
                        "column": {"type": "integer"}
                    }
                })),
        )
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "run" => run(call.input()?),
            "check" => {
                let input: CheckInput = call.input()?;
                Ok(with_context(|ctx| match compile(ctx, &input.code) {
                    Ok(_) => json!({"ok": true}),
                    Err(e) => {
                        let x = explain(&e, ctx, &input.code);
                        let (line, column) = x.at.unwrap_or((1, 1));
                        json!({"ok": false, "message": x.text, "line": line, "column": column})
                    }
                }))
            }
            other => Err(Error::unknown_action(other)),
        }
    }

    /// Builds the realm (every built-in) once, for every step to start from.
    fn init() {
        with_context(|_| ());
    }
}

thread_local! {
    /// The interpreter: built by `init` (then in the snapshot every step
    /// starts from) or by the first call of this instance.
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

fn with_context<T>(f: impl FnOnce(&mut Context) -> T) -> T {
    CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        let ctx = slot.get_or_insert_with(new_context);
        f(ctx)
    })
}

fn new_context() -> Context {
    let mut ctx = Context::builder()
        .host_hooks(Rc::new(Tracker))
        .build()
        .expect("a context with the default realm builds");
    ctx.runtime_limits_mut()
        .set_recursion_limit(RECURSION_LIMIT);
    install_console(&mut ctx);
    install_http(&mut ctx);
    ctx.eval(Source::from_bytes(FETCH))
        .expect("the fetch prelude evaluates");
    ctx
}

thread_local! {
    /// Promises rejected with no handler yet (HostPromiseRejectionTracker):
    /// what is left once the job queue is empty was never awaited.
    static UNHANDLED: RefCell<Vec<JsObject>> = const { RefCell::new(Vec::new()) };
}

/// Keeps [`UNHANDLED`].
struct Tracker;

impl HostHooks for Tracker {
    fn promise_rejection_tracker(
        &self,
        promise: &JsObject<Promise>,
        operation: OperationType,
        _context: &mut Context,
    ) {
        let promise = promise.clone().upcast();
        UNHANDLED.with(|u| {
            let mut u = u.borrow_mut();
            match operation {
                OperationType::Reject => u.push(promise),
                OperationType::Handle => u.retain(|p| !JsObject::equals(p, &promise)),
            }
        });
    }
}

/// Compiles the script as the body of the step function; returns the function.
fn compile(ctx: &mut Context, code: &str) -> JsResult<JsValue> {
    if code.len() > MAX_CODE_LEN {
        return Err(JsNativeError::range()
            .with_message(format!(
                "the script is {} bytes, over the limit of {MAX_CODE_LEN}",
                code.len()
            ))
            .into());
    }
    let src = format!("{PRELUDE}{code}\n}})");
    ctx.eval(Source::from_bytes(src.as_bytes()).with_path(std::path::Path::new(PATH)))
}

fn run(input: RunInput) -> Result<Value> {
    with_context(|ctx| {
        let code = input.code.as_str();
        let function = compile(ctx, code).map_err(|e| script_error(&e, ctx, code))?;
        let items = match input.items {
            Value::Null => Value::Array(Vec::new()),
            Value::Array(a) => Value::Array(a),
            other => Value::Array(vec![other]),
        };
        let empty = || Value::Object(Map::new());
        let args = [
            items,
            input.item,
            input.index,
            input.trigger,
            if input.steps.is_null() {
                empty()
            } else {
                input.steps
            },
            if input.vars.is_null() {
                empty()
            } else {
                input.vars
            },
        ];
        let mut js_args = Vec::with_capacity(args.len());
        for a in &args {
            let v = if a.is_null() {
                JsValue::undefined()
            } else {
                JsValue::from_json(a, ctx).map_err(|e| script_error(&e, ctx, code))?
            };
            js_args.push(v);
        }
        let Some(f) = function.as_callable() else {
            return Err(Error::permanent("the script did not compile to a function"));
        };
        UNHANDLED.with(|u| u.borrow_mut().clear());
        let returned = f
            .call(&JsValue::undefined(), &js_args, ctx)
            .map_err(|e| script_error(&e, ctx, code))?;
        // Every job (promise reactions, awaits) runs to completion here.
        ctx.run_jobs().map_err(|e| script_error(&e, ctx, code))?;
        let main = returned.as_object();
        let out = match main.clone().and_then(|o| JsPromise::from_object(o).ok()) {
            None => returned,
            Some(p) => match p.state() {
                PromiseState::Fulfilled(v) => v,
                PromiseState::Rejected(reason) => {
                    return Err(script_error(&JsError::from_opaque(reason), ctx, code));
                }
                PromiseState::Pending => {
                    return Err(Error::permanent(
                        "script error: the script never finished: it awaits a promise that \
                         nothing resolves (every job ran; a promise's `resolve` was never called)",
                    ));
                }
            },
        };
        let unhandled = UNHANDLED.with(|u| std::mem::take(&mut *u.borrow_mut()));
        let stray = unhandled
            .into_iter()
            .find(|p| main.as_ref().is_none_or(|m| !JsObject::equals(p, m)));
        if let Some(p) = stray
            && let Ok(p) = JsPromise::from_object(p)
            && let PromiseState::Rejected(reason) = p.state()
        {
            let e = script_error(&JsError::from_opaque(reason), ctx, code);
            // `script error at line L, column C: unawaited promise rejected: Error: ...`
            return Err(Error::permanent(e.message.replacen(
                ": ",
                ": a promise was rejected and nothing awaited it: ",
                1,
            )));
        }
        if out.is_undefined() {
            return Ok(Value::Array(Vec::new()));
        }
        let value = out
            .to_json(ctx)
            .map_err(|e| script_error(&e, ctx, code))?
            .unwrap_or(Value::Null);
        Ok(match whole(value) {
            Value::Array(a) => Value::Array(a),
            other => Value::Array(vec![other]),
        })
    })
}

/// Whole numbers as JSON integers, as `JSON.stringify` writes them (`41`,
/// not `41.0`: JavaScript has one number type, Boa keeps computed ones as
/// floats).
fn whole(v: Value) -> Value {
    /// 2^53: past it a float no longer holds every integer.
    const SAFE: f64 = 9_007_199_254_740_992.0;
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            #[allow(clippy::cast_possible_truncation)]
            Some(f) if f.fract() == 0.0 && f.abs() <= SAFE => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(whole).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, whole(v))).collect()),
        other => other,
    }
}

/// What went wrong in a script, in its own coordinates.
struct Explained {
    /// `SyntaxError: expected token ';' ...`, without Boa's position.
    text: String,
    /// The script's (line, column), within the script.
    at: Option<(u64, u64)>,
    /// The script's stack (`at f (code:3:7)` lines), in its coordinates.
    stack: String,
}

/// Explains `e` in the script's coordinates: the wrapper's line taken off,
/// a position past the end (an unclosed brace) moved to the script's end.
fn explain(e: &JsError, ctx: &mut Context, code: &str) -> Explained {
    let full = e.to_string();
    let (head, stack) = full.split_once('\n').unwrap_or((&full, ""));
    let stack = located(stack);
    let (mut text, mut at) = match e.try_native(ctx) {
        Ok(native) => {
            let message = native.message().trim();
            // Boa puts a syntax error's position in its message.
            let (message, at) = match message.rfind(" at line ") {
                Some(i) => (&message[..i], position(&located(&message[i..]))),
                None => (message, None),
            };
            (format!("{}: {message}", native.kind()), at)
        }
        Err(_) => (head.to_owned(), None),
    };
    if at.is_none() {
        at = position(&stack);
    }
    if let Some(i) = text.find(" (native") {
        text.truncate(i);
    }
    let lines: Vec<&str> = code.lines().collect();
    let at = at.map(|(line, column)| match lines.last() {
        Some(last) if line > lines.len() as u64 => {
            (lines.len() as u64, last.chars().count() as u64 + 1)
        }
        _ => (line.max(1), column.max(1)),
    });
    Explained {
        text,
        at,
        stack: stack.trim().to_owned(),
    }
}

/// A thrown error (or a syntax error) as the step's failure: permanent (the
/// same script on the same items throws again), its message with the
/// script's line and column, then its stack.
fn script_error(e: &JsError, ctx: &mut Context, code: &str) -> Error {
    let x = explain(e, ctx, code);
    let mut message = match x.at {
        Some((line, column)) => format!("script error at line {line}, column {column}: {}", x.text),
        None => format!("script error: {}", x.text),
    };
    // The innermost frames; a deep recursion's stack would be hundreds.
    let frames: Vec<&str> = x.stack.lines().map(str::trim).collect();
    for frame in frames.iter().take(MAX_FRAMES) {
        message.push_str("\n  ");
        message.push_str(frame);
    }
    if frames.len() > MAX_FRAMES {
        message.push_str(&format!("\n  ... {} more", frames.len() - MAX_FRAMES));
    }
    Error::permanent(message)
}

/// Rewrites Boa's positions (`line 4, col 2`, `code:4:2`) into the
/// script's own (the wrapper adds one line before it).
fn located(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let a = rest.find("line ");
        let b = rest.find("code:");
        let (at, skip) = match (a, b) {
            (Some(a), Some(b)) if a < b => (a, "line ".len()),
            (Some(a), None) => (a, "line ".len()),
            (_, Some(b)) => (b, "code:".len()),
            (None, None) => break,
        };
        let start = at + skip;
        out.push_str(&rest[..start]);
        let digits: String = rest[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse::<u64>() {
            out.push_str(&n.saturating_sub(1).max(1).to_string());
        }
        rest = &rest[start + digits.len()..];
    }
    out.push_str(rest);
    out
}

/// The first (line, column) in a message: `line L, col C` or `code:L:C`.
fn position(text: &str) -> Option<(u64, u64)> {
    let num = |s: &str| -> Option<(u64, usize)> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        Some((d.parse().ok()?, d.len()))
    };
    if let Some(i) = text.find("line ") {
        let s = &text[i + 5..];
        if let Some((line, n)) = num(s)
            && let Some(rest) = s[n..].strip_prefix(", col ")
            && let Some((col, _)) = num(rest)
        {
            return Some((line, col));
        }
    }
    if let Some(i) = text.find("code:") {
        let s = &text[i + 5..];
        if let Some((line, n)) = num(s)
            && let Some(rest) = s[n..].strip_prefix(':')
            && let Some((col, _)) = num(rest)
        {
            return Some((line, col));
        }
    }
    None
}

/// A value as a log line: strings as they are, the rest as JSON.
fn show(v: &JsValue, ctx: &mut Context) -> String {
    if let Some(s) = v.as_string() {
        return s.to_std_string_escaped();
    }
    match v.to_json(ctx) {
        Ok(Some(j)) => j.to_string(),
        _ => v.display().to_string(),
    }
}

fn install_console(ctx: &mut Context) {
    fn logger(level: log::Level) -> NativeFunction {
        NativeFunction::from_copy_closure(move |_, args, ctx| {
            let line = args
                .iter()
                .map(|a| show(a, ctx))
                .collect::<Vec<_>>()
                .join(" ");
            log::write(level, &line, &[]);
            Ok(JsValue::undefined())
        })
    }
    let console = ObjectInitializer::new(ctx)
        .function(logger(log::Level::Info), js_string!("log"), 0)
        .function(logger(log::Level::Info), js_string!("info"), 0)
        .function(logger(log::Level::Debug), js_string!("debug"), 0)
        .function(logger(log::Level::Warn), js_string!("warn"), 0)
        .function(logger(log::Level::Error), js_string!("error"), 0)
        .build();
    ctx.register_global_property(js_string!("console"), console, Attribute::all())
        .expect("console is registered once");
}

/// `http.send({method, url, headers, body, credential, timeoutMs})`: the
/// host's `http` import, synchronous. Answers `{status, headers, body,
/// json}` (`json` when the body parses). A refusal (egress, credential) or
/// a failed request throws an `Error` naming it.
fn install_http(ctx: &mut Context) {
    let send = NativeFunction::from_fn_ptr(|_, args, ctx| {
        let spec = args.get_or_undefined(0);
        let spec = spec.to_json(ctx)?.filter(Value::is_object).ok_or_else(|| {
            JsNativeError::typ().with_message("http.send takes one object: {method, url, ...}")
        })?;
        let text = |k: &str| spec.get(k).and_then(Value::as_str).map(str::to_owned);
        let url = text("url")
            .ok_or_else(|| JsNativeError::typ().with_message("http.send: `url` is required"))?;
        let method = text("method").unwrap_or_else(|| "GET".into());
        let mut req = Request::new(method, url);
        if let Some(Value::Object(h)) = spec.get("headers") {
            for (k, v) in h {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                req = req.header(k.clone(), v);
            }
        }
        match spec.get("body") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => req = req.body(s.clone().into_bytes()),
            Some(other) => req = req.json(other),
        }
        if let Some(c) = text("credential") {
            req = req.credential(c);
        }
        if let Some(t) = spec.get("timeoutMs").and_then(Value::as_u64) {
            req = req.timeout_ms(u32::try_from(t).unwrap_or(u32::MAX));
        }
        let resp = req.send().map_err(|e| {
            let msg = match &e {
                HttpError::Denied(why) => format!(
                    "http.send: egress denied: {why} (a code step reaches only the hosts in its `hosts`)"
                ),
                HttpError::CredentialNotFound(name) => format!(
                    "http.send: no credential `{name}` is bound to this step (bind one with \
                     `credentials: {{{name}: <stored credential>}}` on the code step)"
                ),
                HttpError::CredentialNotBound(why) => format!(
                    "http.send: {why}; it is sent only to hosts that are both the \
                     credential's and in the step's `hosts`"
                ),
                other => format!("http.send: {other}"),
            };
            JsError::from(JsNativeError::error().with_message(msg))
        })?;
        let body = resp.text();
        let json_body: Option<Value> = serde_json::from_str(&body).ok();
        let headers: Map<String, Value> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
            .collect();
        let mut out = json!({"status": resp.status(), "headers": headers, "body": body});
        if let Some(j) = json_body {
            out["json"] = j;
        }
        JsValue::from_json(&out, ctx)
    });
    let http = ObjectInitializer::new(ctx)
        .function(send, js_string!("send"), 1)
        .build();
    ctx.register_global_property(JsString::from("http"), http, Attribute::all())
        .expect("http is registered once");
}

weft_sdk::export!(Code, init);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_integers() {
        assert_eq!(
            whole(json!([41.0, 2.5, -0.0, {"a": 1e300}])),
            json!([41, 2.5, 0, {"a": 1e300}])
        );
    }

    #[test]
    fn positions_lose_the_wrapper_line() {
        let t = located("expected ';' at line 3, col 7\n    at <main> (code:4:2)");
        assert_eq!(t, "expected ';' at line 2, col 7\n    at <main> (code:3:2)");
        assert_eq!(position(&t), Some((2, 7)));
    }
}
