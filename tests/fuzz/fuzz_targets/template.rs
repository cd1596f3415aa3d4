//! The template/expression engine: the input is a template and a JSON
//! context, split at the first NUL byte. Parsing and rendering answer without
//! panicking, within a small budget, and a breach is named.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use weft_engine::RunLimits;
use weft_engine::budget::Budget;
use weft_engine::template::{Template, render_in};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, ctx) = text.split_once('\0').unwrap_or((text, "{}"));
    let ctx: Value = serde_json::from_str(ctx).unwrap_or_else(|_| json!({"vars": ctx}));
    let ctx = json!({"trigger": {"body": ctx}, "vars": ctx, "steps": {"a": {"output": ctx}}, "item": ctx, "index": 1});
    let limits = RunLimits {
        render_bytes: 64 * 1024,
        render_nodes: 4_096,
    };
    if let Ok(t) = Template::parse(template) {
        let _ = t.references();
        let mut budget = Budget::new(limits);
        match t.render_in(&ctx, &mut budget) {
            Ok(_) => {
                let (bytes, nodes) = budget.used();
                assert!(bytes <= limits.render_bytes && nodes <= limits.render_nodes);
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
    let _ = Template::parse_expr(template).map(|t| t.render(&ctx));
    let mut budget = Budget::new(limits);
    match render_in(&json!({"a": template, "b": [template]}), &ctx, &mut budget) {
        Ok(_) => assert!(budget.used().0 <= limits.render_bytes),
        Err(e) => assert!(!e.message.is_empty()),
    }
});
