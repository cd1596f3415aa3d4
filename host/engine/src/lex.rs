//! Tokens of the expression language.

use serde_json::Value;

/// Where lexing, parsing or evaluating failed: byte offset and message.
pub(crate) type PErr = (usize, String);

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Num(Value),
    Str(String),
    Sym(&'static str),
    End,
}

/// Splits an expression into tokens with their byte offsets.
pub(crate) fn lex(src: &str) -> Result<Vec<(usize, Tok)>, PErr> {
    const SYMS: [&str; 16] = [
        "==", "!=", "<=", ">=", "&&", "||", "??", "<", ">", "!", ".", "[", "]", "(", ")", "-",
    ];
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((s, Tok::Ident(src[s..i].to_string())));
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E')) {
                let exp = matches!(b[i], b'e' | b'E');
                i += 1;
                if exp && i < b.len() && matches!(b[i], b'+' | b'-') {
                    i += 1;
                }
            }
            out.push((
                s,
                Tok::Num(number(&src[s..i]).ok_or((s, "invalid number".to_string()))?),
            ));
        } else if c == b'"' || c == b'\'' {
            let s = i;
            let mut text = String::new();
            i += 1;
            loop {
                let Some(ch) = src[i..].chars().next() else {
                    return Err((s, "unterminated string".into()));
                };
                i += ch.len_utf8();
                match ch {
                    '\\' => {
                        let Some(e) = src[i..].chars().next() else {
                            return Err((s, "unterminated string".into()));
                        };
                        i += e.len_utf8();
                        text.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '\\' | '"' | '\'' => e,
                            _ => return Err((i - 2, format!("unknown escape `\\{e}`"))),
                        });
                    }
                    q if q == char::from(c) => break,
                    _ => text.push(ch),
                }
            }
            out.push((s, Tok::Str(text)));
        } else if let Some(sym) = SYMS.iter().find(|s| src[i..].starts_with(**s)) {
            out.push((i, Tok::Sym(sym)));
            i += sym.len();
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err((i, format!("unexpected character `{ch}`")));
        }
    }
    out.push((b.len(), Tok::End));
    Ok(out)
}

fn number(text: &str) -> Option<Value> {
    if text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = text.parse::<u64>()
    {
        return Some(Value::from(n));
    }
    let f: f64 = text.parse().ok()?;
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// How a token is named in error messages.
pub(crate) fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Num(n) => format!("number `{n}`"),
        Tok::Str(_) => "string".into(),
        Tok::Sym(s) => format!("`{s}`"),
        Tok::End => "end of expression".into(),
    }
}
