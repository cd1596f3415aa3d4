// Import from n8n on the workflows page: a real n8n export (from
// tests/fixtures/n8n/exports/, made by a real n8n) picked as a file, turned
// into a definition by the server, shown with its notes node by node, then
// saved with "Create workflow"; input that is not an export is refused with
// a clear message.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer, wasmDir } from "./harness.mjs";

const exports = new URL("../../tests/fixtures/n8n/exports/", import.meta.url).pathname;

let server, owner, viewer, plugins;
before(async () => {
  // The code connector too: imported workflows are mostly code steps, whose
  // scripts are checked when they are saved.
  plugins = mkdtempSync(join(tmpdir(), "weft-console-import-"));
  mkdirSync(join(plugins, "connectors"));
  for (const c of ["http", "transform", "llm", "slack", "code"]) {
    cpSync(join(wasmDir, `weft_plugin_${c}.wasm`), join(plugins, "connectors", `weft_plugin_${c}.wasm`));
  }
  server = await startServer({ env: { WEFT_PLUGINS: join(plugins, "connectors") } });
  owner = await makeUser(server, "ines@acme.test", "owner");
  viewer = await makeUser(server, "vera@acme.test", "viewer");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
  if (plugins) rmSync(plugins, { recursive: true, force: true });
});

test("an n8n export picked as a file: its definition and notes node by node, then Create workflow", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/workflows");
  await page.getByRole("button", { name: "Import from n8n" }).click();
  const dialog = page.getByRole("dialog", { name: "Import from n8n" });
  await dialog.getByLabel(/^n8n export file/).setInputFiles(join(exports, "webhook-slack.json"));
  // The file's text is in the box, as if pasted.
  await dialog.getByText("Read webhook-slack.json.").waitFor();
  assert.equal(
    JSON.parse(await dialog.getByLabel("n8n export (JSON)").inputValue()).name,
    JSON.parse(readFileSync(join(exports, "webhook-slack.json"), "utf8")).name,
  );
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await dialog.getByRole("heading", { name: "The imported workflow: 3 steps" }).waitFor();

  // The notes, by node, as the server gave them.
  const answer = await server.call("POST", "/v1/workflows/import/n8n", {
    export: JSON.parse(readFileSync(join(exports, "webhook-slack.json"), "utf8")),
  });
  assert.ok(answer.notes.length >= 2, JSON.stringify(answer.notes));
  const notes = dialog.getByRole("table");
  for (const n of answer.notes) {
    const row = notes.getByRole("row").filter({ has: page.getByRole("rowheader", { name: n.node || "The workflow", exact: true }) });
    assert.ok((await row.innerText()).includes(n.message), `${n.node}: ${n.message}`);
  }
  assert.match(await notes.innerText(), /Webhook/);
  // The definition as YAML: its steps and the slack action.
  const def = dialog.getByLabel("Imported definition");
  assert.match(await def.innerText(), /connector: slack/);
  assert.match(await def.innerText(), /id: slack_call/);
  await shot(page, "workflows-import-n8n");
  await expectClean(page, assert);

  await dialog.getByLabel("Name of the new workflow").fill("signups-to-slack");
  await dialog.getByRole("button", { name: "Create workflow" }).click();
  await page.waitForURL(/\/workflows\/wf_/);
  const id = new URL(page.url()).pathname.split("/").pop();
  const wf = await server.call("GET", `/v1/workflows/${id}`);
  assert.equal(wf.name, "signups-to-slack");
  assert.deepEqual(
    wf.definition.steps.map((s) => s.id),
    answer.definition.steps.map((s) => s.id),
  );
  await page.getByRole("heading", { name: "signups-to-slack" }).waitFor();
  await page.context().close();
});

test("a pasted export with a Code node: created, and its run gives what n8n gave for the same input", async () => {
  const page = await newPage(server, { colorScheme: "dark" });
  await login(page, owner);
  await page.goto("/workflows");
  await page.getByRole("button", { name: "Import from n8n" }).click();
  const dialog = page.getByRole("dialog", { name: "Import from n8n" });
  await dialog.getByLabel("n8n export (JSON)").fill(readFileSync(join(exports, "webhook-code.json"), "utf8"));
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await dialog.getByRole("heading", { name: "The imported workflow: 2 steps" }).waitFor();
  assert.match(await dialog.getByRole("table").innerText(), /path `totals` is not kept/);
  await dialog.getByRole("button", { name: "Create workflow" }).click();
  await page.waitForURL(/\/workflows\/wf_/);
  const id = new URL(page.url()).pathname.split("/").pop();
  // It runs: the imported Code node's script on the webhook's body.
  const wf = await server.call("GET", `/v1/workflows/${id}`);
  assert.equal(wf.definition.steps[0].kind, "code");
  // What n8n itself answered for this input (recorded by tests/fixtures/n8n/record.mjs).
  const recorded = JSON.parse(readFileSync(join(exports, "../expected/webhook-code.json"), "utf8"));
  let run = await server.call("POST", `/v1/workflows/${id}/runs`, { input: recorded.input });
  for (let i = 0; i < 200 && !["completed", "failed", "cancelled"].includes(run.status); i++) {
    await new Promise((r) => setTimeout(r, 100));
    run = await server.call("GET", `/v1/runs/${run.id}`);
  }
  assert.equal(run.status, "completed", JSON.stringify(run));
  const code = run.steps.find((s) => s.key === "code");
  assert.deepEqual(code.output, [recorded.output]);
  await shot(page, "workflows-import-n8n-created-dark");
  await page.context().close();
});

test("what is not an n8n export is refused with a clear message, and the text stays", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/workflows");
  await page.getByRole("button", { name: "Import from n8n" }).click();
  const dialog = page.getByRole("dialog", { name: "Import from n8n" });
  const box = dialog.getByLabel("n8n export (JSON)");
  await box.fill("{ not json");
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  assert.match(await dialog.getByRole("alert").innerText(), /The export is not JSON/);
  // JSON, but not an export: the server's 400 names what is wrong.
  await box.fill(JSON.stringify({ hello: "world" }));
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await dialog.getByRole("alert").filter({ hasText: /Check the form|invalid/i }).waitFor();
  const text = await dialog.getByRole("alert").innerText();
  assert.match(text, /nodes|export/i, text);
  assert.equal(await box.inputValue(), JSON.stringify({ hello: "world" }));
  assert.equal(await dialog.getByRole("button", { name: "Create workflow" }).count(), 0);
  await shot(page, "workflows-import-n8n-refused");
  await expectClean(page, assert);
  await page.context().close();
});

test("a viewer is not offered the import", async () => {
  const page = await newPage(server);
  await login(page, viewer);
  await page.goto("/workflows");
  await page.getByRole("heading", { name: "Workflows" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Import from n8n" }).count(), 0);
  await page.context().close();
});
