//! Tests of `template`: parsing, typed rendering, errors, the budget.

use super::*;
use crate::budget::{Budget, Exceeded};
use serde_json::json;

fn ctx() -> Value {
    json!({"trigger": {"body": {"n": 5, "name": "Ada"}}, "steps": {"a": {"output": {"ok": true}}}})
}

#[test]
fn single_expressions_keep_their_type() {
    let c = ctx();
    let r = |s: &str| Template::parse(s).unwrap().render(&c).unwrap();
    assert_eq!(r("{{ trigger.body.n }}"), json!(5));
    assert_eq!(r("{{steps.a.output}}"), json!({"ok": true}));
    assert_eq!(
        r("n={{ trigger.body.n }}, {{ trigger.nope }}!"),
        json!("n=5, !")
    );
    assert_eq!(r(" {{ trigger.body.n }}"), json!(" 5"));
    assert_eq!(r("{{ '}}' }}"), json!("}}"));
    assert_eq!(r("{{ '{{' }} x }}"), json!("{{ x }}"));
    assert_eq!(r("{{ steps.a.output }}/x"), json!("{\"ok\":true}/x"));
}

#[test]
fn references_are_listed() {
    let t = Template::parse(
        "{{ steps.b.x ?? vars.k }} {{ item[index] }} {{ vars[trigger.k] }} {{ steps.a }}",
    )
    .unwrap();
    assert_eq!(
        t.references(),
        vec![
            Reference::Trigger,
            Reference::Var(None),
            Reference::Var(Some("k".into())),
            Reference::Step("a".into()),
            Reference::Step("b".into()),
            Reference::Item,
            Reference::Index,
        ]
    );
}

#[test]
fn errors_name_the_template_and_position() {
    let e = |s: &str| Template::parse(s).unwrap_err().to_string();
    assert_eq!(
        e("Hi {{ steps.a.output[ }}"),
        "expected an expression, found end of expression at position 22 in `Hi {{ steps.a.output[ }}`"
    );
    assert_eq!(
        e("x {{ vars.a"),
        "unclosed `{{` at position 2 in `x {{ vars.a`"
    );
    assert_eq!(e("{{ }}"), "empty expression at position 2 in `{{ }}`");
    assert_eq!(
        e(&format!("{{{{ '{}' }}}}", "x".repeat(2000))),
        format!(
            "expression is longer than 1024 bytes at position 2 in `{{{{ '{}…`",
            "x".repeat(116)
        )
    );
    assert_eq!(
        Template::parse_expr("a {{ vars.x }}").unwrap_err().message,
        "expected one expression, not text with `{{ }}`"
    );
    assert!(
        Template::parse_expr("{{ vars.x == 1 }}")
            .unwrap()
            .is_single()
    );
    assert!(Template::parse_expr("vars.x == 1").unwrap().is_single());
}

#[test]
fn render_walks_trees_and_locates_errors() {
    let c = ctx();
    let v = json!({"a": ["{{ trigger.body.name }}", 1, {"k/x": "{{ trigger.body.n }}"}], "{{ key }}": null});
    assert_eq!(
        render(&v, &c).unwrap(),
        json!({"a": ["Ada", 1, {"k/x": 5}], "{{ key }}": null})
    );
    let bad = json!({"a": [0, {"k/x": "{{ trigger.body.name > 1 }}"}]});
    assert_eq!(
        render(&bad, &c).unwrap_err().to_string(),
        "/a/1/k~1x: cannot compare string with number at position 21 in `{{ trigger.body.name > 1 }}`"
    );
}

fn limited(render_bytes: u64, render_nodes: u64) -> Budget {
    Budget::new(crate::RunLimits {
        render_bytes,
        render_nodes,
    })
}

#[test]
fn a_large_value_referenced_many_times_runs_out_of_budget_at_the_reference() {
    let c = json!({"trigger": {"body": {"blob": "x".repeat(100_000)}}});
    let many = Value::Array(vec![json!("{{ trigger.body }}"); 800]);
    let e = render(&many, &c).unwrap_err();
    assert_eq!(e.exceeded, Some(Exceeded::Bytes { limit: 8_388_608 }));
    // 8 MiB holds 83 copies of the 100,011-byte body.
    assert_eq!(
        e.to_string(),
        "/83: rendered data is over the budget of 8388608 bytes (`render_bytes`) \
         at position 2 in `{{ trigger.body }}`"
    );

    // Text interpolation is charged as it is built, at the expression that crosses.
    let c = json!({"vars": {"s": "y".repeat(400)}});
    let t = Template::parse("a {{ vars.s }} b {{ vars.s }} c").unwrap();
    let mut b = limited(700, u64::MAX);
    let e = t.render_in(&c, &mut b).unwrap_err();
    assert_eq!(e.pos, 19, "the second `vars.s`");
    assert_eq!(e.exceeded, Some(Exceeded::Bytes { limit: 700 }));
    assert_eq!(
        t.render_in(&c, &mut limited(900, u64::MAX)).unwrap(),
        json!(format!("a {0} b {0} c", "y".repeat(400)))
    );

    // Values interpolated as JSON, and literal parts of the tree, are charged too.
    let c = json!({"vars": {"xs": vec![1; 100]}});
    let e = Template::parse("{{ vars.xs }}!")
        .unwrap()
        .render_in(&c, &mut limited(u64::MAX, 50))
        .unwrap_err();
    assert_eq!(e.exceeded, Some(Exceeded::Nodes { limit: 50 }));
    let literal = json!({"k": ["z".repeat(100)]});
    let e = render_in(&literal, &c, &mut limited(50, u64::MAX)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/k/0: rendered data is over the budget of 50 bytes (`render_bytes`)"
    );
}

#[test]
fn rendering_charges_the_size_of_what_it_produces_and_keeps_types() {
    let c = json!({
        "steps": {"fetch": {"output": {"items": [1, 2.5, null], "ok": true}}},
        "vars": {"who": "Ada"}
    });
    let v = json!({
        "all": "{{ steps.fetch.output.items }}",
        "ok": "{{ steps.fetch.output.ok }}",
        "hi": "Hi {{ vars.who }} #{{ steps.fetch.output.items[0] }}!",
        "none": "{{ vars.nope }}",
        "plain": ["text", 3, false, {"x": null}]
    });
    let mut b = limited(u64::MAX, u64::MAX);
    let out = render_in(&v, &c, &mut b).unwrap();
    assert_eq!(
        out,
        json!({
            "all": [1, 2.5, null],
            "ok": true,
            "hi": "Hi Ada #1!",
            "none": null,
            "plain": ["text", 3, false, {"x": null}]
        })
    );
    assert_eq!(
        out,
        render(&v, &c).unwrap(),
        "the default budget changes nothing"
    );
    // The charge is the produced value's weight: about its compact JSON.
    let mut w = limited(u64::MAX, u64::MAX);
    w.weigh(&out).unwrap();
    let floats = 24 - "2.5".len() as u64;
    assert_eq!(b.used().0, w.used().0);
    assert_eq!(b.used().0, out.to_string().len() as u64 + floats);
    assert_eq!(
        b.used().1,
        w.used().1 + 1,
        "the number interpolated into `hi` is a value of its own"
    );
}
