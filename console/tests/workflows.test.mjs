// The workflows list and a workflow's page: search, the graph with a branch,
// a loop and a sub-workflow, the webhook URL, activate/deactivate, the
// schedule in words, a diff between two versions, run now, delete, roles,
// and names that carry markup rendered as text.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

const XSS = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>";

let server, owner, viewer;
before(async () => {
  server = await startServer();
  owner = await makeUser(server, "wanda@acme.test", "owner");
  viewer = await makeUser(server, "vic@acme.test", "viewer");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

const child = { name: "notify-team", description: "Tells the team.", steps: [{ id: "pause", kind: "wait", duration_ms: 1 }] };
const router = (childId) => ({
  name: "order-router",
  description: "Routes each order: items one by one, or to the team.",
  triggers: {
    webhook: { mode: "async" },
    schedule: { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" },
  },
  steps: [
    { id: "check", kind: "condition", if: "trigger.body.items != null", then: ["each_item"], else: ["tell"] },
    {
      id: "each_item",
      kind: "loop",
      items: "trigger.body.items",
      body: [{ id: "shape", kind: "action", connector: "transform", action: "jq", input: { filter: ".", data: "{{ item }}" } }],
    },
    { id: "tell", kind: "subworkflow", workflow: childId, input: { order: "{{ trigger.body }}" } },
    { id: "join", kind: "merge", after: ["each_item", "tell"] },
    { id: "reply", kind: "respond", status: 200, body: { ok: true } },
  ],
});

let seeded;
/** The workflows every test after the first one uses (created once). */
function seed() {
  seeded ??= (async () => {
    const c = await server.call("POST", "/v1/workflows", child);
    const r = await server.call("POST", "/v1/workflows", router(c.id));
    const x = await server.call("POST", "/v1/workflows", { name: XSS, description: XSS, steps: [{ id: "a", kind: "wait", duration_ms: 1 }] });
    return { child: c, router: r, xss: x };
  })();
  return seeded;
}

test("with no workflow, the list says what to do first", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/workflows");
  await page.getByText("No workflows yet").waitFor();
  assert.equal(await page.getByRole("link", { name: "New workflow" }).first().getAttribute("href"), "/workflows/new");
  assert.equal(await page.getByRole("link", { name: "Browse templates" }).getAttribute("href"), "/marketplace?kind=template");
  await shot(page, "workflows-empty");
  await expectClean(page, assert);
  await page.context().close();
});

test("the list: status, version, webhook, search, and the phone width", async () => {
  const { router: r } = await seed();
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/workflows");
  const row = page.getByRole("row").filter({ hasText: "order-router" });
  await row.waitFor();
  assert.match(await row.innerText(), /inactive/);
  assert.match(await row.innerText(), /v1/);
  assert.ok((await row.innerText()).includes(r.webhook_url), "the webhook URL is in the row");
  assert.equal(await page.getByRole("row").count(), 4, "a header and three workflows");
  await shot(page, "workflows-list");
  await expectClean(page, assert);

  // The search asks the server (q=) and keeps the text in the address.
  await page.getByLabel("Search workflows by name").fill("ROUTER");
  await page.waitForURL(/\?q=ROUTER$/);
  await page.getByRole("status").filter({ hasText: "matching" }).waitFor();
  assert.equal(await page.getByRole("row").count(), 2, "a header and order-router");
  await page.getByRole("row").filter({ hasText: "order-router" }).waitFor();
  await page.getByLabel("Search workflows by name").fill("no such thing");
  await page.getByText("No workflow matches “no such thing”").waitFor();
  await page.getByRole("button", { name: "Clear the search" }).click();
  await page.getByRole("row").filter({ hasText: "notify-team" }).waitFor();
  // Opening a row.
  await page.getByRole("link", { name: "order-router" }).click();
  await page.waitForURL(`/workflows/${r.id}`);
  await page.getByRole("heading", { name: "order-router", level: 1 }).waitFor();
  await page.context().close();

  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, owner);
  await phone.goto("/workflows?q=notify");
  await phone.getByRole("row").filter({ hasText: "notify-team" }).waitFor();
  assert.equal(await phone.getByLabel("Search workflows by name").inputValue(), "notify");
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px (the table should scroll in its box)`);
  await shot(phone, "workflows-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});

test("more workflows than a page: the search narrows them on the server, and the next page loads", async () => {
  await seed();
  for (let i = 1; i <= 53; i++) {
    await server.call("POST", "/v1/workflows", { name: `bulk-${String(i).padStart(2, "0")}`, steps: [{ id: "a", kind: "wait", duration_ms: 1 }] });
  }
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/workflows?q=Bulk-");
  const rows = page.locator("tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.count(), 50, "one page of 50");
  await page.getByText("50+ workflows matching “Bulk-”").waitFor();
  await page.getByRole("button", { name: "Load more" }).click();
  await page.getByText("53 workflows matching “Bulk-”").waitFor();
  assert.equal(await rows.count(), 53);
  assert.equal(await page.getByRole("button", { name: "Load more" }).count(), 0, "no more pages");
  // Newest first, no workflow twice.
  const names = await page.locator("tbody tr td.name a").allInnerTexts();
  assert.equal(new Set(names).size, 53);
  assert.equal(names[0], "bulk-53");
  assert.equal(names[52], "bulk-01");
  await page.context().close();
  for (const w of (await server.call("GET", "/v1/workflows?q=bulk-&limit=100")).items) await server.call("DELETE", `/v1/workflows/${w.id}`);
});

test("a workflow's graph draws the branch, the loop around its body, and the sub-workflow, which links to its workflow", async () => {
  const { router: r, child: c } = await seed();
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/workflows/${r.id}`);
  await page.getByText("Routes each order: items one by one, or to the team.").waitFor();
  const graph = page.getByRole("group", { name: "Graph of the workflow's steps" });
  await graph.locator(".svelte-flow__node").first().waitFor();
  const ids = await graph.locator(".svelte-flow__node").evaluateAll((ns) => ns.map((n) => n.getAttribute("data-id")).sort());
  assert.deepEqual(ids, ["check", "each_item", "join", "reply", "shape", "tell"]);
  // The loop is a box (a loop node) and its body step sits inside it.
  assert.equal(await graph.locator('.svelte-flow__node-loop[data-id="each_item"]').count(), 1);
  const loopBox = await graph.locator('[data-id="each_item"]').boundingBox();
  const bodyBox = await graph.locator('[data-id="shape"]').boundingBox();
  assert.ok(bodyBox.x >= loopBox.x && bodyBox.y >= loopBox.y && bodyBox.x + bodyBox.width <= loopBox.x + loopBox.width + 1, "the body is inside the loop");
  // The branch edges carry their labels; the merge waits for both.
  const labels = await graph.locator(".svelte-flow__edge-label, .svelte-flow__edge-text").allInnerTexts();
  assert.ok(labels.includes("then") && labels.includes("else"), `branch labels: ${labels}`);
  assert.equal(await graph.locator(".svelte-flow__edge").count(), 5);
  await shot(page, "workflow-page");
  await expectClean(page, assert);

  // Picking a step (here from the list, as a keyboard user would) shows it.
  await page.getByLabel("Show a step").selectOption("join");
  const detail = page.getByRole("heading", { name: /join/, level: 3 });
  await detail.waitFor();
  assert.match(await page.locator(".step-detail").innerText(), /Waits for\s+each_item, tell/);
  // The sub-workflow links to the workflow it runs, by name.
  await page.getByRole("link", { name: "notify-team" }).first().click();
  await page.waitForURL(`/workflows/${c.id}`);
  await page.getByRole("heading", { name: "notify-team", level: 1 }).waitFor();
  await page.context().close();
});

test("the webhook URL is copied, with a curl example; the schedule is in words in its zone", async () => {
  const { router: r } = await seed();
  const page = await newPage(server);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.base });
  await login(page, owner);
  await page.goto(`/workflows/${r.id}`);
  await page.getByRole("button", { name: "Copy the webhook URL" }).click();
  await page.locator("#webhook-url + button").filter({ hasText: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), r.webhook_url);
  assert.match(r.webhook_url, /\/hooks\/[0-9a-f]+$/);
  const curl = await page.getByLabel("Try it:").innerText();
  assert.ok(curl.startsWith(`curl -X POST '${r.webhook_url}'`), curl);
  // The example works once the workflow is active.
  await server.call("POST", `/v1/workflows/${r.id}/activate`);
  const res = await fetch(r.webhook_url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"hello": "world"}' });
  assert.equal(res.status, 202, "an async webhook answers 202");
  await server.call("POST", `/v1/workflows/${r.id}/deactivate`);

  assert.equal(await page.locator("#schedule-words").innerText(), "Every weekday at 09:00");
  assert.match(await page.locator(".words").innerText(), /Europe\/Berlin time/);
  const rows = page.locator("table.next tbody tr");
  assert.equal(await rows.count(), 5);
  for (const cell of await page.locator("table.next tbody tr td:first-child").allInnerTexts()) {
    assert.match(cell, /09:00/, "each next time is 09:00 in Berlin");
    assert.doesNotMatch(cell, /Sat|Sun/, "and on a weekday");
  }
  // The viewer's own zone (the test browser's) is the second column.
  const mine = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  if (mine !== "Europe/Berlin") assert.match(await page.locator("table.next thead").innerText(), new RegExp(`Your time \\(${mine}\\)`));
  await page.context().close();
});

test("activate, then deactivate, through the page; the API agrees each time", async () => {
  const { router: r } = await seed();
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/workflows/${r.id}`);
  await page.getByText("Inactive: the webhook answers 404").waitFor();
  await page.getByRole("button", { name: "Activate", exact: true }).click();
  await page.getByRole("button", { name: "Deactivate", exact: true }).waitFor();
  assert.equal((await server.call("GET", `/v1/workflows/${r.id}`)).active, true);
  assert.equal(await page.getByText("Inactive: the webhook answers 404").count(), 0);
  await shot(page, "workflow-active");
  await page.getByRole("button", { name: "Deactivate", exact: true }).click();
  await page.getByRole("button", { name: "Activate", exact: true }).waitFor();
  assert.equal((await server.call("GET", `/v1/workflows/${r.id}`)).active, false);
  await expectClean(page, assert);
  await page.context().close();
});

test("versions: the diff between version 1 and version 2 after an update", async () => {
  const { router: r, child: c } = await seed();
  const v2 = router(c.id);
  v2.steps[4] = { id: "reply", kind: "respond", status: 201, body: { ok: true, routed: "{{ trigger.body.items != null }}" } };
  const updated = await server.call("PUT", `/v1/workflows/${r.id}`, v2);
  assert.equal(updated.version, 2);
  const page = await newPage(server, { colorScheme: "dark" });
  await login(page, owner);
  await page.goto(`/workflows/${r.id}`);
  const diff = page.getByRole("group", { name: "Changes from v1 to v2" });
  await diff.waitFor();
  assert.equal(await page.getByLabel("From", { exact: true }).inputValue(), "1");
  // Each changed line: its sign and its text (the YAML line, indentation trimmed).
  const changed = (op) => diff.locator(`.line.${op}`).evaluateAll((ls) => ls.map((l) => l.querySelector(".sign").textContent + " " + l.querySelector(".text").textContent.trim()));
  assert.deepEqual(await changed("del"), ["- status: 200"]);
  assert.deepEqual(await changed("add"), ['+ routed: "{{ trigger.body.items != null }}"', "+ status: 201"]);
  assert.match(await page.getByRole("status").filter({ hasText: "+2" }).innerText(), /\+2\s+−1/);
  // The versions table lists both, and the swap shows the reverse.
  assert.equal(await page.getByRole("row").filter({ hasText: "(current)" }).count(), 1);
  await page.getByRole("button", { name: "Swap" }).click();
  await page.getByRole("group", { name: "Changes from v2 to v1" }).locator(".line.add").filter({ hasText: "status: 200" }).waitFor();
  await page.getByRole("heading", { name: "Versions" }).scrollIntoViewIfNeeded();
  await shot(page, "workflow-versions-dark");
  await expectClean(page, assert);
  await page.context().close();
});

test("run now starts a run with the typed body and opens it", async () => {
  const { child: c } = await seed();
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/workflows/${c.id}`);
  await page.getByRole("button", { name: "Run now" }).click();
  const body = page.getByLabel(/Trigger body/);
  await body.fill("{not json");
  await page.getByText(/^Not JSON:/).waitFor();
  assert.equal(await page.getByRole("button", { name: "Start the run" }).isDisabled(), true);
  await body.fill('{"order": 42}');
  await shot(page, "workflow-run-now");
  await expectClean(page, assert);
  await page.getByRole("button", { name: "Start the run" }).click();
  await page.waitForURL(/\/runs\/run_/);
  const runId = new URL(page.url()).pathname.split("/").pop();
  const run = await server.call("GET", `/v1/runs/${runId}`);
  assert.equal(run.workflow_id, c.id);
  assert.deepEqual(run.input, { body: { order: 42 } });
  // Back on the workflow, it is among the recent runs.
  await page.goto(`/workflows/${c.id}`);
  await page.getByRole("link", { name: runId }).waitFor();
  // The list shows it as the workflow's last run, linking to it.
  await page.goto("/workflows?q=notify-team");
  const last = page.getByRole("row").filter({ hasText: "notify-team" }).getByRole("link", { name: /Last run of notify-team/ });
  assert.equal(await last.getAttribute("href"), `/runs/${runId}`);
  assert.match(await last.innerText(), /(pending|running|completed)\s+\d+ s ago/);
  await page.context().close();
});

test("run now: a workflow's input_schema is a form, the server's refusal is shown on the field, the JSON stays at hand", async () => {
  const wf = await server.call("POST", "/v1/workflows", {
    name: "refund-lookup",
    input_schema: {
      type: "object",
      required: ["order_id"],
      properties: {
        order_id: { type: "string", description: "The order's id, like `ord_123`." },
        amount: { type: "number", minimum: 0 },
        currency: { enum: ["EUR", "USD"] },
      },
    },
    steps: [{ id: "answer", kind: "respond", body: { order: "{{ trigger.body.order_id }}" } }],
  });
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/workflows/${wf.id}`);
  await page.getByRole("button", { name: "Run now" }).click();
  const dialog = page.getByRole("dialog");
  assert.equal(await dialog.getByRole("button", { name: "Form" }).getAttribute("aria-pressed"), "true");
  assert.equal(await dialog.getByLabel(/Trigger body/).count(), 0, "the form, not the JSON box");
  await dialog.getByLabel(/^order_id/).fill("ord_1");
  const amount = dialog.getByLabel(/^amount/);
  await amount.fill("-5");
  await dialog.getByLabel(/^currency/).selectOption("EUR");
  await dialog.getByRole("button", { name: "Start the run" }).click();
  // The server refuses it (422 invalid_input) and the problem is on its field.
  const fieldError = dialog.locator('[data-field="/amount"] .field-error');
  await fieldError.waitFor();
  assert.equal(await fieldError.innerText(), "must be at least 0, got -5");
  assert.equal(await amount.getAttribute("aria-invalid"), "true");
  await dialog.getByRole("alert").filter({ hasText: "input_schema: /amount must be at least 0" }).waitFor();
  assert.match(page.url(), /\/workflows\/wf_/, "no run was opened");
  await shot(page, "workflow-run-now-schema");
  await expectClean(page, assert);
  // The raw JSON holds what the form holds, and back.
  await dialog.getByRole("button", { name: "JSON" }).click();
  const body = dialog.getByLabel(/Trigger body/);
  assert.deepEqual(JSON.parse(await body.inputValue()), { order_id: "ord_1", amount: -5, currency: "EUR" });
  await body.fill('{"order_id": "ord_2", "amount": 12}');
  await dialog.getByRole("button", { name: "Form" }).click();
  assert.equal(await dialog.getByLabel(/^amount/).inputValue(), "12");
  await dialog.getByRole("button", { name: "Start the run" }).click();
  await page.waitForURL(/\/runs\/run_/);
  const run = await server.call("GET", `/v1/runs/${new URL(page.url()).pathname.split("/").pop()}`);
  assert.deepEqual(run.input, { body: { order_id: "ord_2", amount: 12 } });
  assert.equal((await server.call("GET", `/v1/runs?workflow_id=${wf.id}`)).items.length, 1, "the refused start left no run");
  await page.context().close();
});

test("names and descriptions carrying markup are shown as text, in the list and on the page", async () => {
  const { xss } = await seed();
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/workflows");
  await page.getByRole("link", { name: XSS }).waitFor();
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.getByRole("link", { name: XSS }).click();
  await page.waitForURL(`/workflows/${xss.id}`);
  await page.getByRole("heading", { name: XSS, level: 1 }).waitFor();
  assert.equal(await page.locator(".sub").innerText(), XSS, "the description, literally");
  assert.equal(await page.locator("main img, main script").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.title(), `${XSS} · Weft`);
  await shot(page, "workflow-xss");
  await expectClean(page, assert);
  await page.context().close();
});

test("a viewer sees the workflow but not the buttons that change it (on a phone)", async () => {
  const { router: r } = await seed();
  const page = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(page, viewer);
  await page.goto(`/workflows/${r.id}`);
  await page.getByRole("heading", { name: "order-router", level: 1 }).waitFor();
  for (const name of ["Run now", "Activate", "Deactivate", "Delete"]) assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, name);
  assert.equal(await page.getByRole("link", { name: "Edit" }).count(), 0);
  await page.locator("#schedule-words").waitFor();
  // The webhook URL is a credential: a viewer is not given it (nor the curl line).
  await page.getByText("The URL is shown to those who may start this workflow's runs").waitFor();
  assert.equal(await page.locator("#webhook-url").count(), 0);
  assert.ok(!(await page.content()).includes("/hooks/"), "no webhook URL in the viewer's page");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await shot(page, "workflow-phone-viewer");
  await expectClean(page, assert);
  await page.goto("/workflows");
  await page.getByRole("row").filter({ hasText: "order-router" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "New workflow" }).count(), 0);
  await page.context().close();
});

test("delete asks first, then the workflow is gone", async () => {
  const { xss } = await seed();
  const page = await newPage(server);
  await login(page, owner);
  await page.goto(`/workflows/${xss.id}`);
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText("This cannot be undone.").waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal((await server.send("GET", `/v1/workflows/${xss.id}`)).status, 200, "cancel deletes nothing");
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await shot(page, "workflow-delete");
  await expectClean(page, assert);
  await page.getByRole("button", { name: "Delete the workflow" }).click();
  await page.waitForURL(/\/workflows$/);
  await page.getByRole("row").filter({ hasText: "order-router" }).waitFor();
  assert.equal(await page.getByRole("link", { name: XSS }).count(), 0);
  assert.equal((await server.send("GET", `/v1/workflows/${xss.id}`)).status, 404);
  await page.context().close();
});
