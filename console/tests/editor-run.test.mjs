// The workflow editor, continued: run and test a step from the editor with a
// pinned sample input, a new workflow's "Save and run"; dark mode, a phone,
// unsaved text kept and leaving asked; a viewer's read-only editor.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";
import { source } from "./editor-steps.mjs";

let server, user;
before(async () => {
  server = await startServer();
  user = await makeUser(server, "ed@acme.test");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
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
  // It says what happens: the changes are not lost, this browser keeps them and offers them back.
  assert.match(asked, /without saving\?.*this browser keeps them and offers them back/);
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
