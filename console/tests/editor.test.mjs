// The workflow editor in a real browser against a real server: the README's
// webhook workflow built by clicking and typing only, saved, activated,
// called and its run opened; the WORKFLOWS.md example; a validation problem
// shown on its field and node, then fixed; the text view and the graph in
// step both ways. (Runs from the editor, dark mode, a phone and roles:
// editor-run.test.mjs.)
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";
import { addStep, complete, settled, source } from "./editor-steps.mjs";

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
  // The connector's description is Markdown: `data` is code, never raw backticks (and never HTML).
  const about = page.locator(".step-form").getByText(/Run a jq filter over/);
  assert.equal(await about.locator("code").first().innerText(), "data");
  assert.ok(!(await about.innerText()).includes("`"), await about.innerText());
  // A note is about the moment: the next edit clears it.
  await page.getByText("Added jq.").waitFor();
  const id = page.getByLabel("Id", { exact: true });
  await id.fill("total");
  await id.press("Enter");
  await page.locator('.svelte-flow__node[data-id="total"]').waitFor();
  await page.getByText("Added jq.").waitFor({ state: "detached" });
  await page.getByLabel(/^filter/).fill(README_FILTER);
  const offered = await complete(page, page.getByLabel(/^data/), "{{", "trigger.body");
  assert.ok(!offered.some((l) => l.startsWith("steps.")), "the first step has no step upstream");
  assert.equal(await page.getByLabel(/^data/).inputValue(), "{{ trigger.body }}");

  // The palette from the keyboard: the arrows move through the matches, Enter in the search adds the first.
  await page.getByRole("button", { name: "+ Add step" }).click();
  const search = page.getByRole("searchbox", { name: "Search connectors and steps" });
  await search.fill("respond");
  await search.press("ArrowDown");
  assert.match(await page.evaluate(() => document.activeElement?.textContent ?? ""), /Respond/);
  await page.keyboard.press("ArrowUp");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("type")), "search");
  await search.press("Enter");
  await page.getByRole("dialog", { name: "Add a step" }).waitFor({ state: "detached" });
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
  // Left empty, the required filter is refused by the server's validation; on a step just added it is first
  // a gentle "to do" (listed and counted, described on the field, but not red), not a mistake.
  const filter = page.getByLabel(/^filter/);
  const node = page.locator('.svelte-flow__node[data-id="jq"]');
  await node.getByText("1 to fill in").waitFor();
  assert.doesNotMatch(await node.locator(".step").getAttribute("class"), /invalid/);
  assert.equal(await filter.getAttribute("aria-invalid"), null);
  const hinted = await Promise.all((await filter.getAttribute("aria-describedby")).split(" ").map((id) => page.locator(`#${id}`).innerText()));
  assert.ok(hinted.some((m) => /To do: missing required property `filter`/.test(m)), JSON.stringify(hinted));
  await page.getByRole("region", { name: "Validation" }).getByText("1 problem").waitFor();
  await shot(page, "editor-hint");
  await expectClean(page, assert);

  // Save is refused, and nothing is stored; the problem is now shown as one, on its field and its node.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Not saved: see the problems.").waitFor();
  assert.equal((await server.call("GET", "/v1/workflows?q=needs-a-filter")).items.length, 0);
  await page.waitForFunction(() => document.querySelector('[data-field="input/filter"] textarea')?.getAttribute("aria-invalid") === "true");
  const describedBy = (await filter.getAttribute("aria-describedby")).split(" ");
  const messages = await Promise.all(describedBy.map((id) => page.locator(`#${id}`).innerText()));
  assert.ok(messages.some((m) => /^missing required property `filter`/.test(m)), JSON.stringify(messages));
  await node.getByText("1 problem").waitFor();
  assert.match(await node.locator(".step").getAttribute("class"), /invalid/);
  await shot(page, "editor-error");
  await expectClean(page, assert);

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

  // A problem on a field under "Advanced" opens it when chosen in the list.
  await page.locator('.svelte-flow__node[data-id="jq"]').click();
  await page.getByRole("tab", { name: "YAML" }).click();
  await text.fill((await text.inputValue()).replace("kind: action", "kind: action\n    timeout_ms: 0"));
  const timeoutProblem = page.getByRole("region", { name: "Validation" }).getByRole("button", { name: /jq · timeout_ms/ });
  await timeoutProblem.click();
  await page.waitForFunction(() => document.activeElement?.closest('[data-field="timeout_ms"]') && document.activeElement.closest("details")?.open);
  assert.equal(await page.getByLabel(/^Timeout/).getAttribute("aria-invalid"), "true");
  await page.getByLabel(/^Timeout/).fill("");
  await page.getByText(/^✓ Valid, 1 warning$/).waitFor();
  await page.getByRole("tab", { name: "Workflow" }).click();

  // A schedule: an impossible cron is refused on its field; a good one is put in words.
  await page.getByRole("checkbox", { name: "Schedule" }).check();
  await page.getByLabel("Time zone").fill("Europe/Paris");
  await page.getByLabel("Time zone").press("Enter");
  await page.getByLabel(/^Cron/).fill("0 9 31 2 *");
  await page.waitForFunction(() => document.querySelector('[data-field="triggers/schedule/cron"] input')?.getAttribute("aria-invalid") === "true");
  await page.getByLabel(/^Cron/).fill("30 9 * * 1-5");
  await page.getByText("✓ Valid, 1 warning").waitFor();
  await page.getByRole("status").getByText(/Runs every .* at 09:30 \(Europe\/Paris\)/).waitFor();
  await page.getByLabel(/^Cron/).scrollIntoViewIfNeeded();
  await shot(page, "editor-schedule");
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
