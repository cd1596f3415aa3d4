//! Properties of the template and expression engine (lexer, parser,
//! evaluator, renderer): any text and any context are answered without a
//! panic, rendering stays within its budget, a value without templates
//! renders as itself, and a template that is one path reads that path.

use proptest::prelude::*;
use serde_json::{Value, json};
use weft_engine::budget::Budget;
use weft_engine::template::{Template, render, render_in};
use weft_engine::{RunLimits, template};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON; `strings` decides what its strings look like.
fn json_with(strings: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        strings.prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_{}]{0,5}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Any string, often one that JSON escapes (quotes, backslashes, controls).
fn string() -> BoxedStrategy<String> {
    prop_oneof![any::<String>(), "[\"\\\\\\x00-\\x1f a]{0,8}"].boxed()
}

/// A context with the roots expressions read.
fn context() -> impl Strategy<Value = Value> {
    (json_with(string()), json_with(string()), any::<u32>()).prop_map(
        |(body, vars, index)| {
            json!({"trigger": {"body": body}, "vars": vars, "steps": {"a": {"output": body}}, "item": vars, "index": index})
        },
    )
}

/// Expressions from the grammar (often well formed, sometimes not).
fn expr() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        "(trigger|vars|item|index|steps\\.a\\.output)(\\.[a-z_]{1,4}|\\[[0-9]{1,2}\\]|\\['[a-z]{0,3}'\\]){0,3}",
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?(e-?[0-9])?",
        "'[^'\\\\]{0,6}'",
        "\"[a-z\\\\n ]{0,6}\"",
        Just("null".to_string()),
        Just("true".to_string()),
    ];
    atom.prop_recursive(5, 24, 3, |inner| {
        let op = prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">=", "&&", "||", "??"]);
        let func = prop::sample::select(vec!["length", "lower", "upper", "string", "json"]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            inner.clone().prop_map(|a| format!("!({a})")),
            (func, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a})[{b}]")),
        ]
    })
}

/// Text with templates in it.
fn template_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-z {}'\"]{0,8}",
            expr().prop_map(|e| format!("{{{{ {e} }}}}")),
        ],
        1..4,
    )
    .prop_map(|parts| parts.concat())
}

fn no_templates(s: &str) -> bool {
    !template::is_template(s)
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn any_text_parses_or_fails_without_panicking(text in any::<String>(), ctx in context()) {
        let wrapped = format!("{{{{ {text} }}}}");
        for t in [text.as_str(), wrapped.as_str()] {
            if let Ok(parsed) = Template::parse(t) {
                let _ = parsed.render(&ctx);
                let _ = parsed.references();
            }
            let _ = Template::parse_expr(t).map(|p| p.render(&ctx));
        }
    }

    #[test]
    fn templates_render_within_their_budget(
        text in template_text(),
        ctx in context(),
        bytes in 0u64..4_096,
        nodes in 0u64..64,
    ) {
        let value = json!({"a": text.clone(), "b": [text]});
        let mut budget = Budget::new(RunLimits { render_bytes: bytes, render_nodes: nodes });
        match render_in(&value, &ctx, &mut budget) {
            Ok(out) => {
                let (used_bytes, used_nodes) = budget.used();
                prop_assert!(used_bytes <= bytes && used_nodes <= nodes);
                // Everything in the result was charged. (The charge counts a
                // string's characters, not its JSON escapes.)
                let mut unlimited = Budget::new(RunLimits { render_bytes: u64::MAX, render_nodes: u64::MAX });
                unlimited.weigh(&out).unwrap();
                prop_assert!(unlimited.used().1 <= used_nodes, "{out}: {:?} > {:?}", unlimited.used(), budget.used());
                prop_assert!(unlimited.used().0 <= used_bytes, "{out}: {:?} > {:?}", unlimited.used(), budget.used());
            }
            Err(e) => {
                if e.exceeded.is_none() {
                    // Not a budget failure: the same error with no limit at all.
                    let unlimited = render(&value, &ctx).err();
                    prop_assert_eq!(unlimited.map(|u| u.message), Some(e.message));
                }
            }
        }
    }

    #[test]
    fn text_with_a_value_in_it_is_charged_for_every_byte(
        v in json_with(string()),
        text in "[a-z\"]{1,4}",
    ) {
        let ctx = json!({"vars": v});
        let mut budget = Budget::default();
        let out = render_in(&json!(format!("{text}{{{{ vars }}}}")), &ctx, &mut budget).unwrap();
        let Value::String(s) = &out else { return Err(TestCaseError::fail("not a string")) };
        // The string's characters and its quotes, escapes inside it included.
        prop_assert!(s.len() as u64 + 2 <= budget.used().0, "{out}: {:?}", budget.used());
    }

    #[test]
    fn a_value_without_templates_renders_as_itself(
        v in json_with(any::<String>().prop_filter("no `{{`", |s| no_templates(s)).boxed()),
        ctx in context(),
    ) {
        prop_assert_eq!(render(&v, &ctx).unwrap(), v);
    }

    #[test]
    fn a_single_path_keeps_the_type_it_reads(v in json_with(any::<String>().boxed()), key in "[a-z_]{1,6}") {
        let ctx = json!({"vars": {key.clone(): v.clone()}});
        let t = Template::parse(&format!("{{{{ vars.{key} }}}}")).unwrap();
        prop_assert_eq!(t.render(&ctx).unwrap(), v.clone());
        let t = Template::parse(&format!("{{{{ vars['{key}'] ?? 1 }}}}")).unwrap();
        let want = if v.is_null() { json!(1) } else { v };
        prop_assert_eq!(t.render(&ctx).unwrap(), want);
    }
}
