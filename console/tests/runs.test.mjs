// The runs list and a run's page: live updates, a step's output, a failure's
// kind and reason, approving and rejecting a waiting run, cancelling, retry
// and re-run from a step, filters kept in the address, inert payloads, and a
// run of 1,000 loop iterations.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer, wasmDir } from "./harness.mjs";

let server, owner, viewer;
const wf = {};
const runs = {};

const XSS_IMG = "<img src=x onerror=window.__xss=1>";
const XSS_SCRIPT = "<script>window.__xss=2</script>";

async function workflow(def) {
  return server.call("POST", "/v1/workflows", def);
}
/** Starts a run and waits for it to end (or, for one that waits, for it to be waiting). */
async function start(id, input = null, waits = false) {
  const run = await server.call("POST", `/v1/workflows/${id}/runs${waits ? "" : "?wait_ms=20000"}`, { input });
  return waits ? until(run.id, (r) => r.status === "waiting", "the run waits") : run;
}
async function runOf(id) {
  return server.call("GET", `/v1/runs/${id}`);
}
/** Polls the API until `pred(run)` holds (the engine works in the background). */
async function until(id, pred, what) {
  const deadline = Date.now() + 15_000;
  let run;
  while (Date.now() < deadline) {
    run = await runOf(id);
    if (pred(run)) return run;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`${what}: run ${id} is ${run?.status}`);
}
const step = (run, key) => run.steps.find((s) => s.key === key);

before(async () => {
  // The bundled connectors and the `hostile` test fixture (its `log-flood`
  // writes log records with a message of our choosing).
  const plugins = mkdtempSync(join(tmpdir(), "weft-runs-plugins-"));
  for (const c of ["weft_plugin_http", "weft_plugin_transform", "weft_plugin_llm", "weft_plugin_slack", "fixture_hostile"]) {
    cpSync(join(wasmDir, `${c}.wasm`), join(plugins, `${c}.wasm`));
  }
  server = await startServer({ env: { WEFT_PLUGINS: plugins } });
  owner = await makeUser(server, "uma@acme.test", "owner");
  viewer = await makeUser(server, "vic@acme.test", "viewer");

  wf.hook = await workflow({
    name: "order intake",
    triggers: { webhook: { mode: "async" } },
    steps: [
      { id: "total", kind: "action", connector: "transform", action: "jq", input: { filter: "{total: (.qty * .price), customer: .customer}", data: "{{ trigger.body }}" } },
    ],
  });
  await server.call("POST", `/v1/workflows/${wf.hook.id}/activate`);

  wf.fail = await workflow({
    name: "memory hog",
    steps: [{ id: "hog", kind: "action", connector: "transform", action: "jq", input: { filter: "[range(0;100000000)] | length", data: 1 } }],
  });
  runs.fail = await start(wf.fail.id);

  wf.approve = await workflow({
    name: "refund approval",
    steps: [
      { id: "approval", kind: "wait", until: "resume" },
      { id: "decide", kind: "condition", if: "steps.approval.output.payload.approved", then: ["refund"], else: ["notify_rejected"] },
      { id: "refund", kind: "action", connector: "transform", action: "jq", input: { filter: "{refunded: true}", data: 1 } },
      { id: "notify_rejected", kind: "action", connector: "transform", action: "jq", input: { filter: "{refunded: false, note: .}", data: "{{ steps.approval.output.payload.comment }}" } },
    ],
  });
  runs.approve = await start(wf.approve.id, { amount: 40 }, true);
  runs.reject = await start(wf.approve.id, { amount: 4000 }, true);

  wf.hold = await workflow({ name: "long hold", steps: [{ id: "hold", kind: "wait", duration_ms: 3_600_000 }] });
  runs.hold = await start(wf.hold.id, null, true);

  wf.two = await workflow({
    name: "two steps",
    steps: [
      { id: "first", kind: "action", connector: "transform", action: "jq", input: { filter: "{n: 1}", data: 1 } },
      { id: "second", kind: "action", connector: "transform", action: "jq", input: { filter: ".n + 1", data: "{{ steps.first.output.result }}" } },
    ],
  });
  runs.two = await start(wf.two.id);

  wf.xss = await workflow({
    name: `xss ${XSS_IMG}`,
    steps: [
      { id: "shape", kind: "action", connector: "transform", action: "jq", input: { filter: `{html: "${XSS_IMG}", script: "${XSS_SCRIPT}"}`, data: 1 } },
      { id: "noisy", kind: "action", connector: "hostile", action: "log-flood", input: { records: 2, size: 0, message: `${XSS_IMG} ${XSS_SCRIPT}` } },
    ],
  });
  runs.xss = await start(wf.xss.id);

  wf.big = await workflow({
    name: "a thousand items",
    steps: [
      {
        id: "each", kind: "loop", items: "{{ trigger.body.items }}", parallelism: 64,
        body: [
          { id: "sample", kind: "condition", if: "index < 20", then: ["double"] },
          { id: "double", kind: "action", connector: "transform", action: "jq", input: { filter: ". * 2", data: "{{ item }}" } },
        ],
      },
    ],
  });
  runs.big = await start(wf.big.id, { items: Array.from({ length: 1000 }, (_, i) => i) });
});

after(async () => {
  await closeBrowser();
  await server?.stop();
});

test("a webhook run appears in the list live, and its step output opens", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/runs");
  await page.getByRole("table").waitFor();
  const before = await page.locator("tbody tr").count();
  const hook = await fetch(wf.hook.webhook_url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ qty: 3, price: 7, customer: "Ada" }),
  });
  assert.equal(hook.status, 202);
  const { run_id } = await hook.json();
  // No reload: the list picks the run up by itself.
  const link = page.getByRole("link", { name: run_id });
  await link.waitFor({ timeout: 12_000 });
  assert.equal(await page.locator("tbody tr").count(), before + 1, "one new row, no duplicate");
  const row = page.locator("tbody tr", { has: link });
  await row.getByText("completed").waitFor({ timeout: 12_000 });
  assert.match(await row.innerText(), /order intake/);
  assert.match(await row.innerText(), /webhook/);
  await shot(page, "runs-list");
  await expectClean(page, assert);

  // With nothing in progress in the list the page only checks for a new run
  // (every 5 s): a second delivery appears too.
  await page.goto(`/runs?workflow=${wf.hook.id}`);
  await link.waitFor();
  assert.equal(await page.locator("tbody tr").count(), 1);
  const second = await (await fetch(wf.hook.webhook_url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ qty: 1, price: 1, customer: "Bo" }) })).json();
  await page.getByRole("link", { name: second.run_id }).waitFor({ timeout: 12_000 });
  assert.equal(await page.locator("tbody tr").count(), 2);
  await page.goto("/runs");

  await link.click();
  await page.waitForURL(new RegExp(`/runs/${run_id}`));
  await page.getByRole("button", { name: /^total\W+completed/ }).click();
  const output = page.getByLabel("Output of total");
  await output.waitFor();
  const shown = JSON.parse(await output.innerText());
  assert.deepEqual(shown.result, { total: 21, customer: "Ada" });
  await page.getByRole("tab", { name: "Input" }).click();
  assert.match(await page.getByLabel("Input of total").innerText(), /"customer": "Ada"/);
  await page.getByRole("tab", { name: /Attempts/ }).click();
  const attempts = await page.getByRole("list", { name: "Attempts" }).innerText();
  assert.match(attempts, /\d+(\.\d+)? (KiB|MiB)/, "peak memory shown");
  assert.match(await page.locator(".digest").first().innerText(), /^sha256:[0-9a-f]{64}$/);
  await shot(page, "run-webhook");
  await expectClean(page, assert);
  await page.context().close();
});

test("a failed run shows its error with kind and reason, and retries as a new run", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/runs/${runs.fail.id}`);
  const why = page.getByRole("region", { name: "Why the run failed" });
  await why.waitFor();
  const text = await why.innerText();
  assert.match(text, /Failed at step hog/);
  assert.match(text, /kind: limit_exceeded/);
  assert.match(text, /reason: memory_limit/);
  assert.match(text, /linear memory would grow/);
  // The failed step is the one selected, with the same error.
  assert.match(await page.locator("section.detail").innerText(), /reason: memory_limit/);
  await shot(page, "run-failed");
  await expectClean(page, assert);

  await page.getByRole("button", { name: "Retry" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Retry" }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/runs/") && !u.pathname.endsWith(runs.fail.id));
  const retried = page.url().split("/runs/")[1].split("?")[0];
  const again = await until(retried, (r) => r.status === "failed", "the retry fails the same way");
  assert.equal(again.workflow_id, wf.fail.id);
  await page.getByRole("region", { name: "Why the run failed" }).waitFor();
  await page.context().close();
});

test("approving a waiting run completes it; rejecting another takes the other branch", async () => {
  const page = await newPage(server);
  await login(page, owner);
  assert.equal(runs.approve.status, "waiting");
  await page.goto(`/runs/${runs.approve.id}`);
  const card = page.getByRole("region", { name: "Approval approval" });
  await card.waitFor();
  await shot(page, "run-waiting-approval");
  await expectClean(page, assert);
  await card.getByRole("button", { name: "Approve" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(/Comment/).fill("ok, under the limit");
  await dialog.getByRole("button", { name: "Approve" }).click();
  // The page follows the run to its end without a reload.
  await page.locator(".summary").getByText("completed", { exact: true }).waitFor({ timeout: 12_000 });
  assert.equal(await card.count(), 0, "no approval left");
  const approved = await until(runs.approve.id, (r) => r.status === "completed", "approved run completes");
  assert.deepEqual(step(approved, "approval").output.payload, { approved: true, comment: "ok, under the limit" });
  assert.equal(step(approved, "refund").status, "completed");
  assert.equal(step(approved, "notify_rejected").status, "skipped");

  await page.goto(`/runs/${runs.reject.id}`);
  await page.getByRole("region", { name: "Approval approval" }).getByRole("button", { name: "Reject" }).click();
  const rejectDialog = page.getByRole("dialog");
  // This workflow reads the step's output, so no warning that it would go on as approved.
  assert.equal(await rejectDialog.getByRole("note").count(), 0);
  await rejectDialog.getByLabel(/Comment/).fill("too large");
  await rejectDialog.getByRole("button", { name: "Reject" }).click();
  await page.locator(".summary").getByText("completed", { exact: true }).waitFor({ timeout: 12_000 });
  const rejected = await until(runs.reject.id, (r) => r.status === "completed", "rejected run completes");
  assert.deepEqual(step(rejected, "approval").output.payload, { approved: false, comment: "too large" });
  assert.equal(step(rejected, "refund").status, "skipped");
  assert.equal(step(rejected, "notify_rejected").output.result.note, "too large");
  await page.context().close();
});

test("a waiting run is cancelled after a confirmation", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/runs/${runs.hold.id}`);
  await page.getByRole("button", { name: "Cancel run" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Keep it running" }).click();
  assert.equal((await runOf(runs.hold.id)).status, "waiting", "backing out does nothing");
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel run" }).click();
  await page.locator(".summary").getByText("cancelled", { exact: true }).waitFor();
  assert.equal((await runOf(runs.hold.id)).status, "cancelled");
  await page.context().close();
});

test("re-running from a step reuses what is upstream", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/runs/${runs.two.id}?step=second`);
  await page.getByRole("button", { name: "Re-run from second" }).click();
  const dialog = page.getByRole("dialog");
  assert.equal(await dialog.getByLabel("Start again from").inputValue(), "second");
  await dialog.getByRole("button", { name: "Re-run from second" }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/runs/") && !u.pathname.endsWith(runs.two.id));
  const id = page.url().split("/runs/")[1].split("?")[0];
  const [old, fresh] = [await runOf(runs.two.id), await until(id, (r) => r.status === "completed", "the re-run completes")];
  assert.deepEqual(step(fresh, "first").output, step(old, "first").output);
  assert.equal(step(fresh, "first").attempts.length, 0, "first is reused, not run");
  assert.equal(step(fresh, "second").attempts.length, 1, "second runs again");
  await page.getByRole("button", { name: /^first\W+completed/ }).click();
  await page.getByText("reused from the earlier run").waitFor();
  await page.context().close();
});

test("filters narrow the list and survive a reload", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/runs");
  await page.getByRole("table").waitFor();
  await page.getByLabel("Status").selectOption("failed");
  await page.waitForURL(/status=failed/);
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("tbody tr")];
    return rows.length > 0 && rows.every((r) => r.innerText.includes("failed"));
  });
  const failed = await page.locator("tbody tr").count();
  assert.ok(failed >= 1);
  // Each failed run says why in its row: the reason (or kind), the step and the message.
  const [gone] = (await server.call("GET", "/v1/runs?status=failed&limit=1")).items;
  assert.ok(gone.error, "a failed run has an error");
  const goneRow = page.getByRole("row", { name: new RegExp(gone.id) });
  const why = (gone.error.reason ?? gone.error.kind).replaceAll("_", " ");
  assert.match(await goneRow.innerText(), new RegExp(`${why}${gone.error.step ? ` in ${gone.error.step}` : ""}: `));
  assert.ok((await goneRow.innerText()).includes(gone.error.message.slice(0, 20)));
  await shot(page, "runs-failed-reasons");
  await page.getByLabel("Workflow").selectOption({ label: "refund approval" });
  await page.waitForURL(/workflow=wf_/);
  await page.getByText("No runs match these filters").waitFor();
  await page.getByLabel("Status").selectOption("completed");
  await page.getByRole("table").waitFor();
  await page.reload();
  assert.equal(await page.getByLabel("Status").inputValue(), "completed");
  assert.equal(await page.getByLabel("Workflow").inputValue(), wf.approve.id);
  await page.getByRole("table").waitFor();
  const rows = await page.locator("tbody tr").allInnerTexts();
  assert.equal(rows.length, 2, "the approved and the rejected run");
  for (const r of rows) assert.match(r, /refund approval/);
  // The time window and the trigger are the server's filters too.
  await page.getByLabel("Started").selectOption("1h");
  await page.waitForURL(/window=1h/);
  await page.getByRole("table").waitFor();
  assert.equal(await page.locator("tbody tr").count(), 2);
  await page.getByLabel("Trigger").selectOption("webhook");
  await page.getByText("No runs match these filters").waitFor();
  await page.getByLabel("Workflow").selectOption({ label: "order intake" });
  await page.getByLabel("Status").selectOption("");
  await page.getByRole("table").waitFor();
  const hooks = await page.locator("tbody tr").allInnerTexts();
  assert.ok(hooks.length >= 1);
  for (const r of hooks) assert.match(r, /order intake\s+v1\s+webhook/);
  await page.getByRole("button", { name: "Clear filters" }).first().click();
  await page.waitForURL((u) => u.search === "");
  await expectClean(page, assert);
  await page.context().close();
});

test("payloads in names, outputs and logs render as text", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/runs?workflow=${wf.xss.id}`);
  await page.getByRole("table").waitFor();
  assert.match(await page.locator("tbody").innerText(), /xss <img src=x onerror=window.__xss=1>/);
  await page.goto(`/runs/${runs.xss.id}?step=shape`);
  const out = page.getByLabel("Output of shape");
  await out.waitFor();
  assert.match(await out.innerText(), /<img src=x onerror=window.__xss=1>/);
  assert.match(await out.innerText(), /<script>window.__xss=2<\/script>/);
  await page.getByRole("button", { name: /^noisy\W+completed/ }).click();
  await page.getByRole("tab", { name: /Logs \(2\)/ }).click();
  const logs = page.getByRole("list", { name: /Log records/ });
  assert.match(await logs.innerText(), /<img src=x onerror=window.__xss=1> <script>window.__xss=2<\/script>/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator("main img, main script").count(), 0, "no element made from the payloads");
  await expectClean(page, assert);
  await page.context().close();
});

test("a test run says which step it stopped after", async () => {
  const run = await server.call("POST", `/v1/workflows/${wf.two.id}/runs?wait_ms=20000`, { input: null, until: "first" });
  assert.equal(run.status, "completed");
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/runs?workflow=${wf.two.id}`);
  const row = page.locator("tbody tr", { has: page.getByRole("link", { name: run.id }) });
  assert.match(await row.innerText(), /manual · test up to first/);
  await page.goto(`/runs/${run.id}`);
  assert.match(await page.locator(".summary").innerText(), /test run up to first/);
  await page.getByRole("button", { name: /^second\W+skipped/ }).click();
  await page.getByText("No output: the step was skipped.").waitFor();
  await page.context().close();
});

test("a viewer sees runs but no actions", async () => {
  const page = await newPage(server);
  await login(page, viewer);
  await page.goto(`/runs/${runs.fail.id}`);
  await page.getByRole("region", { name: "Why the run failed" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Retry" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: /Re-run/ }).count(), 0);
  await page.context().close();
});

test("a run of 1,000 loop iterations stays responsive", async () => {
  const big = await until(runs.big.id, (r) => r.status === "completed", "the big run completes");
  assert.ok(big.steps.length > 2000, `${big.steps.length} steps`);
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/runs");
  await page.getByRole("table").waitFor();
  const t0 = Date.now();
  await page.evaluate((id) => {
    history.pushState(null, "", `/runs/${id}`);
    dispatchEvent(new PopStateEvent("popstate"));
  }, runs.big.id);
  const timeline = page.getByRole("region", { name: "Timeline" });
  await timeline.getByRole("button").first().waitFor();
  const ready = Date.now() - t0;
  // Only a page of the steps is in the DOM, and the graph has the definition's three nodes.
  const rows = await page.locator("section.timeline li").count();
  assert.ok(rows <= 100, `${rows} rows rendered`);
  await page.locator(".svelte-flow__node").first().waitFor();
  assert.equal(await page.locator(".svelte-flow__node").count(), 3);
  // Find one iteration's step, then time the click that opens it.
  await page.getByLabel("Find a step").fill("each[5].double");
  const target = page.getByRole("button", { name: /^each\[5\]\.double\W+completed/ });
  await target.waitFor();
  const t1 = Date.now();
  await target.click();
  await page.getByLabel("Output of each[5].double").waitFor();
  const click = Date.now() - t1;
  assert.match(await page.getByLabel("Output of each[5].double").innerText(), /"result": 10/);
  // Every step again, a page turn, then a status filter over all of them.
  await page.getByLabel("Find a step").fill("");
  await page.getByRole("button", { name: "Next →" }).click();
  await page.getByText(/Steps 101–200 of 2001/).waitFor();
  await page.getByLabel("Steps in status").selectOption("skipped");
  await page.getByText(/Steps 1–100 of 980/).waitFor();
  // And a full load of the page (a link opened in a new tab).
  const t2 = Date.now();
  await page.goto(`/runs/${runs.big.id}`);
  await timeline.getByRole("button").first().waitFor();
  const full = Date.now() - t2;
  console.log(`# 1,000-iteration run (${big.steps.length} steps): interactive ${ready} ms after an in-app navigation, ${full} ms after a full page load; a step's details ${click} ms after the click`);
  assert.ok(ready < 10_000 && full < 10_000 && click < 10_000, "no hang");
  // Iterations are listed by their index (each[2] before each[10]), not as text.
  const indices = (await timeline.getByRole("button").allInnerTexts())
    .map((s) => /each\[(\d+)\]/.exec(s)?.[1])
    .filter(Boolean)
    .map(Number);
  assert.ok(indices.length > 50, `${indices.length} iterations listed`);
  assert.deepEqual(indices, [...indices].sort((a, b) => a - b), "iterations in index order");
  await shot(page, "run-1000-steps");
  await expectClean(page, assert);
  await page.context().close();
});

test("the run page in dark mode and the runs list on a phone", async () => {
  const dark = await newPage(server, { colorScheme: "dark" });
  await login(dark, owner);
  await dark.goto(`/runs/${runs.xss.id}?step=shape`);
  await dark.getByLabel("Output of shape").waitFor();
  await shot(dark, "run-dark");
  await expectClean(dark, assert);
  await dark.context().close();

  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, owner);
  await phone.goto("/runs");
  await phone.getByRole("table").waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page does not scroll sideways (${overflow}px)`);
  await shot(phone, "runs-phone");
  await phone.goto(`/runs/${runs.fail.id}`);
  await phone.getByRole("region", { name: "Why the run failed" }).waitFor();
  await shot(phone, "run-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});
