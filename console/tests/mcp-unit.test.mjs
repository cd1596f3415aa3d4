// Unit tests of src/pages/workflow/mcp.ts: the default tool name (the
// engine's snake_case), a definition with only `mcp` changed, input and
// output in words, and where a server problem goes on the form.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "./ts.mjs";

const m = await importTs("../src/pages/workflow/mcp.ts");

test("the default tool name is the workflow's name in snake case, as the engine makes it", () => {
  assert.equal(m.snakeCase("refund lookup"), "refund_lookup");
  assert.equal(m.snakeCase("  Order--Router v2! "), "order_router_v2");
  assert.equal(m.snakeCase("Grüße an Jürgen"), "gr_e_an_j_rgen");
  assert.equal(m.snakeCase("日本語"), "workflow");
  assert.equal(m.snakeCase(""), "workflow");
  assert.equal(m.snakeCase("a".repeat(63) + " b"), "a".repeat(63), "cut at 64, no trailing _");
  assert.equal(m.snakeCase("x".repeat(70)).length, 64);
});

test("withMcp changes only mcp and keeps every other field as it was", () => {
  const def = { name: "w", description: "d", triggers: { webhook: { mode: "async" } }, input_schema: { type: "object" }, steps: [{ id: "a", kind: "wait", duration_ms: 1 }], extra: { kept: [1, 2] } };
  const on = m.withMcp(def, { expose: true, name: "  look_up ", description: "" });
  assert.deepEqual(on, { ...def, mcp: { expose: true, name: "look_up" } });
  assert.equal(on.steps, def.steps, "the rest is the same JSON, not a copy that could drift");
  assert.equal(def.mcp, undefined, "the given definition is not changed");

  // Off keeps the name and description for the next time.
  const was = { ...def, mcp: { expose: true, name: "x", description: "Does x." } };
  assert.deepEqual(m.withMcp(was, { expose: false, name: "x", description: "Does x." }).mcp, { expose: false, name: "x", description: "Does x." });
  assert.deepEqual(m.withMcp(was, { expose: false, name: "", description: " " }).mcp, { expose: false });
  assert.ok(!("mcp" in m.withMcp(def, { expose: false, name: "", description: "" })), "no mcp added where there was none");
});

test("the form is changed only when it says something else than the definition", () => {
  const def = { name: "w", mcp: { expose: true, name: "x" } };
  assert.deepEqual(m.mcpOf(def), { expose: true, name: "x", description: "" });
  assert.deepEqual(m.mcpOf({ name: "w" }), { expose: false, name: "", description: "" });
  assert.equal(m.changed(def, { expose: true, name: " x ", description: "" }), false);
  assert.equal(m.changed(def, { expose: false, name: "x", description: "" }), true);
  assert.equal(m.changed(def, { expose: true, name: "x", description: "new" }), true);
});

test("the description the assistant reads, and a name taken by a management tool", () => {
  assert.equal(m.toolDescription({ name: "w", description: "D", mcp: { expose: true, description: "M" } }), "M");
  assert.equal(m.toolDescription({ name: "w", description: "D", mcp: { expose: true } }), "D");
  assert.equal(m.toolDescription({ name: "w" }), 'Runs the workflow "w".');
  assert.equal(m.listedName("lookup", "wf_0123456789abcdef"), "lookup");
  assert.equal(m.listedName("get_run", "wf_0123456789abcdef"), "get_run_abcdef");
});

test("input and output in words", () => {
  const schema = {
    type: "object",
    required: ["order_id"],
    properties: {
      order_id: { type: "string", description: "the order's id" },
      reason: { enum: ["damaged", "late"] },
      count: { type: ["integer", "null"] },
      tags: { type: "array", items: { type: "string" } },
      any: {},
      either: { anyOf: [{ type: "string" }, { type: "number" }] },
      fixed: { const: 3 },
    },
  };
  assert.deepEqual(m.propertiesOf(schema), [
    { name: "order_id", type: "string", required: true, description: "the order's id" },
    { name: "reason", type: 'one of "damaged", "late"', required: false, description: "" },
    { name: "count", type: "integer or null", required: false, description: "" },
    { name: "tags", type: "array of string", required: false, description: "" },
    { name: "any", type: "any", required: false, description: "" },
    { name: "either", type: "string or number", required: false, description: "" },
    { name: "fixed", type: "exactly 3", required: false, description: "" },
  ]);
  assert.equal(m.propertiesOf({ type: "object" }), null);
  assert.equal(m.propertiesOf(undefined), null);
  const def = { steps: [{ id: "a", kind: "respond", body: {} }, { id: "b", kind: "respond", output_schema: { type: "object" } }] };
  assert.deepEqual(m.outputSchemaOf(def), { type: "object" });
  assert.equal(m.outputSchemaOf({ steps: [] }), undefined);
});

test("each server problem goes to its part of the form", () => {
  assert.equal(m.fieldOf("/mcp/name"), "name");
  assert.equal(m.fieldOf("/mcp/description"), "description");
  assert.equal(m.fieldOf("/mcp"), "expose");
  assert.equal(m.fieldOf("/mcp/expose"), "expose");
  assert.equal(m.fieldOf("/input_schema/type"), "schema");
  assert.equal(m.fieldOf("/steps/2/output_schema/type"), "schema");
  assert.equal(m.fieldOf("/mcpx"), "other");
  assert.equal(m.fieldOf("/steps/0/input"), "other");
  assert.equal(m.fieldOf("/triggers/schedule"), "other");
});
