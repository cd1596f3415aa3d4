// The editor's pure logic, without a browser: the completion scope of `{{ }}`,
// the form made from an input schema, the edits of a definition, the text
// view's round trip and where validation problems land. (Plain JavaScript
// modules under src/lib/, so node can import them as they are.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { complete, completionAt, matching, scope } from "../src/lib/editor/scope.js";
import { fieldsOf, toText, toValue } from "../src/lib/editor/schemaform.js";
import { connect, insert, remove, rename, uniqueId } from "../src/lib/editor/edit.js";
import { canonical, parseText, printText } from "../src/lib/editor/text.js";
import { owner, place } from "../src/lib/editor/problems.js";
import { toGraph } from "../src/lib/graph/model.js";

const connectors = [
  { name: "transform", actions: [{ name: "jq", output_schema: { type: "object", properties: { result: { description: "The first output" }, results: {} } } }] },
];

// a -> cond -(then)-> yes ; cond -(else)-> no ; loop over a's output with body b1 -> b2 ; c after loop
const def = {
  name: "t",
  vars: { greeting: "Hello", "odd-name": 1 },
  steps: [
    { id: "a", kind: "action", connector: "transform", action: "jq", input: { filter: "." } },
    { id: "cond", kind: "condition", if: "steps.a.output.ok", then: ["yes"], else: ["no"] },
    { id: "yes", kind: "respond" },
    { id: "no", kind: "respond" },
    { id: "each", kind: "loop", items: "steps.a.output.results", after: ["a"], body: [
      { id: "b1", kind: "action", connector: "transform", action: "jq" },
      { id: "b2", kind: "action", connector: "transform", action: "jq" },
    ] },
    { id: "c", kind: "merge", after: ["each", "yes"] },
  ],
};

const labels = (id) => scope(def, id, connectors).map((e) => e.label);

test("scope: a step sees the trigger, vars and only the steps upstream of it", () => {
  const a = labels("a");
  assert.deepEqual(a, ["trigger.body", "trigger.query", "trigger.headers", "vars.greeting", 'vars["odd-name"]']);
  const yes = labels("yes");
  assert.ok(yes.includes("steps.cond.output") && yes.includes("steps.a.output") && yes.includes("steps.a.output.result"));
  assert.ok(!yes.includes("steps.no.output"), "the other branch is not upstream");
  assert.ok(!yes.includes("item"), "item only inside a loop");
  const c = labels("c");
  for (const up of ["each", "yes", "cond", "a"]) assert.ok(c.includes(`steps.${up}.output`), up);
  assert.ok(!c.includes("steps.no.output") && !c.includes("steps.b1.output"), "not the other branch, not a loop's body");
});

test("scope: a loop body sees item, index, its own upstream steps and the loop's", () => {
  const b2 = labels("b2");
  assert.ok(b2.includes("item") && b2.includes("index"));
  assert.ok(b2.includes("steps.b1.output") && b2.includes("steps.a.output"));
  assert.ok(!b2.includes("steps.each.output"), "not the loop itself");
  assert.ok(!labels("b1").includes("steps.b2.output"), "not a later body step");
});

test("completion: found inside an open {{, filtered, and inserted with the braces closed", () => {
  assert.equal(completionAt("plain text", 5), null);
  assert.equal(completionAt("{{ a }} x", 9), null, "after a closed template");
  const at = completionAt("Hi {{ tri", 9);
  assert.deepEqual({ start: at.start, query: at.query, closed: at.closed }, { start: 6, query: "tri", closed: false });
  assert.deepEqual(matching(scope(def, "a"), "body").map((e) => e.label), ["trigger.body"]);
  assert.deepEqual(matching(scope(def, "a"), "tri").map((e) => e.label), ["trigger.body", "trigger.query", "trigger.headers"]);
  assert.deepEqual(complete("Hi {{ tri", at, "trigger.body"), { text: "Hi {{ trigger.body }}", caret: 21 });
  const bare = completionAt("{{", 2);
  assert.deepEqual(complete("{{", bare, "trigger.body"), { text: "{{ trigger.body }}", caret: 18 });
  const inside = completionAt("{{ steps.a }} and", 10);
  assert.equal(inside.closed, true);
  assert.equal(complete("{{ steps.a }} and", inside, "steps.a.output").text, "{{ steps.a.output }} and");
  const expr = completionAt("steps.a.output.ok && tr", 23, true);
  assert.equal(complete("steps.a.output.ok && tr", expr, "trigger.body", true).text, "steps.a.output.ok && trigger.body");
});

test("schema form: fields by type, required first, values read back", () => {
  const schema = {
    type: "object",
    required: ["url"],
    properties: {
      method: { type: "string", enum: ["GET", "POST"], description: "HTTP method" },
      url: { type: "string" },
      timeout_ms: { type: "integer", minimum: 1 },
      fail: { type: "boolean", default: true },
      headers: { type: "object" },
      json: { description: "any JSON" },
      text: { type: "string", maxLength: 40000 },
    },
  };
  const f = fieldsOf(schema, "input");
  assert.deepEqual(f.map((x) => [x.name, x.kind, x.required]), [
    ["url", "string", true], ["method", "enum", false], ["timeout_ms", "integer", false], ["fail", "boolean", false],
    ["headers", "json", false], ["json", "any", false], ["text", "string", false],
  ]);
  const by = Object.fromEntries(f.map((x) => [x.name, x]));
  assert.equal(by.method.description, "HTTP method");
  assert.equal(by.text.multiline, true);
  assert.equal(by.url.path, "input/url");
  assert.equal(fieldsOf({ type: "object" }, "input"), null, "no properties: one JSON box");
  assert.deepEqual(toValue(by.url, ""), { remove: true });
  assert.deepEqual(toValue(by.timeout_ms, "250"), { value: 250 });
  assert.deepEqual(toValue(by.timeout_ms, "{{ vars.t }}"), { value: "{{ vars.t }}" }, "a template stays text");
  assert.deepEqual(toValue(by.fail, false), { value: false }, "unchecking a default-true box writes false");
  assert.deepEqual(toValue(by.fail, true), { value: true });
  assert.deepEqual(toValue(by.headers, '{"a": "b"}'), { value: { a: "b" } });
  assert.match(toValue(by.headers, "{oops").error, /Not valid JSON/);
  assert.deepEqual(toValue(by.json, "{{ trigger.body }}"), { value: "{{ trigger.body }}" });
  assert.deepEqual(toValue(by.json, '{"n": 1}'), { value: { n: 1 } });
  assert.deepEqual(toValue(by.json, "hello"), { value: "hello" });
  assert.equal(toText(by.json, "123"), '"123"', "a string that looks like JSON is shown quoted");
  assert.equal(toText(by.json, "{{ trigger.body }}"), "{{ trigger.body }}");
  assert.equal(toText(by.headers, { a: "b" }), '{\n  "a": "b"\n}');
});

test("edits: add after the selected step, into a loop, unique ids", () => {
  const d = structuredClone(def);
  assert.equal(uniqueId(d, "a"), "a_2");
  assert.equal(uniqueId(d, "post-message"), "post_message");
  assert.equal(uniqueId(d, "9x"), "_9x");
  insert(d, { id: "n", kind: "respond" }, { after: "a" });
  assert.equal(d.steps[1].id, "n");
  const g = toGraph(d);
  assert.ok(g.edges.some((e) => e.source === "a" && e.target === "n"), "n runs after a by the default rule");
  insert(d, { id: "b3", kind: "respond" }, { after: "each", into: true });
  assert.equal(d.steps.find((s) => s.id === "each").body.at(-1).id, "b3");
  insert(d, { id: "m", kind: "merge" }, { after: "c" });
  assert.deepEqual(d.steps.at(-1).after, ["c"], "a merge lists what it waits for");
});

test("edits: delete keeps the chain, drops branches; rename follows references", () => {
  const d = structuredClone(def);
  remove(d, "cond");
  const yes = d.steps.find((s) => s.id === "yes");
  assert.equal(yes.after, undefined, "yes waited for cond: now for what cond waited for, a, which the default rule gives");
  assert.ok(toGraph(d).edges.some((e) => e.source === "a" && e.target === "yes"));
  const explicit = { name: "e", steps: [{ id: "p", kind: "respond" }, { id: "q", kind: "respond", after: [] }, { id: "r", kind: "respond" }] };
  remove(explicit, "q");
  assert.deepEqual(explicit.steps[1].after, [], "r waited for a root: it becomes one, written explicitly");
  const chain = { name: "c", steps: [{ id: "x", kind: "respond" }, { id: "y", kind: "respond", after: ["x"] }, { id: "z", kind: "respond" }] };
  remove(chain, "y");
  assert.deepEqual(chain.steps.map((s) => [s.id, s.after]), [["x", undefined], ["z", undefined]], "z now follows x by the default rule");
  const br = structuredClone(def);
  remove(br, "yes");
  assert.deepEqual(br.steps.find((s) => s.id === "cond").then, []);
  assert.deepEqual(br.steps.find((s) => s.id === "c").after, ["each", "cond"]);
  const r = structuredClone(def);
  r.steps.push({ id: "t", kind: "respond", body: { x: "{{ steps.a.output }}", y: "{{ steps['a'].output }} {{ steps.ab }}" } });
  rename(r, "a", "total");
  assert.equal(r.steps[0].id, "total");
  assert.equal(r.steps[1].if, "steps.total.output.ok");
  assert.deepEqual(r.steps.find((s) => s.id === "each").after, ["total"]);
  assert.equal(r.steps.find((s) => s.id === "each").items, "steps.total.output.results");
  assert.deepEqual(r.steps.at(-1).body, { x: "{{ steps.total.output }}", y: "{{ steps['total'].output }} {{ steps.ab }}" });
});

test("edits: connect writes after explicitly, refuses cycles and other lists", () => {
  const d = structuredClone(def);
  assert.equal(connect(d, "no", "c"), null);
  assert.deepEqual(d.steps.find((s) => s.id === "c").after, ["each", "yes", "no"]);
  assert.match(connect(d, "c", "a"), /cycle/);
  assert.match(connect(d, "a", "b1"), /own list/);
  assert.match(connect(d, "a", "cond"), /already/);
  assert.equal(connect(d, "a", "yes"), null);
  assert.deepEqual(d.steps.find((s) => s.id === "yes").after, ["cond", "a"], "a branch target keeps its brancher");
});

test("text: YAML parse errors have a line; an edit keeps comments, order and quoting", () => {
  const bad = parseText("name: x\nsteps:\n  - id: a\n    kind: [unclosed\n", "yaml");
  assert.ok(bad.error && bad.error.line >= 4, JSON.stringify(bad.error));
  assert.match(parseText("[1, 2]", "yaml").error.message, /mapping/);
  const jsonBad = parseText('{\n  "name": "x",\n  "steps": [,]\n}', "json");
  assert.equal(jsonBad.error.line, 3);
  assert.doesNotMatch(jsonBad.error.message, /steps/, "the message is short, the line says where");
  const src = "# greet people\nname: greet   # the name\nsteps:\n  - id: a\n    kind: action\n    connector: transform\n    action: jq\n    input:\n      filter: '.people'\n  - id: b\n    kind: respond\n";
  const { value, doc } = parseText(src, "yaml");
  value.steps[0].input.data = "{{ trigger.body }}";
  value.steps.splice(1, 0, { id: "mid", kind: "merge", after: ["a"] });
  const out = printText(value, "yaml", doc).text;
  assert.match(out, /^# greet people\nname: greet +# the name\n/);
  assert.match(out, /filter: '\.people'\n\s+data: "\{\{ trigger\.body \}\}"/);
  assert.ok(out.indexOf("id: mid") > out.indexOf("id: a") && out.indexOf("id: mid") < out.indexOf("id: b"));
  assert.deepEqual(parseText(out, "yaml").value, value, "it parses back to the same definition");
  const json = printText(value, "json").text;
  assert.deepEqual(JSON.parse(json), value);
  const c = canonical({ steps: [{ kind: "action", id: "a", input: {}, connector: "x", action: "y" }], name: "n" });
  assert.deepEqual(Object.keys(c), ["name", "steps"]);
  assert.deepEqual(Object.keys(c.steps[0]), ["id", "kind", "connector", "action", "input"]);
});

test("text and edits keep a workflow's contract: input_schema, mcp, a respond step's output_schema", () => {
  const src = "name: lookup\nsteps:\n  - id: answer\n    kind: respond\n    output_schema: {type: object}\n    body: {ok: true}\n" +
    "input_schema:\n  type: object\n  required: [order_id]\nmcp: {expose: true, name: lookup_refund}\n";
  const { value, doc } = parseText(src, "yaml");
  insert(value, { id: "fetch", kind: "merge", after: [] }, {});
  rename(value, "answer", "reply");
  const out = printText(value, "yaml", doc).text;
  const back = parseText(out, "yaml").value;
  assert.deepEqual(back.input_schema, { type: "object", required: ["order_id"] });
  assert.deepEqual(back.mcp, { expose: true, name: "lookup_refund" });
  assert.deepEqual(back.steps.find((s) => s.id === "reply").output_schema, { type: "object" });
  assert.deepEqual(JSON.parse(printText(back, "json").text), back);
  const c = canonical({ steps: [{ body: 1, output_schema: {}, kind: "respond", id: "r" }], mcp: {}, input_schema: {}, name: "n" });
  assert.deepEqual(Object.keys(c), ["name", "input_schema", "mcp", "steps"]);
  assert.deepEqual(Object.keys(c.steps[0]), ["id", "kind", "body", "output_schema"]);
  assert.equal(toGraph(back).nodes.length, 2, "the graph is drawn from the same definition");
});

test("problems land on their step and field", () => {
  const p = place(def, { path: "/steps/4/body/1/input", message: "missing required property `filter`" });
  assert.deepEqual([p.step, p.field], ["b2", "input/filter"]);
  const q = place(def, { path: "/steps/2/body", message: "bad" });
  assert.deepEqual([q.step, q.field], ["yes", "body"], "a respond step's body is a field, not a loop body");
  assert.deepEqual(place(def, { path: "/triggers/schedule/cron", message: "x" }).step, undefined);
  assert.equal(owner(["input/messages", "input/model"], "input/messages/0/role"), "input/messages");
  assert.equal(owner(["input/filter"], "input/filter"), "input/filter");
  assert.equal(owner(["if"], "input"), null);
});

test("setAt and getAt follow relative pointers", async () => {
  const { getAt, setAt } = await import("../src/lib/editor/edit.js");
  const s = { input: { filter: "." } };
  setAt(s, "input/data", { value: "{{ trigger.body }}" });
  setAt(s, "config/base_url", { value: "https://x" });
  setAt(s, "headers/a~1b", { value: "1" });
  assert.deepEqual(s, { input: { filter: ".", data: "{{ trigger.body }}" }, config: { base_url: "https://x" }, headers: { "a/b": "1" } });
  setAt(s, "input/filter", { remove: true });
  setAt(s, "retry/max_attempts", { remove: true });
  assert.deepEqual(s.input, { data: "{{ trigger.body }}" });
  assert.equal(s.retry, undefined);
  assert.equal(getAt(s, "headers/a~1b"), "1");
  assert.equal(getAt(s, "input/x/y"), undefined);
});
