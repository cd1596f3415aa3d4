// The pure logic of the runs pages and the dashboard, without a browser:
// filters to and from the address, step keys to definition steps, the
// graph's status per node, spans, and the dashboard's aligned windows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "./ts.mjs";

const filters = await importTs("../src/pages/runs/filters.ts");
const steps = await importTs("../src/pages/run/steps.ts");
const stats = await importTs("../src/pages/dashboard/stats.ts");

test("filters come from the address, drop unknown values, and make the API query", () => {
  const f = filters.fromQuery(new URLSearchParams("workflow=wf_1&status=failed&trigger=bogus&window=24h&before=run_9"));
  assert.deepEqual(f, { workflow: "wf_1", status: "failed", trigger: "", window: "24h", from: "", to: "", before: "run_9" });
  assert.equal(filters.isFiltered(f), true);
  const now = 1_000_000_000_000;
  const q = filters.apiQuery(f, 50, now);
  assert.deepEqual(q, { workflow_id: "wf_1", status: "failed", trigger: undefined, from: now - 86_400_000, to: undefined, before: "run_9", limit: 50 });
  // A custom window's bounds are the browser's local times; from/to stay out of the address otherwise.
  const custom = { ...f, window: "custom", from: "2026-05-01T09:30", to: "2026-05-02T00:00" };
  assert.deepEqual(filters.bounds(custom), { from: new Date("2026-05-01T09:30").getTime(), to: new Date("2026-05-02T00:00").getTime() });
  assert.equal(filters.toQuery({ ...custom, window: "7d" }).from, "");
  assert.equal(filters.toQuery(custom).from, "2026-05-01T09:30");
});

test("step keys name their definition step; the graph shows a loop body's most pressing iteration", () => {
  assert.equal(steps.defId("each[3].fetch"), "fetch");
  assert.equal(steps.defId("outer[1].inner[2].leaf"), "leaf");
  assert.equal(steps.defId("outer[1].inner"), "inner");
  assert.equal(steps.defId("each"), "each");
  assert.equal(steps.isTopLevel("each"), true);
  assert.equal(steps.isTopLevel("each[0].x"), false);
  const s = (key, status) => ({ key, status, attempts: [], created_at: 0, updated_at: 0, attempt: 0 });
  assert.deepEqual(
    steps.nodeStatus([s("$trigger", "completed"), s("each", "running"), s("each[0].x", "completed"), s("each[1].x", "failed"), s("each[2].x", "running"), s("after", "pending")]),
    { each: "running", x: "failed", after: "pending" },
  );
  assert.deepEqual(steps.counts([s("a", "completed"), s("b", "completed"), s("c", "failed"), s("$trigger", "completed")]), [["failed", 1], ["completed", 2]]);
});

test("a step's span covers its attempts, and runs to now while it is live", () => {
  const step = { key: "a", status: "completed", created_at: 100, updated_at: 900, attempt: 2, attempts: [
    { attempt: 1, started_at: 110, finished_at: 200, status: "failed", logs: [] },
    { attempt: 2, started_at: 500, finished_at: 800, status: "completed", logs: [] },
  ] };
  // Queued: from its creation to its first attempt's start (what the timeline draws lighter).
  assert.deepEqual(steps.span(step, 5000), { start: 100, end: 800, queued: 10 });
  assert.deepEqual(steps.span({ ...step, status: "running" }, 5000), { start: 100, end: 5000, queued: 10 });
  assert.deepEqual(steps.span({ ...step, attempts: [] }, 5000), { start: 100, end: 900, queued: 0 });
});

test("the timeline's axis ticks are round steps with distinct labels", () => {
  const labels = (t) => steps.axisTicks(t).map((x) => x.label);
  // The review saw "0, 1 ms, 1 ms, 2 ms" for a 4 ms run (a quarter of 4.3 ms, rounded).
  assert.deepEqual(labels(4.3), ["0", "1 ms", "2 ms", "3 ms", "4 ms"]);
  assert.deepEqual(labels(2), ["0", "1 ms", "2 ms"]);
  assert.deepEqual(labels(999), ["0", "200 ms", "400 ms", "600 ms", "800 ms"]);
  assert.deepEqual(labels(1500), ["0", "500 ms", "1 s", "1.5 s"]);
  assert.deepEqual(labels(95_000), ["0", "30 s", "1 min", "1 min 30 s"]);
  assert.deepEqual(labels(5_400_000), ["0", "30 min", "1 h", "1 h 30 min"]);
  assert.deepEqual(labels(90_000_000), ["0", "6 h", "12 h", "18 h", "1 d"]);
  for (let t = 1; t < 200_000_000; t = Math.ceil(t * 1.37)) {
    const ticks = steps.axisTicks(t);
    const l = ticks.map((x) => x.label);
    assert.equal(new Set(l).size, l.length, `distinct labels for ${t} ms: ${l}`);
    assert.ok(ticks.length >= 2 && ticks.length <= 6, `2 to 6 ticks for ${t} ms: ${l}`);
    assert.ok(ticks.every((x, i) => x.f >= 0 && x.f <= 1 && (i === 0 || x.f > ticks[i - 1].f)), `ticks in order within the axis for ${t} ms`);
  }
});

test("the first step shown is the failure, else an approval, else what runs", () => {
  const s = (key, status, extra = {}) => ({ key, status, attempts: [], created_at: 0, updated_at: 0, attempt: 0, ...extra });
  const all = [s("a", "completed"), s("w", "waiting", { resume_url: "http://x/resume/t" }), s("b", "failed")];
  assert.equal(steps.firstPick({ error: { step: "b" } }, all), "b");
  assert.equal(steps.firstPick({}, all.slice(0, 2)), "w");
  assert.equal(steps.firstPick({}, [s("a", "completed"), s("r", "running")]), "r");
  assert.equal(steps.firstPick({}, []), null);
});

test("whether a definition reads a step's output (so a rejection can steer it)", () => {
  const def = { steps: [{ id: "ok", kind: "wait", until: "resume" }, { id: "c", kind: "condition", if: "steps.ok.output.payload.approved", then: [] }] };
  assert.equal(steps.readsOutput(def, "ok"), true);
  assert.equal(steps.readsOutput(def, "o"), false);
  assert.equal(steps.readsOutput({ steps: [{ id: "x", input: { a: "{{ steps['ok'].output }}" } }] }, "ok"), true);
  assert.equal(steps.readsOutput({ steps: [{ id: "x" }] }, "ok"), false);
});

test("resource use is read from an attempt's usage, numbers only", () => {
  assert.deepEqual(steps.usage({ usage: { wall_time_us: 1500, peak_memory_bytes: 2, note: "x" } }), { wall_time_us: 1500, peak_memory_bytes: 2 });
  assert.equal(steps.usage({}), null);
});

test("the dashboard's windows end on a whole local bucket and hold a whole number of them", () => {
  const now = new Date(2026, 4, 12, 14, 25).getTime();
  const day = stats.windowOf(stats.period("24h"), now);
  assert.equal(day.to, new Date(2026, 4, 12, 15, 0).getTime());
  assert.equal((day.to - day.from) / day.bucket_ms, 24);
  const month = stats.windowOf(stats.period("30d"), now);
  assert.equal(month.to, new Date(2026, 4, 13, 0, 0).getTime());
  assert.equal(stats.period("nonsense").value, "24h");
});
