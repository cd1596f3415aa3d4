//! Sandbox benchmark: compiling, loading a precompiled component, and fresh-instance
//! invocation of the trivial fixture (`echo`), on one core and on all cores.
//!
//! Run it with `scripts/bench` (builds the fixtures first). Environment:
//! - `WEFT_BENCH_COMPONENT`: the component (default
//!   `$CARGO_TARGET_DIR/wasm32-wasip2/release/fixture_trivial.wasm`, with
//!   `CARGO_TARGET_DIR` defaulting to `$HOME/.cache/weft/target`);
//! - `WEFT_BENCH_INVOCATIONS`: invocations of the one-core run (default 20,000); the
//!   all-cores run does this many per core;
//! - `WEFT_BENCH_TRANSFORM`: the `transform` connector for its rows (default
//!   `weft_plugin_transform.wasm` beside the component), invoked a quarter as
//!   many times as the component, with the embedded benchmark's filter;
//! - the `greet` scaffolds of `weft plugin new --lang python|js` found as
//!   `$CARGO_TARGET_DIR/polyglot/*_greet.wasm` (`scripts/bench` builds them):
//!   size, cold load, fresh-instance invocation.
//!
//! It asserts nothing and prints a table; every invocation's result is checked and
//! failures are counted and shown, so a failing plugin cannot pass for a fast one.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};
use weft_sandbox::{CacheStats, Invocation, Options, Outcome, Plugin, Sandbox};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const COMPILE_SAMPLES: usize = 5;
const LOAD_SAMPLES: usize = 20;
const RELOAD_SAMPLES: usize = 1_000;
const WARM_UP: usize = 2_000;
const INPUT: &str = "{}";

fn main() -> Result<(), BoxError> {
    let path = component_path();
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "{}: {e} (build the fixtures first: scripts/bench does it)",
            path.display()
        )
    })?;
    let invocations = match std::env::var("WEFT_BENCH_INVOCATIONS") {
        Ok(v) => v
            .parse::<usize>()
            .map_err(|e| format!("WEFT_BENCH_INVOCATIONS={v}: {e}"))?
            .max(1),
        Err(_) => 20_000,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut report = Report::default();

    println!("weft-sandbox benchmark");
    println!("  component: {} ({} bytes)", path.display(), bytes.len());
    println!(
        "  cores: {cores}; invocations per invoke run: {invocations} (after {WARM_UP} warm-up)"
    );
    println!(
        "  page reset: {}",
        Sandbox::new(Options::default())?.page_reset()
    );
    println!();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    // 1. Compile: a fresh sandbox without a cache directory, so every load compiles.
    let mut compile = Vec::with_capacity(COMPILE_SAMPLES);
    for _ in 0..COMPILE_SAMPLES {
        let sandbox = Sandbox::new(Options::default())?;
        let started = Instant::now();
        rt.block_on(sandbox.load(&bytes))?;
        compile.push(started.elapsed());
        let stats = sandbox.cache_stats();
        if stats.compiled != 1 {
            report.note(format!(
                "compile sample did not compile exactly once: {stats:?}"
            ));
        }
    }
    report.row(
        Row::new("compile + load (cold, no cache dir)", compile).goal("once per digest", None),
    );

    // 2. Load precompiled: one sandbox fills the disk cache, then a new sandbox per
    //    sample loads from it (its in-memory map is empty, so the artifact is used).
    let dir = tempfile::tempdir()?;
    let cached = || Options {
        cache_dir: Some(dir.path().to_owned()),
        ..Options::default()
    };
    let artifact_bytes = {
        let sandbox = Sandbox::new(cached())?;
        let plugin = rt.block_on(sandbox.load(&bytes))?;
        let artifact = sandbox.artifact_path(&plugin.digest());
        artifact
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    };
    let mut load = Vec::with_capacity(LOAD_SAMPLES);
    let mut disk = CacheStats::default();
    for _ in 0..LOAD_SAMPLES {
        let sandbox = Sandbox::new(cached())?;
        let started = Instant::now();
        rt.block_on(sandbox.load(&bytes))?;
        load.push(started.elapsed());
        let stats = sandbox.cache_stats();
        disk.compiled += stats.compiled;
        disk.disk_hits += stats.disk_hits;
        disk.rejected += stats.rejected;
    }
    if disk.disk_hits != LOAD_SAMPLES as u64 || disk.compiled != 0 || disk.rejected != 0 {
        report.note(format!(
            "precompiled loads did not all come from disk: {} samples, {disk:?}",
            LOAD_SAMPLES
        ));
    }
    report.row(
        Row::new("load precompiled (disk cache, new sandbox)", load)
            .goal("<= 5 ms", Some((Pct::P99, Duration::from_millis(5))))
            .detail(format!(
                "disk_hits {}/{LOAD_SAMPLES}; artifact {artifact_bytes} bytes",
                disk.disk_hits
            )),
    );

    // 3. Load again in the same sandbox: the in-memory map (digest of the bytes).
    let sandbox = Sandbox::new(Options::default())?;
    let plugin = rt.block_on(sandbox.load(&bytes))?;
    let mut reload = Vec::with_capacity(RELOAD_SAMPLES);
    for _ in 0..RELOAD_SAMPLES {
        let started = Instant::now();
        rt.block_on(sandbox.load(&bytes))?;
        reload.push(started.elapsed());
    }
    report.row(Row::new("load again (in memory, same sandbox)", reload));

    // 4. Invoke on one core: a current-thread runtime, sequential invocations.
    let proto = Invocation::new("echo", INPUT);
    let expected: serde_json::Value = serde_json::from_str(INPUT)?;
    let compiled_before = sandbox.cache_stats().compiled;
    let mut tally = Tally::default();
    let one_core = rt.block_on(async {
        invoke_seq(
            &sandbox,
            &plugin,
            &proto,
            &expected,
            WARM_UP,
            &mut Tally::default(),
            false,
        )
        .await;
        let started = Instant::now();
        let lat = invoke_seq(
            &sandbox,
            &plugin,
            &proto,
            &expected,
            invocations,
            &mut tally,
            false,
        )
        .await;
        (lat, started.elapsed())
    });
    let (lat, wall) = one_core;
    report.row(
        Row::new("invoke, fresh instance, 1 core", lat)
            .goal("p50 <= 50 us, p99 <= 250 us", None)
            .check(Pct::P50, Duration::from_micros(50))
            .check(Pct::P99, Duration::from_micros(250))
            .detail(format!(
                "{} inv/s; {}",
                per_sec(invocations, wall),
                tally.summary()
            )),
    );
    report.failures("1 core", &tally);
    drop(rt);

    // 5. Invoke on all cores: a multi-thread runtime, 2 tasks per core, each core's
    //    share as large as the one-core run.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()?;
    let tasks = 2 * cores;
    let per_task = (invocations * cores).div_ceil(tasks);
    let (lat, wall, tally) = rt.block_on(async {
        let sandbox = &sandbox;
        let _ = run_tasks(
            sandbox,
            &plugin,
            &proto,
            &expected,
            tasks,
            WARM_UP.div_ceil(tasks),
        )
        .await;
        let started = Instant::now();
        let (lat, tally) = run_tasks(sandbox, &plugin, &proto, &expected, tasks, per_task).await;
        (lat, started.elapsed(), tally)
    });
    let total = lat.len();
    report.row(
        Row::new(
            &format!("invoke, fresh instance, {cores} cores ({tasks} tasks)"),
            lat,
        )
        .detail(format!(
            "{} inv/s; {}",
            per_sec(total, wall),
            tally.summary()
        )),
    );
    report.failures("all cores", &tally);
    drop(rt);

    // 6. The transform connector (jaq): its set-up is run once by `init` and
    //    snapshotted, so a step is its filter alone.
    transform(&mut report, (invocations / 4).max(1))?;

    // 6b. The code step's interpreter (Boa, `plugins/code`): a 20-line
    //     script on 100 items, the realm built once by `init`.
    code(&mut report, (invocations / 100).clamp(20, 400))?;

    // 7. Connectors built by componentize-py and componentize-js (a Python or
    //    JavaScript interpreter in each instance): a few hundred invocations.
    polyglot(&mut report, (invocations / 50).clamp(20, 500))?;

    let compiled_after = sandbox.cache_stats().compiled;
    if compiled_after != compiled_before {
        report.note(format!(
            "compilation happened on the invoke path: compiled {compiled_before} -> {compiled_after}"
        ));
    }
    report.detail_line(format!(
        "compilations during {} invocations: {} (goal: none on the step's path)",
        invocations + total + WARM_UP * 2,
        compiled_after - compiled_before
    ));

    if let Some(rss) = resident_set() {
        report.detail_line(format!("resident set after all runs: {rss}"));
    }
    report.print();
    Ok(())
}

/// The `jq` filter of the embedded benchmark's 3-step workflow, and its input.
const TRANSFORM_INPUT: &str = r#"{"filter":"[.people[] | select(.active) | .name]","data":{"people":[{"name":"ada","active":true},{"name":"bob","active":false},{"name":"cy","active":true}]}}"#;

/// One connector's rows: its cold load and `n` sequential fresh-instance
/// invocations on one core.
struct Rows<'a> {
    /// Row label prefix, e.g. `transform` or `python (componentize-py) greet`.
    label: &'a str,
    path: PathBuf,
    action: &'a str,
    input: &'a str,
    expected: serde_json::Value,
    goal: Option<(&'static str, Duration)>,
}

/// Rows for the transform connector: its cold load (with the pre-initialisation
/// when the build exports `init`) and `n` sequential `jq` invocations on one core.
fn transform(report: &mut Report, n: usize) -> Result<(), BoxError> {
    let result = serde_json::json!(["ada", "cy"]);
    connector_rows(
        report,
        n,
        &Rows {
            label: "transform",
            path: transform_path(),
            action: "jq",
            input: TRANSFORM_INPUT,
            expected: serde_json::json!({"result": result, "results": [result]}),
            goal: Some(("p50 <= 60 us", Duration::from_micros(60))),
        },
    )
}

/// The code step's benchmark script: 20 lines, on [`code_items`].
const CODE_SCRIPT: &str = r#"const out = [];
for (const [i, it] of items.entries()) {
  const name = String(it.name).trim();
  const words = name.split(' ');
  const initials = words.map(w => w[0].toUpperCase()).join('');
  const total = it.qty * it.price;
  const discount = total > 100 ? 0.1 : 0;
  const tags = (it.tags || []).filter(t => t !== 'skip');
  out.push({
    id: it.id,
    initials,
    total: Math.round(total * (1 - discount) * 100) / 100,
    tags: tags.length,
    big: total > 100,
    index: i,
  });
}
out.sort((a, b) => a.id - b.id);
console.log('done', out.length);
return out;"#;

/// 100 items for [`CODE_SCRIPT`].
fn code_items() -> serde_json::Value {
    (0..100)
        .map(|i| {
            serde_json::json!({
                "id": 100 - i, "name": " ada lovelace ", "qty": i % 7 + 1,
                "price": 20.5, "tags": ["a", "skip", "b"]
            })
        })
        .collect()
}

/// Rows for the `code` connector (`weft_plugin_code.wasm` beside the
/// component): cold load with its `init` snapshot, and the step's own call,
/// `run` with a 20-line script on 100 items (the issue's "code step p50").
fn code(report: &mut Report, n: usize) -> Result<(), BoxError> {
    let mut path = component_path();
    path.set_file_name("weft_plugin_code.wasm");
    let input = serde_json::json!({"code": CODE_SCRIPT, "items": code_items()});
    // The expected output, checked by hand here: 100 items, sorted by id.
    let expected: serde_json::Value = (1..=100)
        .map(|id: i64| {
            let i = 100 - id;
            let total = f64::from(u32::try_from(i % 7 + 1).unwrap_or(1)) * 20.5;
            let out = if total > 100.0 { total * 0.9 } else { total };
            serde_json::json!({
                "id": id, "initials": "AL", "total": (out * 100.0).round() / 100.0,
                "tags": 2, "big": total > 100.0, "index": i,
            })
        })
        .collect();
    connector_rows(
        report,
        n,
        &Rows {
            label: "code (Boa) 20-line script, 100 items",
            path,
            action: "run",
            input: &input.to_string(),
            expected: normalise(expected),
            goal: None,
        },
    )
}

/// Whole-valued floats as integers, as the interpreter's JSON gives them.
fn normalise(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}

/// Rows for the `greet` connectors of `weft plugin new --lang python|js`, as
/// `scripts/bench` builds them into `$CARGO_TARGET_DIR/polyglot/` (the
/// componentize-py and componentize-js builds of the scaffold): component size,
/// cold compile-and-load, fresh-instance invocation.
fn polyglot(report: &mut Report, n: usize) -> Result<(), BoxError> {
    let dir = target_dir().join("polyglot");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        report.note(format!(
            "Python and JavaScript rows skipped: {} not found (scripts/bench builds it)",
            dir.display()
        ));
        return Ok(());
    };
    let mut greeters: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.ends_with("_greet.wasm"))
        })
        .collect();
    greeters.sort();
    for path in greeters {
        let stem = path
            .file_stem()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .trim_end_matches("_greet")
            .to_owned();
        let label = format!("{stem} greet (scaffold)");
        connector_rows(
            report,
            n,
            &Rows {
                label: &label,
                path,
                action: "greet",
                input: r#"{"name":"Ada"}"#,
                expected: serde_json::json!({"message": "Hello, Ada!"}),
                goal: None,
            },
        )?;
    }
    Ok(())
}

fn connector_rows(report: &mut Report, n: usize, rows: &Rows<'_>) -> Result<(), BoxError> {
    let Ok(bytes) = std::fs::read(&rows.path) else {
        report.note(format!(
            "{} rows skipped: {} not found (scripts/bench builds it)",
            rows.label,
            rows.path.display()
        ));
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sandbox = Sandbox::new(Options::default())?;
    let started = Instant::now();
    let plugin = rt.block_on(sandbox.load(&bytes))?;
    let stats = sandbox.cache_stats();
    report.row(
        Row::new(
            &format!("{}: load (cold)", rows.label),
            vec![started.elapsed()],
        )
        .detail(format!(
            "{}; {} bytes; snapshots taken: {}",
            rows.path.display(),
            bytes.len(),
            stats.snapshots
        )),
    );
    let proto = Invocation::new(rows.action, rows.input);
    let mut tally = Tally::default();
    let (lat, wall) = rt.block_on(async {
        let warm_up = (n / 10).max(1);
        invoke_seq(
            &sandbox,
            &plugin,
            &proto,
            &rows.expected,
            warm_up,
            &mut Tally::default(),
            false,
        )
        .await;
        let started = Instant::now();
        let lat = invoke_seq(
            &sandbox,
            &plugin,
            &proto,
            &rows.expected,
            n,
            &mut tally,
            false,
        )
        .await;
        (lat, started.elapsed())
    });
    let mut row = Row::new(
        &format!(
            "{} `{}` invoke, fresh instance, 1 core",
            rows.label, rows.action
        ),
        lat,
    );
    if let Some((text, bound)) = rows.goal {
        row = row.goal(text, Some((Pct::P50, bound)));
    }
    report.row(row.detail(format!("{} inv/s; {}", per_sec(n, wall), tally.summary())));
    report.failures(rows.label, &tally);
    Ok(())
}

/// `WEFT_BENCH_TRANSFORM`, or the release build of `plugins/transform`.
fn transform_path() -> PathBuf {
    if let Some(p) = std::env::var_os("WEFT_BENCH_TRANSFORM") {
        return p.into();
    }
    let mut p = component_path();
    p.set_file_name("weft_plugin_transform.wasm");
    p
}

/// `VmRSS` of this process (Linux).
fn resident_set() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.trim_start_matches("VmRSS:").trim().to_owned())
}

fn component_path() -> PathBuf {
    if let Some(p) = std::env::var_os("WEFT_BENCH_COMPONENT") {
        return p.into();
    }
    target_dir().join("wasm32-wasip2/release/fixture_trivial.wasm")
}

/// `CARGO_TARGET_DIR`, defaulting to `$HOME/.cache/weft/target`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/weft/target")
        })
}

/// Sequential invocations; returns each one's latency.
///
/// `invoke` only returns to the scheduler when the guest is still running at an epoch
/// tick, so back-to-back invocations can hold a worker for many milliseconds. With
/// tasks sharing workers, `cooperative` yields between invocations (outside the timed
/// part), as a real caller awaiting anything else would; otherwise an invocation
/// interrupted by a tick would also be timed waiting for a whole run of another task.
async fn invoke_seq(
    sandbox: &Sandbox,
    plugin: &Plugin,
    proto: &Invocation,
    expected: &serde_json::Value,
    n: usize,
    tally: &mut Tally,
    cooperative: bool,
) -> Vec<Duration> {
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let inv = proto.clone();
        let started = Instant::now();
        let outcome = sandbox.invoke(plugin, inv).await;
        lat.push(started.elapsed());
        tally.record(&outcome, expected);
        if cooperative {
            tokio::task::yield_now().await;
        }
    }
    lat
}

/// `tasks` concurrent tasks, each doing `per_task` sequential invocations.
async fn run_tasks(
    sandbox: &Sandbox,
    plugin: &Arc<Plugin>,
    proto: &Invocation,
    expected: &serde_json::Value,
    tasks: usize,
    per_task: usize,
) -> (Vec<Duration>, Tally) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (sandbox, plugin, proto, expected) = (
                sandbox.clone(),
                plugin.clone(),
                proto.clone(),
                expected.clone(),
            );
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let lat = invoke_seq(
                    &sandbox, &plugin, &proto, &expected, per_task, &mut tally, true,
                )
                .await;
                (lat, tally)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(tasks * per_task);
    let mut tally = Tally::default();
    for h in handles {
        match h.await {
            Ok((lat, t)) => {
                all.extend(lat);
                tally.merge(t);
            }
            Err(e) => tally.fail(format!("benchmark task failed: {e}")),
        }
    }
    (all, tally)
}

fn per_sec(n: usize, wall: Duration) -> String {
    let rate = n as f64 / wall.as_secs_f64().max(1e-9);
    group_thousands(rate.round() as u64)
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Successes and failures of invocations, with each distinct failure message counted.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: u64,
    messages: BTreeMap<String, u64>,
}

impl Tally {
    fn record(&mut self, outcome: &Outcome, expected: &serde_json::Value) {
        match &outcome.result {
            Ok(v) if v == expected => self.ok += 1,
            Ok(v) => self.fail(format!("unexpected output: {v}")),
            Err(failure) => self.fail(failure.to_string()),
        }
    }

    fn fail(&mut self, message: String) {
        self.failed += 1;
        *self.messages.entry(message).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
        for (m, n) in other.messages {
            *self.messages.entry(m).or_default() += n;
        }
    }

    fn summary(&self) -> String {
        format!("{} ok, {} failed", self.ok, self.failed)
    }
}

#[derive(Clone, Copy)]
enum Pct {
    P50,
    P90,
    P99,
}

struct Row {
    name: String,
    samples: Vec<Duration>,
    goal: Option<String>,
    checks: Vec<(Pct, Duration)>,
    detail: Option<String>,
}

impl Row {
    fn new(name: &str, mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self {
            name: name.to_owned(),
            samples,
            goal: None,
            checks: Vec::new(),
            detail: None,
        }
    }

    fn goal(mut self, text: &str, check: Option<(Pct, Duration)>) -> Self {
        self.goal = Some(text.to_owned());
        self.checks.extend(check);
        self
    }

    fn check(mut self, pct: Pct, limit: Duration) -> Self {
        self.checks.push((pct, limit));
        self
    }

    fn detail(mut self, text: String) -> Self {
        self.detail = Some(text);
        self
    }

    /// Nearest-rank percentile of the sorted samples.
    fn pct(&self, pct: Pct) -> Duration {
        let p = match pct {
            Pct::P50 => 0.50,
            Pct::P90 => 0.90,
            Pct::P99 => 0.99,
        };
        let n = self.samples.len();
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
        self.samples.get(rank - 1).copied().unwrap_or_default()
    }

    fn status(&self) -> &'static str {
        if self.checks.is_empty() {
            ""
        } else if self.checks.iter().all(|(p, limit)| self.pct(*p) <= *limit) {
            "met"
        } else {
            "MISSED"
        }
    }
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
    lines: Vec<String>,
}

impl Report {
    fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    fn detail_line(&mut self, text: String) {
        self.lines.push(text);
    }

    fn failures(&mut self, what: &str, tally: &Tally) {
        for (message, n) in &tally.messages {
            self.notes
                .push(format!("{what}: {n} invocation(s) failed: {message}"));
        }
    }

    fn print(&self) {
        let name_w = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(10)
            .max(11);
        println!(
            "{:<name_w$}  {:>6}  {:>10}  {:>10}  {:>10}  {:>10}  {:<28}  status",
            "measurement", "n", "p50", "p90", "p99", "max", "goal"
        );
        println!("{}", "-".repeat(name_w + 2 + 6 + 4 * 12 + 2 + 28 + 2 + 6));
        for r in &self.rows {
            let max = r.samples.last().copied().unwrap_or_default();
            println!(
                "{:<name_w$}  {:>6}  {:>10}  {:>10}  {:>10}  {:>10}  {:<28}  {}",
                r.name,
                r.samples.len(),
                fmt(r.pct(Pct::P50)),
                fmt(r.pct(Pct::P90)),
                fmt(r.pct(Pct::P99)),
                fmt(max),
                r.goal.as_deref().unwrap_or(""),
                r.status(),
            );
            if let Some(d) = &r.detail {
                println!("{:<name_w$}    {d}", "");
            }
        }
        println!();
        for l in &self.lines {
            println!("{l}");
        }
        if self.notes.is_empty() {
            println!("no failures: every invocation returned the expected output");
        } else {
            println!("PROBLEMS ({}):", self.notes.len());
            for n in &self.notes {
                println!("  - {n}");
            }
        }
    }
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}
