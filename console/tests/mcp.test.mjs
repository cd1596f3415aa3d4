// The workflow as a tool for AI assistants (docs/MCP.md) on the workflow
// page: a member turns exposure on (a new version with only `mcp` changed,
// the tool listed by the real MCP endpoint once the workflow is active), a
// bad tool name shows the server's problem on its field, a viewer sees the
// tool and its input but no form; and the "Connect an assistant" snippets,
// on the workflow page and the admin API keys page, name this server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

let server, owner, member, viewer;
before(async () => {
  server = await startServer();
  owner = await makeUser(server, "olga@acme.test", "owner");
  member = await makeUser(server, "max@acme.test", "member");
  viewer = await makeUser(server, "vera@acme.test", "viewer");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

const refund = {
  name: "refund lookup",
  description: "Finds an order's refund.",
  triggers: { webhook: { mode: "sync", timeout_ms: 5000 } },
  input_schema: {
    type: "object",
    required: ["order_id"],
    properties: {
      order_id: { type: "string", description: "the order's id, like ord_123" },
      reason: { enum: ["damaged", "late", "other"] },
    },
  },
  steps: [
    { id: "shape", kind: "action", connector: "transform", action: "jq", input: { filter: ".", data: "{{ trigger.body }}" } },
    { id: "answer", kind: "respond", output_schema: { type: "object", properties: { status: { type: "string", description: "the refund's state" } } }, body: { status: "pending" } },
  ],
};

/** `tools/list` on the server's MCP endpoint with `key`, as a 2026-07-28 client sends it: the tools' names. */
async function toolNames(key) {
  const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
  const res = await fetch(server.base + "/mcp", {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/list",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: meta } }),
  });
  const answer = await res.json();
  assert.ok(answer.result, `tools/list answered ${JSON.stringify(answer)}`);
  return answer.result.tools.map((t) => t.name);
}

/** Creates a workflow as the user signed in on `page` (a member changes only the workflows they created). */
function createAs(page, def) {
  return page.evaluate(async (def) => {
    const session = await (await fetch("/v1/auth/session")).json();
    const res = await fetch("/v1/workflows", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
      body: JSON.stringify(def),
    });
    if (!res.ok) throw new Error(`POST /v1/workflows: ${res.status} ${await res.text()}`);
    return res.json();
  }, def);
}

const phoneOverflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

test("a member makes a workflow a tool: a new version with only mcp changed, listed once active", async () => {
  const page = await newPage(server);
  await login(page, member);
  const wf = await createAs(page, refund);
  await page.goto(`/workflows/${wf.id}`);
  const card = page.locator(".card.mcp");
  await card.getByText("Not offered to AI assistants.").waitFor();
  assert.equal(await card.getByTestId("mcp-tool").count(), 0);
  assert.equal(await page.getByRole("button", { name: /^Save as version/ }).count(), 0, "nothing to save before a change");

  await page.getByLabel("Callable by AI assistants (MCP)").check();
  // The defaults are shown where they apply.
  assert.equal(await page.getByLabel("Tool name").getAttribute("placeholder"), "refund_lookup");
  assert.equal(await page.getByLabel("Description for the assistant").getAttribute("placeholder"), "Finds an order's refund.");
  await page.getByLabel("Tool name").fill("lookup_refund");
  await page.getByLabel("Description for the assistant").fill("Looks up an order's refund status. Use it when a customer asks about a refund.");
  await page.getByText("Saving stores version 2 of the definition").waitFor();
  await shot(page, "mcp-form");
  await page.getByRole("button", { name: "Save as version 2" }).click();
  await page.getByRole("status").filter({ hasText: "Saved as version 2: offered to AI assistants as the tool lookup_refund." }).waitFor();

  // The page shows the new state: the tool, what it reads, its input and output, and the version.
  assert.equal(await card.getByTestId("mcp-tool").innerText(), "lookup_refund");
  assert.match(await card.innerText(), /Looks up an order's refund status/);
  assert.match(await card.innerText(), /Inactive: the tool is not listed/);
  const input = card.getByRole("list", { name: "Input of the tool" });
  assert.deepEqual(await input.getByRole("listitem").allInnerTexts(), [
    "order_id string required · the order's id, like ord_123",
    'reason one of "damaged", "late", "other"',
  ]);
  assert.deepEqual(await card.getByRole("list", { name: "Output of the tool" }).getByRole("listitem").allInnerTexts(), ["status string · the refund's state"]);
  await page.locator(".meta").getByText("version 2").waitFor();
  assert.match(await page.getByRole("note").first().innerText(), /AI assistants do not see its tool/);

  // The API: the tool is named, the definition is the old one with mcp added, nothing else touched.
  const after = await server.call("GET", `/v1/workflows/${wf.id}`);
  assert.equal(after.version, 2);
  assert.equal(after.mcp_tool, "lookup_refund");
  assert.deepEqual(after.definition, {
    ...wf.definition,
    mcp: { expose: true, name: "lookup_refund", description: "Looks up an order's refund status. Use it when a customer asks about a refund." },
  });
  // Like a trigger: not listed while inactive; listed once the page activates it.
  assert.ok(!(await toolNames(server.key)).includes("lookup_refund"), "an inactive workflow's tool is not listed");
  await page.getByRole("button", { name: "Activate", exact: true }).click();
  await page.getByRole("button", { name: "Deactivate", exact: true }).waitFor();
  await card.getByText("Callable now by assistants connected with a member key").waitFor();
  assert.ok((await toolNames(server.key)).includes("lookup_refund"), "the active workflow's tool is listed");
  // The keys the connect dialog recommends do what it says: a member key scoped to runs:start:<id> sees this
  // tool and run_workflow, nothing else; a viewer key sees no workflow tool.
  const scoped = await server.call("POST", "/v1/keys", { name: "one tool", role: "member", scopes: [`runs:start:${wf.id}`] });
  assert.deepEqual((await toolNames(scoped.secret)).sort(), ["lookup_refund", "run_workflow"]);
  const reader = await server.call("POST", "/v1/keys", { name: "reader", role: "viewer" });
  const readerTools = await toolNames(reader.secret);
  assert.ok(readerTools.includes("list_workflows") && !readerTools.includes("lookup_refund") && !readerTools.includes("run_workflow"), readerTools.join(", "));
  await shot(page, "mcp-exposed");
  await expectClean(page, assert);

  // Saved, the name and description fields fold away; they open with what was saved.
  assert.equal(await page.getByLabel("Tool name").count(), 0);
  await page.getByRole("button", { name: "Change the tool's name or description" }).click();
  assert.equal(await page.getByLabel("Tool name").inputValue(), "lookup_refund");
  assert.equal(await page.getByRole("button", { name: /^Save as version/ }).count(), 0, "opening them changes nothing");

  // Turning it off: a third version, the tool gone; the name and description are kept for next time.
  await page.getByLabel("Callable by AI assistants (MCP)").uncheck();
  await page.getByRole("button", { name: "Save as version 3" }).click();
  await page.getByRole("status").filter({ hasText: "Saved as version 3: no longer offered to AI assistants." }).waitFor();
  await card.getByText("Not offered to AI assistants.").waitFor();
  const off = await server.call("GET", `/v1/workflows/${wf.id}`);
  assert.equal(off.mcp_tool ?? null, null);
  assert.deepEqual(off.definition.mcp, { expose: false, name: "lookup_refund", description: "Looks up an order's refund status. Use it when a customer asks about a refund." });
  assert.ok(!(await toolNames(server.key)).includes("lookup_refund"), "no longer listed");
  await expectClean(page, assert);
  await page.context().close();
});

test("a bad tool name is refused by the server, its problem shown on the field; nothing is saved (dark)", async () => {
  const page = await newPage(server, { colorScheme: "dark" });
  await login(page, member);
  const wf = await createAs(page, { ...refund, name: "bad name case" });
  await page.goto(`/workflows/${wf.id}`);
  await page.getByLabel("Callable by AI assistants (MCP)").check();
  const name = page.getByLabel("Tool name");
  await name.fill("look up refund!");
  await page.getByRole("button", { name: "Save as version 2" }).click();
  const problem = page.locator("#mcp-name-error");
  await problem.waitFor();
  // The engine's own message (validate/contract.rs), not one made up here.
  assert.equal(await problem.innerText(), "`look up refund!` is not a tool name: 1 to 64 letters, digits, `_` or `-`");
  assert.equal(await name.getAttribute("aria-invalid"), "true");
  assert.match(await name.getAttribute("aria-describedby"), /mcp-name-error/);
  await page.waitForFunction(() => document.activeElement?.id === "mcp-name", null, { timeout: 5000 });
  assert.equal(await page.locator(".error").count(), 0, "the problem is on the field, not in a box of its own");
  const same = await server.call("GET", `/v1/workflows/${wf.id}`);
  assert.equal(same.version, 1, "nothing was saved");
  assert.equal(same.mcp_tool ?? null, null);
  await shot(page, "mcp-bad-name-dark");
  await expectClean(page, assert);

  // Fixing it saves.
  await name.fill("look-up_refund");
  await page.getByRole("button", { name: "Save as version 2" }).click();
  await page.getByRole("status").filter({ hasText: "Saved as version 2: offered to AI assistants as the tool look-up_refund." }).waitFor();
  assert.equal(await page.locator("#mcp-name-error").count(), 0);
  assert.equal((await server.call("GET", `/v1/workflows/${wf.id}`)).mcp_tool, "look-up_refund");
  await page.context().close();
});

test("the server's refusals are shown: a change made meanwhile is not overwritten, another's workflow is not the member's", async () => {
  const page = await newPage(server);
  await login(page, member);
  const wf = await createAs(page, { ...refund, name: "changed elsewhere" });
  await page.goto(`/workflows/${wf.id}`);
  await page.getByLabel("Callable by AI assistants (MCP)").check();
  await server.call("PUT", `/v1/workflows/${wf.id}`, { ...refund, name: "changed elsewhere", description: "edited in the editor" });
  await page.getByRole("button", { name: "Save as version 2" }).click();
  await page.getByRole("alert").filter({ hasText: "it is now version 2" }).waitFor();
  const now = await server.call("GET", `/v1/workflows/${wf.id}`);
  assert.equal(now.version, 2);
  assert.equal(now.definition.description, "edited in the editor", "the other change stays");
  assert.equal(now.mcp_tool ?? null, null);
  await expectClean(page, assert);

  // A member changes only the workflows they created: the server says so, and nothing changes.
  const theirs = await server.call("POST", "/v1/workflows", { ...refund, name: "the owner's" });
  await page.goto(`/workflows/${theirs.id}`);
  await page.getByLabel("Callable by AI assistants (MCP)").check();
  await page.getByRole("button", { name: "Save as version 2" }).click();
  const refusal = page.getByRole("alert").filter({ hasText: "Not allowed." });
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /a member changes only the workflows they created/);
  assert.equal((await server.call("GET", `/v1/workflows/${theirs.id}`)).version, 1);
  await expectClean(page, assert);
  await page.context().close();
});

test("a viewer sees the tool and its input, not the form (dark, and on a phone)", async () => {
  const wf = await server.call("POST", "/v1/workflows", {
    ...refund,
    name: "viewer's refund",
    mcp: { expose: true, description: "Looks up a refund <b>now</b>." },
  });
  await server.call("POST", `/v1/workflows/${wf.id}/activate`);
  const page = await newPage(server, { colorScheme: "dark" });
  await login(page, viewer);
  await page.goto(`/workflows/${wf.id}`);
  const card = page.locator(".card.mcp");
  assert.equal(await card.getByTestId("mcp-tool").innerText(), "viewer_s_refund");
  assert.match(await card.innerText(), /Looks up a refund <b>now<\/b>\./, "the description is text, markup included");
  assert.equal(await card.locator("b").count(), 0);
  assert.equal(await card.getByRole("list", { name: "Input of the tool" }).getByRole("listitem").count(), 2);
  assert.equal(await page.getByLabel("Callable by AI assistants (MCP)").count(), 0, "no form for a viewer");
  assert.equal(await page.getByLabel("Tool name").count(), 0);
  await shot(page, "mcp-viewer-dark");
  await expectClean(page, assert);
  await page.context().close();

  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, viewer);
  await phone.goto(`/workflows/${wf.id}`);
  await phone.getByTestId("mcp-tool").waitFor();
  assert.ok((await phoneOverflow(phone)) <= 0, "the page does not scroll sideways");
  await shot(phone, "mcp-viewer-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});

test("connect an assistant: the endpoint and snippets name this server, with a placeholder key", async () => {
  const wf = await server.call("POST", "/v1/workflows", { ...refund, name: "connect me", mcp: { expose: true } });
  const endpoint = `${server.base}/mcp`;
  const page = await newPage(server);
  await login(page, member);
  await page.goto(`/workflows/${wf.id}`);
  await page.getByRole("button", { name: "Connect an assistant…" }).click();
  const dialog = page.getByRole("dialog", { name: "Connect an AI assistant" });
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId("mcp-endpoint").innerText(), endpoint);
  assert.match(await dialog.innerText(), new RegExp(`runs:start:${wf.id}`), "the scoped key's example names this workflow");
  const snippets = {};
  for (const label of ["VS Code", "Claude Code", "Claude Desktop (stdio)", "Cursor and others"]) {
    await dialog.getByRole("button", { name: label, exact: true }).click();
    assert.equal(await dialog.getByRole("button", { name: label, exact: true }).getAttribute("aria-pressed"), "true");
    snippets[label] = await dialog.getByTestId("mcp-snippet").innerText();
    if (label === "VS Code") await shot(page, "mcp-connect-dialog");
  }
  assert.deepEqual(JSON.parse(snippets["VS Code"]).servers.weft, { type: "http", url: endpoint, headers: { Authorization: "Bearer ${input:weft-key}" } });
  assert.equal(snippets["Claude Code"], `claude mcp add --transport http weft ${endpoint} \\\n  --header "Authorization: Bearer $WEFT_API_KEY"`);
  assert.deepEqual(JSON.parse(snippets["Claude Desktop (stdio)"]).mcpServers.weft, { command: "weft", args: ["mcp", "--server", server.base], env: { WEFT_API_KEY: "weft_…" } });
  assert.deepEqual(JSON.parse(snippets["Cursor and others"]).mcpServers.weft, { url: endpoint, headers: { Authorization: "Bearer weft_…" } });
  // What is copied is what is shown.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await dialog.getByRole("button", { name: "Copy the MCP endpoint" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), endpoint);
  assert.ok(!(await page.content()).includes(server.key), "no real key in the page");
  await expectClean(page, assert);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await page.context().close();

  // The owner's API keys page has the same, under the keys.
  const keys = await newPage(server);
  await login(keys, owner);
  await keys.goto("/admin/keys");
  const section = keys.getByRole("region", { name: "Connect an AI assistant (MCP)" });
  await section.waitFor();
  assert.equal(await section.getByTestId("mcp-endpoint").innerText(), endpoint);
  assert.match(await section.innerText(), /runs:start:wf_…/);
  await section.getByRole("button", { name: "Claude Desktop (stdio)", exact: true }).click();
  assert.match(await section.getByTestId("mcp-snippet").innerText(), new RegExp(`"--server",\\s*"${server.base}"`));
  await shot(keys, "mcp-keys-page");
  await expectClean(keys, assert);
  await keys.context().close();

  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, owner);
  await phone.goto("/admin/keys");
  await phone.getByRole("region", { name: "Connect an AI assistant (MCP)" }).waitFor();
  assert.ok((await phoneOverflow(phone)) <= 0, "the keys page does not scroll sideways");
  await shot(phone, "mcp-keys-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});
