// The official TypeScript MCP SDK (1.x: the 2025-11-25 `initialize`
// handshake, a session) against a real `weft serve` over Streamable HTTP:
// every case of the issue at least once in this client.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { refundLookup } from "../harness.mjs";
import { api, envelope, fix, overHttp, runUntil, runsOf, text } from "./clients.mjs";

const MANAGEMENT = [
  "list_workflows",
  "get_workflow",
  "validate_workflow",
  "create_workflow",
  "update_workflow",
  "set_workflow_active",
  "run_workflow",
  "get_run",
  "list_runs",
  "cancel_run",
  "list_connectors",
  "search_marketplace",
];
const WRITES = ["create_workflow", "update_workflow", "set_workflow_active", "run_workflow", "cancel_run"];

let owner;
before(async () => {
  owner = await overHttp();
});
after(async () => {
  await owner?.close();
});

/** The tools a client sees, by name. */
async function tools(c) {
  const all = [];
  let cursor;
  do {
    const page = await c.listTools(cursor ? { cursor } : {});
    all.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return new Map(all.map((t) => [t.name, t]));
}

/** Asserts that `promise` fails with a JSON-RPC error `code`; returns it. */
async function rpcError(promise, code) {
  const e = await promise.then(
    (r) => assert.fail(`expected JSON-RPC error ${code}, got a result: ${JSON.stringify(r)}`),
    (e) => e,
  );
  assert.ok(e instanceof McpError, `not a JSON-RPC error: ${e}`);
  assert.equal(e.code, code, e.message);
  return e;
}

test("the 2025-11-25 handshake: a session, the server's name, tools and resources offered", async () => {
  const transport = owner.transport;
  assert.equal(transport.protocolVersion, "2025-11-25");
  assert.ok(transport.sessionId, "a legacy client gets an Mcp-Session-Id");
  assert.match(owner.getServerVersion().name, /weft/i);
  const caps = owner.getServerCapabilities();
  assert.ok(caps.tools, "tools capability");
  assert.ok(caps.resources, "resources capability");
});

test("tools/list: the exposed workflows with their schemas, the management tools; not the unexposed one, not another tenant's", async () => {
  const listed = await tools(owner);
  for (const name of MANAGEMENT) assert.ok(listed.has(name), `management tool ${name} is listed`);

  const refund = listed.get("lookup_refund");
  assert.ok(refund, `lookup_refund is listed: ${[...listed.keys()]}`);
  assert.equal(refund.description, refundLookup.mcp.description);
  assert.equal(refund.inputSchema.type, "object");
  assert.deepEqual(refund.inputSchema.properties, refundLookup.input_schema.properties);
  assert.deepEqual(refund.inputSchema.required, ["order_id"]);
  assert.deepEqual(refund.outputSchema?.properties, refundLookup.steps[1].output_schema.properties);
  assert.ok(listed.has("slow_steps") && listed.has("long_wait"));

  const names = [...listed.keys()];
  assert.ok(!names.some((n) => /internal_cleanup/.test(n)), `the unexposed workflow is no tool: ${names}`);
  assert.ok(!names.some((n) => /other_tenant/.test(n)), `another tenant's tool is absent: ${names}`);
  for (const t of listed.values()) {
    assert.ok(!JSON.stringify(t).includes(fix.workflows.other.id), `nothing of the other tenant in ${t.name}`);
  }
});

test("a call of an exposed workflow runs it and answers its typed output", async () => {
  const result = await owner.callTool({ name: "lookup_refund", arguments: { order_id: "ord_123", amount: 500 } });
  assert.ok(!result.isError, text(result));
  // The SDK itself checks structuredContent against the tool's outputSchema.
  assert.deepEqual(result.structuredContent, { order: "ord_123", status: "refunded" });
  assert.deepEqual(JSON.parse(text(result)), result.structuredContent);

  const big = await owner.callTool({ name: "lookup_refund", arguments: { order_id: "ord_9", amount: 20_000 } });
  assert.equal(big.structuredContent.status, "review");

  // A run like any other, visible through the API, started by MCP.
  const [run] = await runsOf(fix.workflows.refund.id);
  assert.equal(run.trigger, "mcp");
  assert.equal(run.status, "completed");
});

test("arguments that break the input schema: a tool error naming the field, and no run", async () => {
  const before = (await runsOf(fix.workflows.refund.id)).length;
  const missing = await owner.callTool({ name: "lookup_refund", arguments: { amount: 5 } });
  assert.equal(missing.isError, true);
  const e1 = envelope(missing).error;
  assert.equal(e1.code, "invalid_input", JSON.stringify(e1));
  assert.match(JSON.stringify(e1), /order_id/);

  const wrongType = await owner.callTool({ name: "lookup_refund", arguments: { order_id: "ord_1", amount: "lots" } });
  assert.equal(wrongType.isError, true);
  assert.match(JSON.stringify(envelope(wrongType).error), /amount/);

  const extra = await owner.callTool({ name: "lookup_refund", arguments: { order_id: "ord_1", note: "hi" } });
  assert.equal(extra.isError, true, "additionalProperties: false refuses an unknown field");
  assert.match(JSON.stringify(envelope(extra).error), /note/);

  assert.equal((await runsOf(fix.workflows.refund.id)).length, before, "nothing started");
});

test("unknown tools, the unexposed workflow and another tenant's tool are JSON-RPC errors -32602", async () => {
  await rpcError(owner.callTool({ name: "no_such_tool", arguments: {} }), -32602);
  await rpcError(owner.callTool({ name: "internal_cleanup", arguments: {} }), -32602);
  await rpcError(owner.callTool({ name: "other_tenant_tool", arguments: {} }), -32602);
});

test("progress: notifications as steps finish, then the output", async () => {
  const seen = [];
  const result = await owner.callTool({ name: "slow_steps", arguments: { label: "p" } }, undefined, {
    onprogress: (p) => seen.push(p),
  });
  assert.ok(!result.isError, text(result));
  assert.deepEqual(result.structuredContent, { counted: 2 });
  // One notification per finished step, in the definition's order (the
  // respond step's may come with the answer instead of before it).
  const order = ["one", "pause_a", "two", "pause_b", "done"];
  assert.ok(seen.length >= 4, `a notification per step: ${JSON.stringify(seen)}`);
  seen.forEach((p, i) => {
    assert.equal(p.progress, i + 1, JSON.stringify(seen));
    assert.equal(p.total, 5, "total is the definition's 5 steps");
    assert.match(p.message ?? "", new RegExp(`\`${order[i]}\``), "the message names the finished step");
  });
});

test("cancellation: aborting the call (notifications/cancelled) cancels the run", async () => {
  const already = new Set((await runsOf(fix.workflows.long.id)).map((r) => r.id));
  const abort = new AbortController();
  let firstProgress;
  const progressed = new Promise((r) => (firstProgress = r));
  const call = owner.callTool({ name: "long_wait", arguments: {} }, undefined, {
    signal: abort.signal,
    onprogress: () => firstProgress(),
    timeout: 60_000,
  });
  const outcome = call.then(
    (r) => ({ result: r }),
    (e) => ({ error: e }),
  );
  await Promise.race([progressed, outcome]);
  abort.abort("the user changed their mind");
  const { result, error } = await outcome;
  assert.ok(error && !result, `the call was abandoned: ${JSON.stringify(result)}`);

  const runs = (await runsOf(fix.workflows.long.id)).filter((r) => !already.has(r.id));
  assert.equal(runs.length, 1, "the call started one run");
  const run = await runUntil(runs[0].id, (r) => r.status === "cancelled", "cancelled");
  assert.equal(run.trigger, "mcp");
});

test("a call that outlives the wait answers the run's id; get_run and cancel_run finish the job", async () => {
  const started = Date.now();
  const result = await owner.callTool({ name: "long_wait", arguments: {} }, undefined, { timeout: 30_000 });
  const waited = Date.now() - started;
  assert.ok(!result.isError, `no outputSchema: not an error: ${text(result)}`);
  assert.ok(waited >= fix.call_wait_ms - 100 && waited < fix.call_wait_ms + 5_000, `waited ${waited} ms`);
  const runId = result.structuredContent?.run_id;
  assert.match(runId ?? "", /^run_/, text(result));
  assert.match(text(result), new RegExp(runId), "the text names the run for the assistant");

  const got = await owner.callTool({ name: "get_run", arguments: { run_id: runId } });
  assert.ok(!got.isError, text(got));
  assert.equal(got.structuredContent.status, "waiting", text(got));
  const cancelled = await owner.callTool({ name: "cancel_run", arguments: { run_id: runId } });
  assert.ok(!cancelled.isError, text(cancelled));
  const run = await runUntil(runId, (r) => r.status === "cancelled", "cancelled");
  assert.equal(run.trigger, "mcp");
  const after = await owner.callTool({ name: "get_run", arguments: { run_id: runId, wait_ms: 5_000 } });
  assert.equal(after.structuredContent.status, "cancelled", text(after));
});

test("a viewer: no workflow-writing tool listed, and calling one is refused like an unknown tool", async () => {
  const viewer = await overHttp(fix.keys.viewer);
  try {
    const listed = await tools(viewer);
    for (const name of WRITES) assert.ok(!listed.has(name), `${name} is not offered to a viewer`);
    for (const name of ["list_workflows", "get_workflow", "validate_workflow", "get_run", "list_runs"]) {
      assert.ok(listed.has(name), `${name} is offered to a viewer`);
    }
    await rpcError(
      viewer.callTool({ name: "create_workflow", arguments: { definition: refundLookup } }),
      -32602,
    );
    const wfs = await api("GET", "/v1/workflows");
    assert.ok(!wfs.items.some((w) => w.name === refundLookup.name && w.id !== fix.workflows.refund.id), "nothing created");
  } finally {
    await viewer.close();
  }
});

test("validate_workflow: every problem of a broken draft, by path", async () => {
  const broken = {
    name: "broken draft",
    steps: [
      { id: "a", kind: "action", connector: "transform", action: "no_such_action", input: {} },
      { id: "b", kind: "respond", after: ["ghost"], body: "{{ steps.zzz.output }}" },
    ],
  };
  const result = await owner.callTool({ name: "validate_workflow", arguments: { definition: broken } });
  const body = result.structuredContent ?? JSON.parse(text(result));
  const problems = body.problems ?? body.error?.problems ?? body.error?.details;
  assert.ok(Array.isArray(problems), `problems listed: ${text(result)}`);
  const paths = problems.map((p) => p.path);
  assert.ok(paths.includes("/steps/0/action"), `the unknown action at its path: ${JSON.stringify(problems)}`);
  assert.ok(paths.includes("/steps/1/after/0"), `the unknown step at its path: ${JSON.stringify(problems)}`);
  assert.ok(problems.every((p) => typeof p.message === "string" && p.message.length > 0));
});

test("create_workflow from a tool call (a member), activate it, then call it as a tool", async () => {
  const member = await overHttp(fix.keys.member);
  try {
    const def = {
      name: "made by an assistant ts",
      input_schema: { type: "object", required: ["who"], properties: { who: { type: "string" } } },
      mcp: { expose: true, name: "greet_ts", description: "Greets someone." },
      steps: [{ id: "hi", kind: "respond", body: { greeting: "hello {{ trigger.body.who }}" } }],
    };
    const created = await member.callTool({ name: "create_workflow", arguments: { definition: def } });
    assert.ok(!created.isError, text(created));
    const wf = created.structuredContent ?? JSON.parse(text(created));
    assert.match(wf.id, /^wf_/);
    assert.equal((await api("GET", `/v1/workflows/${wf.id}`)).name, def.name);

    const activated = await member.callTool({ name: "set_workflow_active", arguments: { workflow_id: wf.id, active: true } });
    assert.ok(!activated.isError, text(activated));

    const listed = await tools(member);
    assert.ok(listed.has("greet_ts"), `the new workflow is a tool: ${[...listed.keys()]}`);
    const r = await member.callTool({ name: "greet_ts", arguments: { who: "Ada" } });
    assert.ok(!r.isError, text(r));
    assert.deepEqual(r.structuredContent, { greeting: "hello Ada" });

    // And by id through run_workflow, which waits like a workflow tool.
    const byId = await member.callTool({ name: "run_workflow", arguments: { workflow_id: wf.id, input: { who: "Grace" } } });
    assert.ok(!byId.isError, text(byId));
    assert.match(text(byId), /hello Grace/);
  } finally {
    await member.close();
  }
});

test("resources: the workflow format reference, a workflow's definition; another tenant's is not found", async () => {
  const { resources } = await owner.listResources();
  assert.ok(resources.some((r) => r.uri === "weft://docs/workflows"), JSON.stringify(resources));
  const doc = await owner.readResource({ uri: "weft://docs/workflows" });
  assert.match(doc.contents[0].text, /^# Workflow definitions/m);
  assert.match(doc.contents[0].mimeType ?? "", /markdown/);

  const { resourceTemplates } = await owner.listResourceTemplates();
  const templates = resourceTemplates.map((t) => t.uriTemplate);
  for (const t of ["weft://workflows/{id}", "weft://runs/{id}", "weft://connectors/{name}"]) {
    assert.ok(templates.includes(t), `template ${t}: ${templates}`);
  }
  const wf = await owner.readResource({ uri: `weft://workflows/${fix.workflows.refund.id}` });
  assert.equal(JSON.parse(wf.contents[0].text).name, refundLookup.name);

  const other = await owner.readResource({ uri: `weft://workflows/${fix.workflows.other.id}` }).then(
    (r) => ({ r }),
    (e) => ({ e }),
  );
  assert.ok(other.e, `another tenant's workflow is not read: ${JSON.stringify(other.r)}`);
  assert.doesNotMatch(String(other.e.message), /other tenant tool|secret_of/);
});

test("another tenant's workflow and run ids: not found, never their data", async () => {
  const wf = await owner.callTool({ name: "get_workflow", arguments: { workflow_id: fix.workflows.other.id } });
  assert.equal(wf.isError, true);
  assert.equal(envelope(wf).error.code, "not_found");
  const run = await owner.callTool({ name: "get_run", arguments: { run_id: fix.runs.other } });
  assert.equal(run.isError, true);
  assert.equal(envelope(run).error.code, "not_found");
  assert.doesNotMatch(text(wf) + text(run), /other tenant tool|secret_of/);
});
