//! The expression language inside `{{ }}`: lexer and recursive-descent parser.
//!
//! Precedence, lowest first: `||`, `&&`, `== !=`, `< <= > >=`, `??`, unary `!`,
//! postfix `.field` / `[index]`. Evaluation lives in `eval.rs`.

pub(crate) use crate::lex::PErr;
use crate::lex::{Tok, describe, lex};
use serde_json::Value;

/// Deepest nesting of parentheses, brackets and unary operators.
pub const MAX_NESTING: usize = 32;

/// A parsed expression node with its byte offset in the expression text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub pos: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Lit(Value),
    /// `trigger`, `vars`, `item`, `index`.
    Root(Root),
    /// `steps.<id>` / `steps["<id>"]`: the only way to read `steps`.
    Step(String),
    Field(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Bin(Op, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
}

/// The names an expression can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Trigger,
    Vars,
    Item,
    Index,
}

impl Root {
    pub fn key(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Vars => "vars",
            Self::Item => "item",
            Self::Index => "index",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Default,
}

/// The pure functions available to expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Length,
    Lower,
    Upper,
    String,
    Json,
}

/// Parses one expression (without the surrounding `{{ }}`).
pub(crate) fn parse(src: &str) -> Result<Node, PErr> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
    };
    let node = p.expr()?;
    match p.peek() {
        Tok::End => Ok(node),
        t => Err((p.pos(), format!("unexpected {}", describe(t)))),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.at).map_or(&Tok::End, |t| &t.1)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(0, |t| t.0)
    }
    fn next(&mut self) -> (usize, Tok) {
        let t = self.toks.get(self.at).cloned().unwrap_or((0, Tok::End));
        self.at += 1;
        t
    }
    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(s) if *s == sym) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, sym: &str) -> Result<(), PErr> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err((
                self.pos(),
                format!("expected `{sym}`, found {}", describe(self.peek())),
            ))
        }
    }
    fn enter(&mut self) -> Result<(), PErr> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err((self.pos(), format!("nested deeper than {MAX_NESTING}")));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Node, PErr> {
        self.enter()?;
        let n = self.binary(0);
        self.depth -= 1;
        n
    }

    /// Precedence climbing over the binary levels.
    fn binary(&mut self, level: usize) -> Result<Node, PErr> {
        const LEVELS: [&[(&str, Op)]; 5] = [
            &[("||", Op::Or)],
            &[("&&", Op::And)],
            &[("==", Op::Eq), ("!=", Op::Ne)],
            &[("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)],
            &[("??", Op::Default)],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        loop {
            let pos = self.pos();
            let Some(&(_, op)) = ops.iter().find(|(s, _)| self.eat(s)) else {
                return Ok(left);
            };
            let right = self.binary(level + 1)?;
            left = Node {
                pos,
                kind: Kind::Bin(op, Box::new(left), Box::new(right)),
            };
        }
    }

    fn unary(&mut self) -> Result<Node, PErr> {
        let pos = self.pos();
        if self.eat("!") {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Node {
                pos,
                kind: Kind::Not(Box::new(inner)),
            });
        }
        if self.eat("-") {
            if let (_, Tok::Num(n)) = self.next() {
                let neg = match n.as_i64() {
                    Some(i) => i.checked_neg().map(Value::from),
                    None => n
                        .as_f64()
                        .and_then(|f| serde_json::Number::from_f64(-f))
                        .map(Value::Number),
                };
                if let Some(v) = neg {
                    return self.postfix(Node {
                        pos,
                        kind: Kind::Lit(v),
                    });
                }
            }
            return Err((pos, "`-` is only allowed before a number literal".into()));
        }
        let p = self.primary()?;
        self.postfix(p)
    }

    fn postfix(&mut self, mut node: Node) -> Result<Node, PErr> {
        loop {
            let pos = self.pos();
            if self.eat(".") {
                match self.next() {
                    (_, Tok::Ident(name)) => {
                        node = Node {
                            pos,
                            kind: Kind::Field(Box::new(node), name),
                        }
                    }
                    (p, t) => return Err((p, format!("expected a name, found {}", describe(&t)))),
                }
            } else if self.eat("[") {
                let idx = self.expr()?;
                self.expect("]")?;
                node = Node {
                    pos,
                    kind: Kind::Index(Box::new(node), Box::new(idx)),
                };
            } else {
                return Ok(node);
            }
        }
    }

    fn primary(&mut self) -> Result<Node, PErr> {
        let (pos, tok) = self.next();
        let kind = match tok {
            Tok::Num(n) => Kind::Lit(n),
            Tok::Str(s) => Kind::Lit(Value::String(s)),
            Tok::Sym("(") => {
                let inner = self.expr()?;
                self.expect(")")?;
                return Ok(inner);
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Kind::Lit(Value::Bool(true)),
                "false" => Kind::Lit(Value::Bool(false)),
                "null" => Kind::Lit(Value::Null),
                "trigger" => Kind::Root(Root::Trigger),
                "vars" => Kind::Root(Root::Vars),
                "item" => Kind::Root(Root::Item),
                "index" => Kind::Root(Root::Index),
                "steps" => Kind::Step(self.step_id()?),
                _ if matches!(self.peek(), Tok::Sym("(")) => self.call(pos, &name)?,
                _ => {
                    return Err((
                        pos,
                        format!(
                            "unknown name `{name}` (expected trigger, steps, vars, item, index or a literal)"
                        ),
                    ));
                }
            },
            t => {
                return Err((
                    pos,
                    format!("expected an expression, found {}", describe(&t)),
                ));
            }
        };
        Ok(Node { pos, kind })
    }

    fn step_id(&mut self) -> Result<String, PErr> {
        let pos = self.pos();
        if self.eat(".") {
            if let (_, Tok::Ident(id)) = self.next() {
                return Ok(id);
            }
        } else if self.eat("[")
            && let (_, Tok::Str(id)) = self.next()
        {
            self.expect("]")?;
            return Ok(id);
        }
        Err((
            pos,
            "`steps` must be followed by a step id, as in `steps.fetch.output`".into(),
        ))
    }

    fn call(&mut self, pos: usize, name: &str) -> Result<Kind, PErr> {
        let func = match name {
            "length" => Func::Length,
            "lower" => Func::Lower,
            "upper" => Func::Upper,
            "string" => Func::String,
            "json" => Func::Json,
            _ => return Err((pos, format!("unknown function `{name}`"))),
        };
        self.expect("(")?;
        let arg = self.expr()?;
        self.expect(")")?;
        Ok(Kind::Call(func, vec![arg]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> PErr {
        parse(src).unwrap_err()
    }

    #[test]
    fn precedence_and_paths() {
        let n = parse("steps.a.output.n ?? 0 > 3 && !vars.off").unwrap();
        let Kind::Bin(Op::And, l, r) = n.kind else {
            panic!("{n:?}")
        };
        assert!(matches!(l.kind, Kind::Bin(Op::Gt, ..)));
        assert!(matches!(r.kind, Kind::Not(_)));
        let n = parse("trigger.body.items[0]['na me']").unwrap();
        assert!(matches!(n.kind, Kind::Index(..)));
        assert_eq!(
            parse("steps['x'].y").unwrap().kind,
            Kind::Field(
                Box::new(Node {
                    pos: 0,
                    kind: Kind::Step("x".into())
                }),
                "y".into()
            )
        );
        assert_eq!(
            parse("-2.5").unwrap().kind,
            Kind::Lit(serde_json::json!(-2.5))
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            err("steps.a.output["),
            (15, "expected an expression, found end of expression".into())
        );
        assert_eq!(
            err("steps[0]"),
            (
                5,
                "`steps` must be followed by a step id, as in `steps.fetch.output`".into()
            )
        );
        assert_eq!(
            err("env.HOME"),
            (
                0,
                "unknown name `env` (expected trigger, steps, vars, item, index or a literal)"
                    .into()
            )
        );
        assert_eq!(
            err("read_file('x')"),
            (0, "unknown function `read_file`".into())
        );
        assert_eq!(err("'abc"), (0, "unterminated string".into()));
        assert_eq!(err("vars = 1"), (5, "unexpected character `=`".into()));
        assert_eq!(err("1 2"), (2, "unexpected number `2`".into()));
        assert_eq!(err("vars.x # 1"), (7, "unexpected character `#`".into()));
        assert_eq!(err(&"(".repeat(40)).1, "nested deeper than 32");
        assert_eq!(err(&"!".repeat(40)).1, "nested deeper than 32");
    }
}
