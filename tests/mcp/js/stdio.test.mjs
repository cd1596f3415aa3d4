// The official TypeScript MCP SDK over stdio, spawning `weft mcp` itself
// (StdioClientTransport): as a bridge to the running server (`--server`, the
// key in WEFT_API_KEY) and embedded on its own data dir. The basics in each:
// the handshake, the tools, a call with its typed output.
import assert from "node:assert/strict";
import { test } from "node:test";
import { refundLookup } from "../harness.mjs";
import { fix, overBridge, overEmbedded, runsOf, text } from "./clients.mjs";

async function basics(c) {
  assert.match(c.getServerVersion().name, /weft/i);
  const { tools } = await c.listTools();
  const refund = tools.find((t) => t.name === "lookup_refund");
  assert.ok(refund, `lookup_refund listed: ${tools.map((t) => t.name)}`);
  assert.deepEqual(refund.inputSchema.properties, refundLookup.input_schema.properties);
  assert.ok(!tools.some((t) => /internal_cleanup|other_tenant/.test(t.name)), tools.map((t) => t.name).join());
  const result = await c.callTool({ name: "lookup_refund", arguments: { order_id: "ord_stdio" } });
  assert.ok(!result.isError, text(result));
  assert.deepEqual(result.structuredContent, { order: "ord_stdio", status: "refunded" });
}

test("bridge: `weft mcp --server URL` with WEFT_API_KEY lists and calls the server's tools", async () => {
  const c = await overBridge();
  try {
    await basics(c);
    // The run happened on the server, under the key's tenant.
    const [run] = await runsOf(fix.workflows.refund.id);
    assert.equal(run.trigger, "mcp");
    assert.equal(run.status, "completed");
  } finally {
    await c.close();
  }
});

test("bridge: the key's role holds through the bridge (a viewer is offered no writing tool)", async () => {
  const c = await overBridge(fix.keys.viewer);
  try {
    const names = (await c.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes("list_workflows"), names.join());
    assert.ok(!names.includes("create_workflow"), names.join());
    assert.ok(!names.includes("lookup_refund"), `a viewer cannot start runs: ${names}`);
  } finally {
    await c.close();
  }
});

test("bridge: a key that does not open is refused with a message, not a hang", async () => {
  const started = Date.now();
  const outcome = await overBridge("weft_not_a_real_key_0000000000000000").then(
    async (c) => {
      const r = await c.listTools().then(
        (t) => ({ tools: t }),
        (e) => ({ e }),
      );
      await c.close();
      return r;
    },
    (e) => ({ e }),
  );
  assert.ok(outcome.e, `refused: ${JSON.stringify(outcome.tools)}`);
  assert.match(String(outcome.e.message), /401|key|unauth/i);
  assert.ok(Date.now() - started < 15_000, "refused promptly");
});

test("embedded: `weft mcp --data-dir` on its own store lists and calls its tools", async () => {
  const c = await overEmbedded();
  try {
    await basics(c);
  } finally {
    await c.close();
  }
});
