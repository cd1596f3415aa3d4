// The workflow editor in a real browser against a real server: the README's
// webhook workflow built by clicking and typing only, saved, activated,
// called and its run opened; a validation problem shown on its field and
// node, then fixed; the text view and the graph in step both ways; a test
// step and a run from the editor; dark mode and a phone.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

let server, user;
before(async () => {
  server = await startServer();
  user = await makeUser(server, "ed@acme.test");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

const README_FILTER = "{items: (.items // [] | length), total: (.items // [] | map(.price * .qty) | add // 0)}";

/** The open editor's definition text, in the YAML/JSON tab. */
async function source(page) {
  await page.getByRole("tab", { name: /^(YAML|JSON)$/ }).click();
  return page.locator("#definition-text").inputValue();
}

/** Waits until the canvas stops moving (the view is fitted again, animated, after steps come or go). */
async function settled(page) {
  await page.waitForFunction(async () => {
    const t = () => document.querySelector(".svelte-flow__viewport")?.getAttribute("style") ?? "";
    const a = t();
    await new Promise((r) => setTimeout(r, 250));
    return a === t();
  });
}

async function addStep(page, search, name, screenshot) {
  await page.getByRole("button", { name: "+ Add step" }).click();
  if (screenshot) {
    await shot(page, screenshot);
    await expectClean(page, assert);
  }
  await page.getByRole("searchbox", { name: "Search connectors and steps" }).fill(search);
  await page.getByRole("dialog", { name: "Add a step" }).getByRole("button", { name }).click();
}

/** Types `text` into a template field and takes `option` from its completion list with the keyboard. */
async function complete(page, field, text, option) {
  await field.click();
  await field.pressSequentially(text);
  const listbox = page.getByRole("listbox", { name: "In scope here" });
  await listbox.waitFor();
  const options = listbox.getByRole("option");
  const labels = await options.allInnerTexts();
  const index = labels.findIndex((l) => l.split(/\s/)[0] === option);
  assert.ok(index >= 0, `${option} offered in ${JSON.stringify(labels)}`);
  for (let i = 0; i < index; i++) await field.press("ArrowDown");
  assert.equal(await field.getAttribute("aria-activedescendant"), await options.nth(index).getAttribute("id"));
  await field.press("Enter");
  await listbox.waitFor({ state: "hidden" });
  return labels;
}

test("the README's webhook workflow, built in the graph editor, saved, activated, called and its run opened", async () => {
  const page = await newPage(server);
  await login(page, user);
  await page.goto("/workflows/new");
  await page.getByText("No steps yet").waitFor();
  await shot(page, "editor-empty");
  await expectClean(page, assert);

  await page.getByLabel("Name").fill("webhook-transform-respond");
  await page.getByLabel("Description").fill("Totals the posted order items and answers the webhook with the sum.");
  await page.getByRole("checkbox", { name: "Webhook" }).check();

  await addStep(page, "jq", /transform · jq/, "editor-palette");
  await page.getByRole("tab", { name: "Step" }).waitFor();
  assert.equal(await page.getByRole("tab", { name: "Step" }).getAttribute("aria-selected"), "true");
  const id = page.getByLabel("Id", { exact: true });
  await id.fill("total");
  await id.press("Enter");
  await page.getByLabel(/^filter/).fill(README_FILTER);
  const offered = await complete(page, page.getByLabel(/^data/), "{{", "trigger.body");
  assert.ok(!offered.some((l) => l.startsWith("steps.")), "the first step has no step upstream");
  assert.equal(await page.getByLabel(/^data/).inputValue(), "{{ trigger.body }}");

  await addStep(page, "respond", /Respond/);
  const body = page.getByLabel(/^Body/);
  await body.waitFor();
  const upstream = await complete(page, body, "{{ steps.t", "steps.total.output.result");
  assert.ok(upstream.includes("steps.total.output.result   The first output, or null when there is none.") || upstream.some((l) => l.startsWith("steps.total.output")));
  assert.equal(await body.inputValue(), "{{ steps.total.output.result }}");
  await page.locator('.svelte-flow__node[data-id="respond"]').waitFor();
  await page.locator('.svelte-flow__edge[data-id="total->respond"]').waitFor({ state: "attached" });
  await shot(page, "editor-building");
  await expectClean(page, assert);

  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.waitForURL(/\/workflows\/wf_[0-9a-f]+\/edit$/);
  await page.getByText("Saved version 1.").waitFor();
  const wfId = /\/workflows\/(wf_[0-9a-f]+)\/edit/.exec(page.url())[1];
  const saved = await server.call("GET", `/v1/workflows/${wfId}`);
  assert.deepEqual(saved.definition, {
    name: "webhook-transform-respond",
    description: "Totals the posted order items and answers the webhook with the sum.",
    triggers: { webhook: { mode: "sync" } },
    steps: [
      { id: "total", kind: "action", connector: "transform", action: "jq", input: { filter: README_FILTER, data: "{{ trigger.body }}" } },
      { id: "respond", kind: "respond", status: 200, body: "{{ steps.total.output.result }}" },
    ],
  });

  await page.getByRole("button", { name: "Activate" }).click();
  await page.getByRole("button", { name: "Deactivate" }).waitFor();
  assert.equal((await server.call("GET", `/v1/workflows/${wfId}`)).active, true);
  const hook = await fetch(saved.webhook_url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items: [{ price: 3, qty: 2 }, { price: 5, qty: 1 }] }),
  });
  assert.equal(hook.status, 200);
  assert.deepEqual(await hook.json(), { items: 2, total: 11 });
  const runId = hook.headers.get("x-weft-run-id") ?? (await server.call("GET", `/v1/runs?workflow_id=${wfId}`)).items[0].id;

  // The run appears in the runs list; its page shows the step's output.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Runs" }).click();
  await page.waitForURL(/\/runs/);
  await page.locator(`a[href="/runs/${runId}"]`).first().click();
  await page.waitForURL(new RegExp(`/runs/${runId}$`));
  await page.locator(".timeline button", { hasText: "total" }).first().click();
  await page.getByRole("tab", { name: "Output" }).click();
  const output = page.getByLabel("Output of total");
  await output.waitFor();
  assert.deepEqual(JSON.parse(await output.innerText()), { result: { items: 2, total: 11 }, results: [{ items: 2, total: 11 }] });
  await shot(page, "editor-run-opened");
  await page.context().close();
});

test("the WORKFLOWS.md example (vars, a respond step with headers and a JSON body) built by typing and clicking", async () => {
  const page = await newPage(server);
  await login(page, user);
  await page.goto("/workflows/new");
  await page.getByLabel("Name").fill("greet");
  await page.getByLabel("Description").fill("Answers a webhook with the names in the posted list.");
  await page.getByLabel(/^Vars/).fill('{"greeting": "Hello"}');
  await addStep(page, "jq", /transform · jq/);
  const id = page.getByLabel("Id", { exact: true });
  await id.fill("names");
  await id.press("Enter");
  await page.getByLabel(/^filter/).fill("[.people[] | select(.active) | .name]");
  await page.getByLabel(/^data/).fill("{{ trigger.body }}");
  await addStep(page, "respond", /Respond/);
  await page.getByLabel(/^Headers/).fill('{"content-type": "application/json"}');
  const body = page.getByLabel(/^Body/);
  await complete(page, body, '{"message": "{{ vars.gr', "vars.greeting");
  await body.pressSequentially(', {{ length(steps.names.output.result) }} people", "names": "{{ steps.names.output.result }}"}');
  await page.getByText("✓ Valid").waitFor();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.waitForURL(/\/edit$/);
  await page.getByRole("button", { name: "Activate" }).click();
  await page.getByRole("button", { name: "Deactivate" }).waitFor();
  const wfId = /\/workflows\/(wf_[0-9a-f]+)\/edit/.exec(page.url())[1];
  const wf = await server.call("GET", `/v1/workflows/${wfId}`);
  assert.deepEqual(wf.definition.steps[1], {
    id: "respond", kind: "respond", status: 200, headers: { "content-type": "application/json" },
    body: { message: "{{ vars.greeting }}, {{ length(steps.names.output.result) }} people", names: "{{ steps.names.output.result }}" },
  });
  const res = await fetch(wf.webhook_url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ people: [{ name: "Ada", active: true }, { name: "Bo", active: false }] }) });
  assert.deepEqual(await res.json(), { message: "Hello, 1 people", names: ["Ada"] });
  await page.context().close();
});

test("a validation problem is shown on its field and its node, listed, and fixed before the save succeeds", async () => {
  const page = await newPage(server);
  await login(page, user);
  await page.goto("/workflows/new");
  await page.getByLabel("Name").fill("needs-a-filter");
  await addStep(page, "jq", /transform · jq/);
  // Left empty, the required filter is refused by the server's validation.
  const filter = page.getByLabel(/^filter/);
  await page.waitForFunction(() => document.querySelector('[data-field="input/filter"] textarea')?.getAttribute("aria-invalid") === "true");
  const describedBy = (await filter.getAttribute("aria-describedby")).split(" ");
  const messages = await Promise.all(describedBy.map((id) => page.locator(`#${id}`).innerText()));
  assert.ok(messages.some((m) => /missing required property `filter`/.test(m)), JSON.stringify(messages));
  const node = page.locator('.svelte-flow__node[data-id="jq"]');
  await node.getByText("1 problem").waitFor();
  assert.match(await node.locator(".step").getAttribute("class"), /invalid/);
  await shot(page, "editor-error");
  await expectClean(page, assert);

  // Save is refused, and nothing is stored.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Not saved: see the problems.").waitFor();
  assert.equal((await server.call("GET", "/v1/workflows?q=needs-a-filter")).items.length, 0);

  // The list of problems leads to the field.
  await page.getByRole("tab", { name: "Workflow" }).click();
  await page.getByRole("region", { name: "Validation" }).getByRole("button", { name: /jq · input\/filter/ }).click();
  await page.waitForFunction(() => document.activeElement?.closest('[data-field="input/filter"]'));
  await page.keyboard.type(".people | map(.name)");
  await page.waitForFunction(() => !document.querySelector('[data-field="input/filter"] textarea')?.getAttribute("aria-invalid"));
  await page.getByText("✓ Valid").waitFor();
  assert.equal(await node.getByText("1 problem").count(), 0);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.waitForURL(/\/edit$/);
  await page.getByText("Saved version 1.").waitFor();
  const [wf] = (await server.call("GET", "/v1/workflows?q=needs-a-filter")).items;
  assert.equal((await server.call("GET", `/v1/workflows/${wf.id}`)).definition.steps[0].input.filter, ".people | map(.name)");

  // A warning (allowed, worth changing) is shown as such, on the workflow's settings.
  await page.getByRole("tab", { name: "YAML" }).click();
  const text = page.locator("#definition-text");
  await text.fill((await text.inputValue()) + "grants:\n  credentials:\n    api-key: openai\n  hosts: [api.openai.com]\n");
  await page.getByText(/^✓ Valid, 1 warning$/).waitFor();
  const warning = page.getByRole("region", { name: "Validation" }).getByRole("button", { name: /Warning: workflow · grants\/credentials\/api-key/ });
  await warning.click();
  assert.equal(await page.getByRole("tab", { name: "Workflow" }).getAttribute("aria-selected"), "true");
  await page.getByLabel("Warnings").getByText(/credential slot `api-key`/).waitFor();
  assert.equal(await page.getByLabel("Allowed hosts").inputValue(), "api.openai.com");
  await page.context().close();
});

test("the text and the graph stay in step both ways; a parse error keeps the graph; steps connect by dragging", async () => {
  const page = await newPage(server);
  await login(page, user);
  await page.goto("/workflows/new");
  await page.getByRole("tab", { name: "YAML" }).click();
  const text = page.locator("#definition-text");
  await text.fill("name: synced\nsteps:\n  - id: first\n    kind: wait\n    duration_ms: 1000\n");
  await page.locator('.svelte-flow__node[data-id="first"]').waitFor();

  // A parse error names its line; the graph keeps the last good definition.
  await text.fill("name: synced\nsteps:\n  - id: first\n    kind: wait: x\n    duration_ms: 1000\n");
  const error = page.locator("#definition-text-error");
  await error.getByText(/^Line 4/).waitFor();
  assert.equal(await text.getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator('.svelte-flow__node[data-id="first"]').count(), 1);
  await text.fill("name: synced   # a comment stays\nsteps:\n  - id: first\n    kind: wait\n    duration_ms: 1000\n  - id: second\n    kind: wait\n    until: resume\n    after: []\n");
  await page.locator('.svelte-flow__node[data-id="second"]').waitFor();
  assert.equal(await error.count(), 0);
  assert.equal(await page.locator(".svelte-flow__edge").count(), 0, "second is a root");

  // A step added in the graph appears in the text, comment kept.
  await page.locator('.svelte-flow__node[data-id="second"]').click();
  await addStep(page, "approval", /Approval/);
  await page.locator('.svelte-flow__node[data-id="approval"]').waitFor();
  let yaml = await source(page);
  assert.match(yaml, /^name: synced +# a comment stays\n/);
  assert.match(yaml, /- id: approval\n\s+kind: wait\n\s+until: resume/);
  assert.ok(yaml.indexOf("id: approval") > yaml.indexOf("id: second"), "after the selected step");

  // Dragging from first's handle to approval's connects them: after is written explicitly.
  await settled(page);
  const from = page.locator('.svelte-flow__node[data-id="first"] .svelte-flow__handle.source');
  const to = page.locator('.svelte-flow__node[data-id="approval"] .svelte-flow__handle.target');
  await from.hover();
  await page.mouse.down();
  const box = await to.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.getByText("approval now runs after first.").waitFor();
  yaml = await source(page);
  assert.match(yaml, /- id: approval\n\s+kind: wait\n\s+until: resume\n\s+after:\n\s+- second\n\s+- first/);
  await page.locator('.svelte-flow__edge[data-id="first->approval"]').waitFor({ state: "attached" });

  // JSON view of the same definition.
  await page.getByRole("radio", { name: "JSON" }).check();
  const json = JSON.parse(await text.inputValue());
  assert.deepEqual(json.steps.map((s) => s.id), ["first", "second", "approval"]);
  assert.equal(await page.getByRole("tab", { name: "JSON" }).count(), 1);
  await shot(page, "editor-text");
  await expectClean(page, assert);

  // A refused connection (a cycle) draws nothing and says why.
  await settled(page);
  const back = page.locator('.svelte-flow__node[data-id="first"] .svelte-flow__handle.target');
  await page.locator('.svelte-flow__node[data-id="approval"] .svelte-flow__handle.source').hover();
  await page.mouse.down();
  const backBox = await back.boundingBox();
  await page.mouse.move(backBox.x + backBox.width / 2, backBox.y + backBox.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.getByText("`approval` already runs after `first`: that would be a cycle.").waitFor();
  await page.locator('.svelte-flow__edge[data-id="first->approval"]').waitFor({ state: "attached" });
  assert.equal(await page.locator(".svelte-flow__edge").count(), 2, "no edge was added for the refused connection");

  // Deleting a step (focused in the graph, Delete) removes it from the text, and its dependant keeps the rest.
  await page.locator('.svelte-flow__node[data-id="second"]').focus();
  await page.keyboard.press("Delete");
  await page.locator('.svelte-flow__node[data-id="second"]').waitFor({ state: "detached" });
  const after = JSON.parse(await source(page));
  assert.deepEqual(after.steps.map((s) => [s.id, s.after]), [["first", undefined], ["approval", ["first"]]]);
  await page.context().close();
});

test("run and test a step from the editor with a pinned sample input", async () => {
  const wf = await server.call("POST", "/v1/workflows", {
    name: "sum-items",
    steps: [
      { id: "total", kind: "action", connector: "transform", action: "jq", input: { filter: "[.items[] | .price] | add", data: "{{ trigger.body }}" } },
      { id: "reply", kind: "respond", body: { sum: "{{ steps.total.output.result }}" } },
    ],
  });
  const page = await newPage(server);
  await login(page, user);
  await page.goto(`/workflows/${wf.id}/edit`);
  await page.locator('.svelte-flow__node[data-id="total"]').waitFor();
  await page.getByRole("tab", { name: "Run" }).click();
  const sample = page.getByLabel(/^Sample input/);
  await sample.fill('{"items": [{"price": 4}, {"price": 6}]}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const result = page.getByRole("region", { name: "Last run" });
  await result.getByText("completed", { exact: true }).first().waitFor();
  assert.deepEqual(JSON.parse(await result.getByLabel("Response body").innerText()), { sum: 10 });
  const runLink = result.getByRole("link", { name: /^Open run run_/ });
  const runId = (await runLink.getAttribute("href")).split("/").pop();
  const run = await server.call("GET", `/v1/runs/${runId}`);
  assert.deepEqual(run.input, { body: { items: [{ price: 4 }, { price: 6 }] } });
  assert.equal(run.version, 1);

  // The sample stays pinned for this workflow across a reload.
  await page.reload();
  await page.getByRole("tab", { name: "Run" }).click();
  assert.equal(await page.getByLabel(/^Sample input/).inputValue(), '{"items": [{"price": 4}, {"price": 6}]}');

  // Test the selected step: only it (and what it depends on) runs; its input and output are shown.
  await page.locator('.svelte-flow__node[data-id="total"]').click();
  await page.getByRole("tab", { name: "Run" }).click();
  await page.getByRole("button", { name: "Test step total" }).click();
  await result.getByLabel("Output of total").first().waitFor();
  await result.getByText(/Test run up to total, with the sample input/).waitFor();
  const testId = (await result.getByRole("link", { name: /^Open run run_/ }).getAttribute("href")).split("/").pop();
  const testRun = await server.call("GET", `/v1/runs/${testId}`);
  assert.equal(testRun.until, "total");
  assert.deepEqual(testRun.steps.filter((s) => !s.key.startsWith("$")).map((s) => [s.key, s.status]), [["total", "completed"], ["reply", "skipped"]]);
  assert.equal(testRun.response ?? null, null, "the respond step did not run");
  await page.locator('.svelte-flow__node[data-id="reply"]').getByText("skipped").waitFor();
  assert.deepEqual(JSON.parse(await result.getByLabel("Output of total").first().innerText()), { result: 10, results: [10] });
  assert.deepEqual(JSON.parse(await result.getByLabel("Input of total").first().innerText()), {
    filter: "[.items[] | .price] | add",
    data: { items: [{ price: 4 }, { price: 6 }] },
  });
  await shot(page, "editor-test-step");
  await expectClean(page, assert);

  // An unsaved draft asks to be saved first; "Save and run" runs the new version.
  await page.locator('.svelte-flow__node[data-id="total"]').click();
  await page.getByLabel(/^filter/).fill("[.items[] | .price] | max");
  await page.getByRole("tab", { name: "Run" }).click();
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("The draft has unsaved changes; runs use the saved version.").waitFor();
  await page.getByRole("button", { name: "Save and run" }).click();
  await result.getByText("completed", { exact: true }).first().waitFor();
  assert.deepEqual(JSON.parse(await result.getByLabel("Response body").innerText()), { sum: 6 });
  assert.equal((await server.call("GET", `/v1/workflows/${wf.id}`)).version, 2);

  // A new workflow: Run asks to save first; "Save and run" saves it, moves to its edit URL and runs it there.
  await page.goto("/workflows/new");
  await page.getByRole("tab", { name: "YAML" }).click();
  await page.locator("#definition-text").fill('name: fresh\nsteps:\n  - id: echo\n    kind: action\n    connector: transform\n    action: jq\n    input:\n      filter: .n\n      data: "{{ trigger.body }}"\n');
  await page.locator('.svelte-flow__node[data-id="echo"]').waitFor();
  await page.getByRole("tab", { name: "Run" }).click();
  await page.getByLabel(/^Sample input/).fill('{"n": 42}');
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("Runs need a saved workflow.").waitFor();
  await page.getByRole("button", { name: "Save and run" }).click();
  await page.waitForURL(/\/workflows\/wf_[0-9a-f]+\/edit$/);
  await result.getByText("completed", { exact: true }).first().waitFor();
  assert.equal(await page.getByLabel(/^Sample input/).inputValue(), '{"n": 42}', "the sample moved to the saved workflow");
  const fresh = /\/workflows\/(wf_[0-9a-f]+)\/edit/.exec(page.url())[1];
  const [freshRun] = (await server.call("GET", `/v1/runs?workflow_id=${fresh}`)).items;
  assert.equal(freshRun.status, "completed");
  assert.deepEqual((await server.call("GET", `/v1/runs/${freshRun.id}`)).output, { result: 42, results: [42] });
  await page.context().close();
});

test("dark mode, a phone, and leaving with unsaved changes asks first", async () => {
  const wf = await server.call("POST", "/v1/workflows", {
    name: "branchy",
    vars: { limit: 10 },
    steps: [
      { id: "check", kind: "condition", if: "trigger.body.n > vars.limit", then: ["big"], else: ["small"] },
      { id: "big", kind: "respond", body: "big" },
      { id: "small", kind: "respond", body: "small" },
      { id: "each", kind: "loop", items: "trigger.body.items", after: [], body: [{ id: "echo", kind: "action", connector: "transform", action: "jq", input: { filter: ".", data: "{{ item }}" } }] },
    ],
  });
  const dark = await newPage(server, { colorScheme: "dark" });
  await login(dark, user);
  await dark.goto(`/workflows/${wf.id}/edit`);
  await dark.locator('.svelte-flow__node[data-id="echo"]').click();
  await dark.getByLabel(/^data/).waitFor();
  await shot(dark, "editor-dark");
  await expectClean(dark, assert);
  // Inside the loop body: item and index, and nothing downstream.
  await dark.getByLabel(/^filter/).fill("{{ ");
  const labels = await dark.getByRole("listbox", { name: "In scope here" }).getByRole("option").allInnerTexts();
  assert.ok(labels.some((l) => l.startsWith("item")) && labels.some((l) => l.startsWith("index")) && labels.some((l) => l.startsWith("vars.limit")), JSON.stringify(labels));
  assert.ok(!labels.some((l) => l.startsWith("steps.")), "the loop is a root: nothing upstream");
  await expectClean(dark, assert);
  await dark.keyboard.press("Escape");
  await dark.getByRole("listbox", { name: "In scope here" }).waitFor({ state: "hidden" });
  // A step added with the loop selected and "inside" ticked goes at the end of its body, and sees echo.
  await dark.locator('.svelte-flow__node[data-id="each"]').click({ position: { x: 30, y: 10 } });
  await dark.getByRole("button", { name: "+ Add step" }).click();
  await dark.getByRole("checkbox", { name: /inside the loop/ }).check();
  await dark.getByRole("dialog", { name: "Add a step" }).getByRole("button", { name: /transform · jq/ }).click();
  await dark.locator('.svelte-flow__node[data-id="jq"]').waitFor();
  assert.match(await source(dark), /body:\n\s+- id: echo[\s\S]*\n\s+- id: jq\n\s+kind: action/);
  await dark.locator('.svelte-flow__node[data-id="jq"]').click();
  await dark.getByLabel(/^data/).fill("{{ steps.");
  const inBody = await dark.getByRole("listbox", { name: "In scope here" }).getByRole("option").allInnerTexts();
  assert.ok(inBody.some((l) => l.startsWith("steps.echo.output")), JSON.stringify(inBody));
  await dark.keyboard.press("Escape");

  // Testing a step of a loop's body tests its loop: one result per item.
  await dark.locator('.svelte-flow__node[data-id="echo"]').click();
  await dark.getByRole("tab", { name: "Run" }).click();
  await dark.getByLabel(/^Sample input/).fill('{"n": 1, "items": ["a", "b"]}');
  await dark.getByRole("button", { name: "Test step echo" }).click();
  await dark.getByRole("button", { name: "Run version 1 as saved" }).click();
  const last = dark.getByRole("region", { name: "Last run" });
  await last.getByText(/is in the body of the loop each, tested as a whole/).waitFor();
  await last.getByLabel("Output of each[1].echo").first().waitFor();
  assert.deepEqual(JSON.parse(await last.getByLabel("Output of each[1].echo").first().innerText()), { result: "b", results: ["b"] });
  await shot(dark, "editor-dark-test-loop");
  await expectClean(dark, assert);
  await dark.context().close();

  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, user);
  await phone.goto(`/workflows/${wf.id}/edit`);
  // A step is selected from the keyboard too: focused, then Enter.
  await phone.locator('.svelte-flow__node[data-id="check"]').focus();
  await phone.keyboard.press("Enter");
  await phone.getByLabel(/^If/).waitFor();
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (${width}px)`);
  await shot(phone, "editor-phone");
  await expectClean(phone, assert);

  // Unsaved text is kept in the browser: coming back offers it.
  await phone.getByLabel(/^If/).fill("trigger.body.n > 99");
  await phone.getByText("Unsaved changes").waitFor();
  await phone.waitForFunction((id) => localStorage.getItem(`weft.draft.${id}`)?.includes("> 99"), wf.id);
  phone.once("dialog", (d) => void d.accept());
  await phone.goto(`/workflows/${wf.id}/edit`);
  await phone.getByRole("alert").getByText(/This browser kept unsaved changes/).waitFor();
  await shot(phone, "editor-phone-restore");
  await expectClean(phone, assert);
  await phone.getByRole("button", { name: "Restore them" }).click();
  assert.match(await phone.locator("#definition-text").inputValue(), /if: trigger\.body\.n > 99/);
  await phone.getByText("Unsaved changes").waitFor();

  // With unsaved changes, a link away: the browser asks; refusing stays.
  let asked = "";
  phone.once("dialog", (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await phone.getByRole("link", { name: "Workflow page" }).click();
  assert.match(asked, /unsaved changes/);
  assert.match(phone.url(), /\/edit$/);
  phone.once("dialog", (d) => void d.accept());
  await phone.getByRole("link", { name: "Workflow page" }).click();
  await phone.waitForURL(new RegExp(`/workflows/${wf.id}$`));
  await phone.context().close();
});

test("a viewer can look and validate but not change or save", async () => {
  const viewer = await makeUser(server, "viewer@acme.test", "viewer");
  const wf = await server.call("POST", "/v1/workflows", { name: "look-only", steps: [{ id: "a", kind: "wait", duration_ms: 10 }] });
  const page = await newPage(server);
  await login(page, viewer);
  await page.goto(`/workflows/${wf.id}/edit`);
  await page.getByText("your role cannot save workflows").waitFor();
  assert.equal(await page.getByRole("button", { name: "Save", exact: true }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "+ Add step" }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Activate" }).count(), 0);
  await page.getByRole("button", { name: "Validate" }).click();
  await page.getByText("✓ Valid").waitFor();
  await page.getByRole("tab", { name: "YAML" }).click();
  assert.equal(await page.locator("#definition-text").getAttribute("readonly"), "");
  await expectClean(page, assert);

  // A workflow that does not exist says so.
  await page.goto("/workflows/wf_0000000000000000000000000000/edit");
  await page.getByRole("alert").getByText(/not found/i).waitFor();
  await page.getByRole("link", { name: "Back to the workflows" }).waitFor();
  await page.context().close();
});
