//! Evaluation of parsed expressions against a JSON context. Data only: the
//! context value is the only thing an expression can read (A7), and every
//! evaluation is bounded in steps and output size.

use crate::expr::{Func, Kind, Node, Op, PErr};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

/// Most expression nodes one template evaluation may visit.
pub const MAX_EVAL_STEPS: u32 = 10_000;
/// Largest string an evaluation may produce (interpolation, `json`, `string`).
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

pub(crate) struct Eval<'a> {
    ctx: &'a Value,
    steps: u32,
}

type R<'a> = Result<Cow<'a, Value>, PErr>;

const NULL: Value = Value::Null;

impl<'a> Eval<'a> {
    pub fn new(ctx: &'a Value) -> Self {
        Self { ctx, steps: 0 }
    }

    pub fn eval(&mut self, n: &Node) -> R<'a> {
        self.steps += 1;
        if self.steps > MAX_EVAL_STEPS {
            return Err((
                n.pos,
                format!("evaluation took more than {MAX_EVAL_STEPS} steps"),
            ));
        }
        Ok(match &n.kind {
            Kind::Lit(v) => Cow::Owned(v.clone()),
            Kind::Root(r) => Cow::Borrowed(self.ctx.get(r.key()).unwrap_or(&NULL)),
            Kind::Step(id) => Cow::Borrowed(
                self.ctx
                    .get("steps")
                    .and_then(|s| s.get(id))
                    .unwrap_or(&NULL),
            ),
            Kind::Field(base, name) => {
                let base = self.eval(base)?;
                child(base, |v| v.get(name.as_str()))
            }
            Kind::Index(base, idx) => {
                let base = self.eval(base)?;
                let idx = self.eval(idx)?;
                match &*idx {
                    Value::String(k) => child(base, |v| v.get(k.as_str())),
                    Value::Number(n) => match n.as_u64().and_then(|i| usize::try_from(i).ok()) {
                        Some(i) => child(base, |v| v.get(i)),
                        None => Cow::Owned(Value::Null),
                    },
                    other => {
                        return Err((n.pos, format!("cannot index with {}", type_name(other))));
                    }
                }
            }
            Kind::Not(inner) => Cow::Owned(Value::Bool(!truthy(&*self.eval(inner)?))),
            Kind::Bin(op, l, r) => self.binary(n.pos, *op, l, r)?,
            Kind::Call(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a)?);
                }
                Cow::Owned(call(n.pos, *f, &vals)?)
            }
        })
    }

    fn binary(&mut self, pos: usize, op: Op, l: &Node, r: &Node) -> R<'a> {
        let left = self.eval(l)?;
        let b = |x: bool| Ok(Cow::Owned(Value::Bool(x)));
        match op {
            Op::Or if truthy(&left) => return b(true),
            Op::And if !truthy(&left) => return b(false),
            Op::Or | Op::And => return b(truthy(&*self.eval(r)?)),
            Op::Default if !left.is_null() => return Ok(left),
            Op::Default => return self.eval(r),
            _ => {}
        }
        let right = self.eval(r)?;
        let ord = || compare(pos, &left, &right);
        match op {
            Op::Eq => b(json_eq(&left, &right)),
            Op::Ne => b(!json_eq(&left, &right)),
            Op::Lt => b(ord()? == Ordering::Less),
            Op::Le => b(ord()? != Ordering::Greater),
            Op::Gt => b(ord()? == Ordering::Greater),
            _ => b(ord()? != Ordering::Less),
        }
    }
}

fn child<'a>(base: Cow<'a, Value>, get: impl Fn(&Value) -> Option<&Value>) -> Cow<'a, Value> {
    match base {
        Cow::Borrowed(v) => Cow::Borrowed(get(v).unwrap_or(&NULL)),
        Cow::Owned(v) => Cow::Owned(get(&v).cloned().unwrap_or(Value::Null)),
    }
}

fn compare(pos: usize, a: &Value, b: &Value) -> Result<Ordering, PErr> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal))
        }
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err((
            pos,
            format!("cannot compare {} with {}", type_name(a), type_name(b)),
        )),
    }
}

fn call(pos: usize, f: Func, args: &[Cow<'_, Value>]) -> Result<Value, PErr> {
    let arg = args.first().map_or(&NULL, |a| &**a);
    let wrong = |name: &str, want: &str| {
        Err((
            pos,
            format!("{name}() needs {want}, found {}", type_name(arg)),
        ))
    };
    match (f, arg) {
        (Func::Length, Value::String(s)) => Ok(s.chars().count().into()),
        (Func::Length, Value::Array(a)) => Ok(a.len().into()),
        (Func::Length, Value::Object(o)) => Ok(o.len().into()),
        (Func::Length, _) => wrong("length", "a string, array or object"),
        (Func::Lower, Value::String(s)) => Ok(s.to_lowercase().into()),
        (Func::Lower, _) => wrong("lower", "a string"),
        (Func::Upper, Value::String(s)) => Ok(s.to_uppercase().into()),
        (Func::Upper, _) => wrong("upper", "a string"),
        (Func::String, Value::String(s)) => Ok(s.clone().into()),
        (Func::String | Func::Json, v) => to_json(v).map(Value::String).map_err(|m| (pos, m)),
    }
}

/// Compact JSON text of `v`, refusing to produce more than [`MAX_OUTPUT_BYTES`].
pub(crate) fn to_json(v: &Value) -> Result<String, String> {
    struct Limited(Vec<u8>);
    impl std::io::Write for Limited {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + buf.len() > MAX_OUTPUT_BYTES {
                return Err(std::io::Error::other("too large"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = Limited(Vec::new());
    serde_json::to_writer(&mut w, v)
        .map_err(|_| format!("result is larger than {MAX_OUTPUT_BYTES} bytes"))?;
    String::from_utf8(w.0).map_err(|_| "result is not UTF-8".to_string())
}

/// JavaScript-like truthiness: `null`, `false`, `0` and `""` are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`), at every depth.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// `null`, `boolean`, `number`, `string`, `array` or `object`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;
    use serde_json::json;

    fn ev(src: &str, ctx: &Value) -> Result<Value, PErr> {
        let n = parse(src).unwrap();
        Eval::new(ctx).eval(&n).map(Cow::into_owned)
    }

    #[test]
    fn reads_paths_and_keeps_types() {
        let ctx = json!({
            "trigger": {"body": {"items": [{"name": "x", "n": 2}]}},
            "steps": {"fetch": {"output": {"status": 200, "tags": ["a"]}}},
            "vars": {"limit": 3}, "item": "it", "index": 4
        });
        assert_eq!(ev("trigger.body.items[0].name", &ctx), Ok(json!("x")));
        assert_eq!(
            ev("steps.fetch.output", &ctx),
            Ok(json!({"status": 200, "tags": ["a"]}))
        );
        assert_eq!(
            ev("steps.fetch.output['status'] == 200.0", &ctx),
            Ok(json!(true))
        );
        assert_eq!(ev("trigger.nope.deeper ?? vars.limit", &ctx), Ok(json!(3)));
        assert_eq!(
            ev("index >= 4 && item == 'it' && !false", &ctx),
            Ok(json!(true))
        );
        assert_eq!(
            ev("length(steps.fetch.output.tags) < -1 || null", &ctx),
            Ok(json!(false))
        );
        assert_eq!(ev("upper(lower('AbC'))", &ctx), Ok(json!("ABC")));
        assert_eq!(
            ev("json(steps.fetch.output.tags)", &ctx),
            Ok(json!("[\"a\"]"))
        );
        assert_eq!(ev("string(index)", &ctx), Ok(json!("4")));
        assert_eq!(ev("trigger.body.items[9]", &ctx), Ok(Value::Null));
        assert_eq!(ev("(1)['x']", &ctx), Ok(Value::Null));
    }

    #[test]
    fn type_errors_name_the_position() {
        let ctx = json!({"vars": {"s": "a"}});
        assert_eq!(
            ev("vars.s < 1", &ctx),
            Err((7, "cannot compare string with number".into()))
        );
        assert_eq!(
            ev("length(1)", &ctx),
            Err((
                0,
                "length() needs a string, array or object, found number".into()
            ))
        );
        assert_eq!(
            ev("vars[true]", &ctx),
            Err((4, "cannot index with boolean".into()))
        );
    }

    #[test]
    fn output_and_steps_are_bounded() {
        let big = json!({"vars": {"s": "x".repeat(MAX_OUTPUT_BYTES)}});
        assert_eq!(
            ev("json(vars.s)", &big),
            Err((0, format!("result is larger than {MAX_OUTPUT_BYTES} bytes")))
        );
        let n = parse("vars.a").unwrap();
        let ctx = json!({});
        let mut e = Eval::new(&ctx);
        for _ in 0..MAX_EVAL_STEPS / 2 {
            e.eval(&n).unwrap();
        }
        assert!(e.eval(&n).unwrap_err().1.contains("more than 10000 steps"));
    }

    #[test]
    fn equality_is_by_value() {
        assert!(json_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_eq(&json!([1]), &json!([1, 2])));
        assert!(truthy(&json!([])) && !truthy(&json!("")) && !truthy(&json!(0.0)));
    }
}
