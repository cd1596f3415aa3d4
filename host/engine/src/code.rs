//! The `code` step's pure parts: where its items come from by default, and
//! which of the run's names its script reads (so only those are copied into
//! its input, as for a template).

use crate::Graph;
use std::collections::BTreeSet;

/// The expression of a code step's items when it sets none: the output of
/// the one step it runs after, or the trigger's body for a root step. `None`
/// when it runs after several (then `items` is required).
pub fn default_items(graph: &Graph, i: usize) -> Option<String> {
    match graph.dependencies(i) {
        [] => Some("trigger.body".to_owned()),
        [d] => Some(format!("steps.{}.output", graph.id(*d))),
        _ => None,
    }
}

/// What a script reads of the run: `trigger`, `vars`, and the step ids it
/// names as `steps.<id>`, `steps["<id>"]` or `steps['<id>']` (a lexical
/// scan: a mention in a string or a comment counts too, which only copies
/// more; a step named by a computed key is not seen, and reads `undefined`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScriptReads {
    /// Whether `trigger` appears.
    pub trigger: bool,
    /// Whether `vars` appears.
    pub vars: bool,
    /// The step ids named after `steps`.
    pub steps: BTreeSet<String>,
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Scans `code` for the names it reads; see [`ScriptReads`].
pub fn reads(code: &str) -> ScriptReads {
    let b = code.as_bytes();
    let mut out = ScriptReads::default();
    let mut i = 0;
    while i < b.len() {
        if !ident_char(b[i]) || (i > 0 && (ident_char(b[i - 1]) || b[i - 1] == b'.')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && ident_char(b[i]) {
            i += 1;
        }
        match &code[start..i] {
            "trigger" => out.trigger = true,
            "vars" => out.vars = true,
            "steps" => {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let rest = &code[j..];
                let id = if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix("?."))
                {
                    let r = r.trim_start();
                    let n = r.bytes().take_while(|&c| ident_char(c)).count();
                    &r[..n]
                } else if let Some(r) = rest.strip_prefix('[') {
                    let r = r.trim_start();
                    match r.as_bytes().first() {
                        Some(&q @ (b'"' | b'\'' | b'`')) => {
                            let r = &r[1..];
                            r.find(q as char).map_or("", |e| &r[..e])
                        }
                        _ => "",
                    }
                } else {
                    ""
                };
                if !id.is_empty() {
                    out.steps.insert(id.to_owned());
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_names_a_script_reads() {
        let r = reads(
            "const a = steps.fetch.output; const b = steps['other'].output;\n\
             if (trigger.body) return vars.x + steps [\"third\"];",
        );
        assert!(r.trigger && r.vars);
        let ids: Vec<_> = r.steps.iter().map(String::as_str).collect();
        assert_eq!(ids, ["fetch", "other", "third"]);
    }

    #[test]
    fn a_property_named_like_a_name_is_not_one() {
        let r = reads("return items.map(x => x.trigger + x.steps.a + myvars)");
        assert_eq!(r, ScriptReads::default());
    }
}
