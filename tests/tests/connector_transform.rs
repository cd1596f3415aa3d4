//! The `transform` connector (jq via jaq), built as a component and run in the
//! real sandbox: filters reshape data, errors say where, and a runaway filter is
//! stopped by the sandbox without hurting it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use weft_sandbox::{Grants, Invocation, Outcome, Plugin, StepLimits};
use weft_tests::{Built, TestSandbox, assert_healthy, failure, output, reason};
use weft_types::{ErrorKind, Reason};

async fn setup() -> (Built, Arc<Plugin>) {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("weft_plugin_transform").await;
    (sandbox, plugin)
}

async fn jq(sandbox: &Built, plugin: &Plugin, input: Value) -> Outcome {
    sandbox.run(plugin, "jq", input, Grants::default()).await
}

async fn jq_limited(sandbox: &Built, plugin: &Plugin, input: Value, limits: StepLimits) -> Outcome {
    sandbox
        .invoke(
            plugin,
            Invocation {
                limits,
                ..Invocation::new("jq", input.to_string())
            },
        )
        .await
}

#[tokio::test]
async fn filters_reshape_data() {
    let (sandbox, plugin) = setup().await;
    let orders = json!({
        "orders": [
            {"id": 1, "customer": {"name": "Ada"}, "lines": [{"sku": "a", "qty": 2, "price": 1.5}]},
            {"id": 2, "customer": {"name": "Bob"}, "lines": [{"sku": "b", "qty": 1, "price": 10}, {"sku": "c", "qty": 3, "price": 2}]},
        ]
    });
    let filter = ".orders | map({id, who: .customer.name, total: ([.lines[] | .qty * .price] | add)}) | sort_by(-.total)";
    let out = jq(&sandbox, &plugin, json!({"filter": filter, "data": orders})).await;
    // 2 * 1.5 is a float in jaq, and stays one.
    let expected =
        json!([{"id": 2, "who": "Bob", "total": 16}, {"id": 1, "who": "Ada", "total": 3.0}]);
    assert_eq!(
        output(&out),
        &json!({"result": expected, "results": [expected]})
    );

    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": "group_by(.k) | map({(.[0].k): length}) | add",
                                           "data": [{"k": "x"}, {"k": "y"}, {"k": "x"}]}),
    )
    .await;
    assert_eq!(output(&out)["result"], json!({"x": 2, "y": 1}));

    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": "{n: .big, s: (.s | ascii_upcase), t: (.s | test(\"^h\"))}",
                                           "data": {"big": 12345678901234567890u64, "s": "héllo"}}),
    )
    .await;
    assert_eq!(
        output(&out)["result"],
        json!({"n": 12345678901234567890u64, "s": "HéLLO", "t": true})
    );
}

#[tokio::test]
async fn vars_are_bound_as_dollar_names() {
    let (sandbox, plugin) = setup().await;
    let input = json!({
        "filter": "[.[] | select(.age >= $min) | .name] | {($key): ., threshold: $min}",
        "data": [{"name": "a", "age": 17}, {"name": "b", "age": 18}, {"name": "c", "age": 40}],
        "vars": {"min": 18, "key": "adults"},
    });
    let out = jq(&sandbox, &plugin, input).await;
    assert_eq!(
        output(&out)["result"],
        json!({"adults": ["b", "c"], "threshold": 18})
    );

    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": ".", "vars": {"not-a-name": 1}}),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .starts_with("input.vars: `not-a-name` is not a valid variable name"),
        "{}",
        f.message
    );
}

/// A step compiles its filter with only the library definitions the filter
/// can reach (the library is parsed once, in `init`). Filters that use
/// definitions built on other definitions, string formats and implicit
/// ones must give jq's answers, and none may need the whole-library
/// fallback (the connector logs when it does).
#[tokio::test]
async fn library_filters_compile_with_only_what_they_reach() {
    let (sandbox, plugin) = setup().await;
    let cases = [
        (
            "to_entries | map(.key)",
            json!({"a": 1, "b": 2}),
            json!(["a", "b"]),
        ),
        (
            "with_entries(.value += 1)",
            json!({"a": 1}),
            json!({"a": 2}),
        ),
        ("[paths]", json!({"a": [1]}), json!([["a"], ["a", 0]])),
        (
            "walk(if type == \"number\" then . + 1 else . end)",
            json!([1, [2]]),
            json!([2, [3]]),
        ),
        ("@base64 \"x\\(.)\"", json!("hi"), json!("xaGk=")),
        ("@base64d", json!("aGk="), json!("hi")),
        (
            "ascii_downcase | ltrimstr(\"a\")",
            json!("ABC"),
            json!("bc"),
        ),
        (
            "[limit(2; .[])], first(.[]), [range(0; 10; 4)]",
            json!([5, 6, 7]),
            json!([5, 6]),
        ),
        (
            "unique_by(.k) | map(.k)",
            json!([{"k": 2}, {"k": 1}, {"k": 2}]),
            json!([1, 2]),
        ),
        (
            "[.[] | tostring] | join(\",\")",
            json!([1, "a"]),
            json!("1,a"),
        ),
        ("del(.a) | keys", json!({"a": 1, "b": 2}), json!(["b"])),
        ("[splits(\", \")]", json!("a, b"), json!(["a", "b"])),
        ("getpath([\"a\", \"b\"])", json!({"a": {"b": 3}}), json!(3)),
        (
            "[.[] | select(. > 1)] | add / length",
            json!([1, 2, 4]),
            json!(3.0),
        ),
        ("if . then [] else {} end", json!(true), json!([])),
        ("try error(\"x\") catch .", json!(null), json!("x")),
        ("reduce .[] as $x (0; . + $x)", json!([1, 2, 3]), json!(6)),
        ("@sh", json!(["a b", 1]), json!("'a b' 1")),
        ("@html \"<\\(.)>\"", json!("&"), json!("<&amp;>")),
        ("min_by(.n) | .n", json!([{"n": 3}, {"n": 1}]), json!(1)),
        ("tojson | fromjson", json!({"a": [1]}), json!({"a": [1]})),
    ];
    for (filter, data, first) in cases {
        let out = jq(&sandbox, &plugin, json!({"filter": filter, "data": data})).await;
        assert_eq!(output(&out)["result"], first, "{filter}");
        assert!(
            out.logs
                .iter()
                .all(|l| !l.message.contains("whole library")),
            "{filter}: compiled only with the whole library: {:?}",
            out.logs
        );
    }
}

#[tokio::test]
async fn every_output_is_collected_in_order() {
    let (sandbox, plugin) = setup().await;
    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": ".[] | .id, (.tags[]? // \"none\")",
                                           "data": [{"id": 1, "tags": ["x", "y"]}, {"id": 2}]}),
    )
    .await;
    assert_eq!(
        output(&out),
        &json!({"result": 1, "results": [1, "x", "y", 2, "none"]})
    );

    let out = jq(&sandbox, &plugin, json!({"filter": "empty", "data": 1})).await;
    assert_eq!(
        output(&out),
        &json!({"result": null, "results": []}),
        "no output: result is null"
    );

    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": "., nan, infinite", "data": null}),
    )
    .await;
    assert_eq!(
        output(&out)["results"],
        json!([null, null, null]),
        "non-finite numbers become null, as in jq"
    );
}

#[tokio::test]
async fn compile_errors_are_invalid_input_with_a_position() {
    let (sandbox, plugin) = setup().await;
    let cases = [
        (
            ".a |",
            "input.filter does not parse: expected term, found end of filter at line 1, column 5",
        ),
        (
            ".a | nosuch(1)",
            "input.filter does not compile: undefined filter `nosuch/1` at line 1, column 6",
        ),
        (
            ".a |\n  $nope",
            "input.filter does not compile: undefined variable `$nope` at line 2, column 3",
        ),
    ];
    for (filter, expected) in cases {
        let out = jq(&sandbox, &plugin, json!({"filter": filter, "data": {}})).await;
        let f = failure(&out);
        assert_eq!(
            (f.kind, f.reason),
            (ErrorKind::InvalidInput, None),
            "{filter}"
        );
        assert_eq!(f.message, expected, "{filter}");
    }
    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": "{a: 1,\n  b: (.x | [1, 2)}", "data": {}}),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.starts_with("input.filter does not parse:"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("at line 2"),
        "points at the second line: {}",
        f.message
    );
}

#[tokio::test]
async fn runtime_errors_are_invalid_input() {
    let (sandbox, plugin) = setup().await;
    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": "if .n > 3 then error(\"n is too big: \\(.n)\") else . end",
                                           "data": {"n": 5}}),
    )
    .await;
    let f = failure(&out);
    assert_eq!((f.kind, f.reason), (ErrorKind::InvalidInput, None));
    assert_eq!(f.message, "filter failed: n is too big: 5");

    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": ".a + 1", "data": {"a": "text"}}),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.starts_with("filter failed:") && f.message.contains("text"),
        "{}",
        f.message
    );

    let out = jq(&sandbox, &plugin, json!({"filter": ".[]", "data": 5})).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(f.message.starts_with("filter failed:"), "{}", f.message);

    let out = jq(&sandbox, &plugin, json!({"data": {}})).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.starts_with("input: missing field `filter`"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn outputs_are_capped() {
    let (sandbox, plugin) = setup().await;
    let out = jq(&sandbox, &plugin, json!({"filter": "range(10000)"})).await;
    assert_eq!(
        output(&out)["results"].as_array().unwrap().len(),
        10_000,
        "exactly at the cap is fine"
    );

    let out = jq(&sandbox, &plugin, json!({"filter": "repeat(1)"})).await;
    let f = failure(&out);
    assert_eq!(
        (f.kind, f.reason),
        (ErrorKind::InvalidInput, None),
        "the plugin stops an endless stream itself"
    );
    assert!(
        f.message.contains("more than 10000 outputs"),
        "{}",
        f.message
    );

    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": " ".repeat(64 * 1024 + 1)}),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.contains("over the limit of 65536"),
        "{}",
        f.message
    );

    // The sandbox's own output cap applies on top of the plugin's.
    let limits = StepLimits {
        output_bytes: 4096,
        ..StepLimits::default()
    };
    let out = jq_limited(
        &sandbox,
        &plugin,
        json!({"filter": "[range(5000)]"}),
        limits,
    )
    .await;
    let f = failure(&out);
    assert_eq!(
        (f.kind, f.reason),
        (ErrorKind::LimitExceeded, Some(Reason::OutputTooLarge)),
        "{f}"
    );
}

#[tokio::test]
async fn a_filter_that_never_ends_is_stopped_at_the_deadline() {
    let (sandbox, plugin) = setup().await;
    let limits = StepLimits {
        timeout: Duration::from_millis(500),
        ..StepLimits::default()
    };
    // No output is ever produced, so the plugin's output cap cannot save it.
    let out = jq_limited(
        &sandbox,
        &plugin,
        json!({"filter": "last(repeat(1))"}),
        limits,
    )
    .await;
    assert_eq!(reason(&out), "deadline_exceeded", "{:?}", out.result);
    assert_eq!(failure(&out).kind, ErrorKind::LimitExceeded);
    assert!(
        out.usage.wall_time_us < 5_000_000,
        "stopped after {} µs",
        out.usage.wall_time_us
    );

    assert_healthy(&sandbox).await;
    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": ".x", "data": {"x": "fine"}}),
    )
    .await;
    assert_eq!(
        output(&out)["result"],
        "fine",
        "the connector still works after a runaway run"
    );
}

#[tokio::test]
async fn a_filter_that_eats_memory_is_stopped_at_the_memory_limit() {
    let (sandbox, plugin) = setup().await;
    let limits = StepLimits {
        memory_bytes: 32 * 1024 * 1024,
        timeout: Duration::from_secs(20),
        ..StepLimits::default()
    };
    let out = jq_limited(
        &sandbox,
        &plugin,
        json!({"filter": "[range(1e9)] | length"}),
        limits,
    )
    .await;
    assert_eq!(reason(&out), "memory_limit", "{:?}", out.result);
    assert_eq!(failure(&out).kind, ErrorKind::LimitExceeded);
    assert!(
        out.usage.peak_memory_bytes <= 32 * 1024 * 1024,
        "peak {} bytes",
        out.usage.peak_memory_bytes
    );

    assert_healthy(&sandbox).await;
    let out = jq(&sandbox, &plugin, json!({"filter": "[range(3)]"})).await;
    assert_eq!(
        output(&out)["result"],
        json!([0, 1, 2]),
        "the connector still works after a memory blow-up"
    );
}

#[tokio::test]
async fn unbounded_recursion_is_contained_and_named() {
    let (sandbox, plugin) = setup().await;
    // jaq recurses natively, so the guest's stack runs out; the sandbox stops it.
    let out = jq(&sandbox, &plugin, json!({"filter": "def f: 1 + f; f"})).await;
    let f = failure(&out);
    assert_eq!(reason(&out), "trap", "{f}");
    assert!(
        f.message.contains("out of bounds memory access"),
        "the message names the fault, not just a backtrace header: {}",
        f.message
    );
    assert!(!f.message.contains("backtrace"), "{}", f.message);

    assert_healthy(&sandbox).await;
    let out = jq(
        &sandbox,
        &plugin,
        json!({"filter": "def f: if . < 3 then . + 1 | f else . end; f", "data": 0}),
    )
    .await;
    assert_eq!(output(&out)["result"], 3, "bounded recursion still works");
}
