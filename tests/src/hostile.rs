//! The sandbox attacks every hostile guest replays, whatever language it was
//! written in (TEST-PLAN S1, S3, S6): the Rust fixture (`sandbox_limits.rs`),
//! the Python one (`polyglot_python.rs`) and the JavaScript ones, built by two
//! engines (`polyglot_js.rs`). Each guest exports the same actions with the
//! same inputs:
//!
//! - `spin`: loops for ever, making no call;
//! - `alloc` `{"mib": N}`: allocates N MiB and answers `{"len": bytes}`;
//! - `big-output` `{"mib": N}`: answers about N MiB of JSON;
//! - `huge-hostcall` `{"mib": N}`: hands one N MiB value to a host import
//!   (a log record) and answers `{"bytes": bytes}`;
//! - `log-flood` `{"records": R, "size": S}`: writes R log records of S bytes
//!   and answers `{"records": R}`.
//!
//! The assertions are the same for every guest; what an interpreter needs
//! differently (a tighter host-call limit for SpiderMonkey, which needs several
//! times a value's size to hand it over) is the caller's `StepLimits`.

use crate::{Built, assert_healthy, failure, output, reason};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use weft_sandbox::{Invocation, Outcome, Plugin, StepLimits};

const MIB: u64 = 1024 * 1024;
/// What "promptly" means for a deadline of 300 ms (an upper bound, not a
/// measurement).
const PROMPTLY: Duration = Duration::from_secs(10);

/// A hostile guest loaded into a sandbox, and the name its failures carry.
pub struct Guest<'a> {
    /// The sandbox it runs in.
    pub sandbox: &'a Built,
    /// The loaded guest.
    pub plugin: &'a Plugin,
    /// How assertion messages name it (`rust`, `python`, `js_hostile_qjs`, ...).
    pub name: &'a str,
}

/// Invokes `action` of `plugin` with `input` under `limits`, in a fresh instance.
pub async fn run(
    sandbox: &Built,
    plugin: &Plugin,
    action: &str,
    input: Value,
    limits: StepLimits,
) -> Outcome {
    let inv = Invocation {
        limits,
        ..Invocation::new(action, input.to_string())
    };
    sandbox.invoke(plugin, inv).await
}

impl Guest<'_> {
    /// Runs `action` with `input` under `limits`.
    pub async fn run(&self, action: &str, input: Value, limits: StepLimits) -> Outcome {
        run(self.sandbox, self.plugin, action, input, limits).await
    }

    fn limit_named(&self, out: &Outcome, reason_: &str, limit: u64) {
        let name = self.name;
        assert_eq!(reason(out), reason_, "{name}: {:?}", out.result);
        let message = &failure(out).message;
        assert!(
            message.contains(&format!("the limit is {limit}")),
            "{name}: the limit is named: {message}"
        );
    }
}

/// S1: a loop with no calls fails `deadline_exceeded` after its 300 ms
/// deadline and promptly; the sandbox stays healthy.
pub async fn s1_spin_stops_at_its_deadline(g: &Guest<'_>) {
    let limits = StepLimits {
        timeout: Duration::from_millis(300),
        ..StepLimits::default()
    };
    let started = Instant::now();
    let out = g.run("spin", json!({}), limits).await;
    let took = started.elapsed();
    assert_eq!(
        reason(&out),
        "deadline_exceeded",
        "{}: {:?}",
        g.name,
        out.result
    );
    assert!(
        took >= Duration::from_millis(300),
        "{}: stopped early: {took:?}",
        g.name
    );
    assert!(
        took < PROMPTLY,
        "{}: a 300 ms deadline took {took:?}",
        g.name
    );
    assert_healthy(g.sandbox).await;
}

/// S3: allocating 100 MiB against the 64 MiB default fails `memory_limit`
/// naming the limit, with the peak at most the limit; 8 MiB still runs.
pub async fn s3_memory_growth_fails_memory_limit(g: &Guest<'_>) {
    let limit = StepLimits::default().memory_bytes;
    let out = g
        .run("alloc", json!({"mib": 100}), StepLimits::default())
        .await;
    g.limit_named(&out, "memory_limit", limit);
    assert!(
        out.usage.peak_memory_bytes <= limit,
        "{}: peak {} over the limit",
        g.name,
        out.usage.peak_memory_bytes
    );
    let out = g
        .run("alloc", json!({"mib": 8}), StepLimits::default())
        .await;
    assert_eq!(output(&out)["len"], 8 * MIB, "{}", g.name);
    assert_healthy(g.sandbox).await;
}

/// S6: 3 MiB of output against a 2 MiB limit fails `output_too_large`
/// naming the limit; 1 MiB is answered, and returned for the caller to check
/// its shape.
pub async fn s6_output_over_the_limit_fails_output_too_large(g: &Guest<'_>) -> Value {
    let limits = StepLimits {
        output_bytes: 2 * MIB as usize,
        ..StepLimits::default()
    };
    let out = g.run("big-output", json!({"mib": 3}), limits).await;
    g.limit_named(&out, "output_too_large", 2 * MIB);
    let out = g.run("big-output", json!({"mib": 1}), limits).await;
    let answered = output(&out).clone();
    assert_healthy(g.sandbox).await;
    answered
}

/// S6: a value of twice `limits.hostcall_bytes` handed to a host import fails
/// `hostcall_too_large` naming the limit; one of `within_mib` MiB passes.
pub async fn s6_oversized_hostcall_fails_hostcall_too_large(
    g: &Guest<'_>,
    limits: StepLimits,
    within_mib: u64,
) {
    let limit = limits.hostcall_bytes as u64;
    let over = (2 * limit).div_ceil(MIB);
    let out = g.run("huge-hostcall", json!({"mib": over}), limits).await;
    g.limit_named(&out, "hostcall_too_large", limit);
    let out = g
        .run("huge-hostcall", json!({"mib": within_mib}), limits)
        .await;
    assert_eq!(output(&out)["bytes"], within_mib * MIB, "{}", g.name);
    assert_healthy(g.sandbox).await;
}

/// S6: 1,000 records of 200 bytes against the 64 KiB log budget: the step
/// succeeds, what is kept fits the budget and ends with the truncation
/// marker, and usage counts everything written; 10 small records are all
/// kept, with no marker.
pub async fn s6_log_flood_is_truncated_with_a_marker(g: &Guest<'_>) {
    let name = g.name;
    let budget = StepLimits::default().log_bytes;
    let out = g
        .run(
            "log-flood",
            json!({"records": 1000, "size": 200}),
            StepLimits::default(),
        )
        .await;
    assert_eq!(output(&out)["records"], 1000, "{name}");
    let (marker, kept) = out.logs.split_last().expect("logs");
    assert!(
        marker.message.starts_with("[log truncated"),
        "{name}: last record: {marker:?}"
    );
    let kept_bytes: usize = kept
        .iter()
        .map(|r| {
            r.message.len()
                + r.fields
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>()
        })
        .sum();
    assert!(
        kept_bytes <= budget,
        "{name}: kept {kept_bytes} bytes over a {budget}-byte budget"
    );
    assert!(
        !kept.is_empty() && kept.len() < 1000,
        "{name}: kept {} records",
        kept.len()
    );
    assert!(
        out.usage.log_bytes >= 1000 * 200,
        "{name}: usage counts what was written: {}",
        out.usage.log_bytes
    );
    let out = g
        .run(
            "log-flood",
            json!({"records": 10, "size": 20}),
            StepLimits::default(),
        )
        .await;
    assert_eq!(out.logs.len(), 10, "{name}: {:?}", out.logs);
    assert!(
        out.logs
            .iter()
            .all(|r| !r.message.starts_with("[log truncated")),
        "{name}"
    );
}
