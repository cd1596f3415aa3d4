// What a template of a step may read (docs/WORKFLOWS.md "Templates"), for the
// `{{ }}` completion of the editor's fields: the trigger, the workflow's
// vars, the output of every step upstream of this one (its dependencies,
// transitively, and those of the loops around it) and, in a loop body, `item`
// and `index`. Nothing downstream or in another branch of a loop is offered:
// validation would refuse it.
import { ancestors, find, walk } from "../graph/model.js";

/** @typedef {import("../graph/model.js").Definition} Definition */
/** @typedef {{ label: string; detail: string }} Entry */
/** @typedef {{ name: string; actions: { name: string; output_schema?: unknown }[] }} ConnectorInfo */

/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A path segment: `.name`, or `["na-me"]` when it is not an identifier. */
const seg = (/** @type {string} */ k) => (IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

/**
 * The entries in scope for the step `stepId` (or, with no step, for the
 * workflow's top level: the trigger and vars only).
 * @param {Definition | null | undefined} def
 * @param {string | null | undefined} stepId
 * @param {ConnectorInfo[]} [connectors] to offer the fields of an action's output
 * @returns {Entry[]}
 */
export function scope(def, stepId, connectors = []) {
  /** @type {Entry[]} */
  const out = [
    { label: "trigger.body", detail: "the webhook's JSON body, the manual run's input" },
    { label: "trigger.query", detail: "the webhook's query parameters" },
    { label: "trigger.headers", detail: "the webhook's headers" },
  ];
  const vars = isObject(def?.vars) ? def.vars : {};
  for (const [k, v] of Object.entries(vars)) out.push({ label: `vars${seg(k)}`, detail: `= ${short(v)}` });
  const placed = find(def, stepId);
  if (!placed) return out;
  /** @type {string[]} */
  const upstream = [];
  let inLoop = false;
  // This step's list, then the list of each loop around it.
  /** @type {import("../graph/model.js").Placed | undefined} */
  let at = placed;
  while (at) {
    upstream.push(...ancestors(at.list, at.index));
    if (!at.parent) break;
    inLoop = true;
    at = find(def, at.parent);
  }
  if (inLoop) {
    out.push({ label: "item", detail: "the loop's current item" }, { label: "index", detail: "its index, from 0" });
  }
  const all = walk(def);
  for (const id of upstream) {
    const step = all.find((p) => p.step.id === id)?.step;
    if (!step) continue;
    out.push({ label: `steps${seg(id)}.output`, detail: `output of ${id}` });
    for (const f of outputFields(step, connectors)) {
      out.push({ label: `steps${seg(id)}.output${seg(f.name)}`, detail: f.detail });
    }
  }
  return out;
}

/** @param {unknown} v */
function short(v) {
  const s = JSON.stringify(v) ?? "";
  return s.length > 40 ? s.slice(0, 39) + "…" : s;
}

/**
 * The top-level fields of a step's output, when its kind or its action's
 * `output_schema` says what they are.
 * @param {Record<string, unknown>} step
 * @param {ConnectorInfo[]} connectors
 * @returns {{ name: string; detail: string }[]}
 */
function outputFields(step, connectors) {
  if (step.kind === "action") {
    const action = connectors.find((c) => c.name === step.connector)?.actions.find((a) => a.name === step.action);
    const schema = action?.output_schema;
    if (!isObject(schema) || !isObject(schema.properties)) return [];
    return Object.entries(schema.properties).map(([name, p]) => ({
      name,
      detail: (isObject(p) && typeof p.description === "string" ? p.description : "") || `${step.action} output`,
    }));
  }
  return [];
}

/** The template functions (docs/WORKFLOWS.md), offered after the paths. */
export const FUNCTIONS = ["length", "lower", "upper", "string", "json"].map((f) => ({ label: `${f}(`, detail: "function" }));

/**
 * Where a completion applies in `text` with the caret at `caret`: inside an
 * open `{{ ` (or anywhere in an expression field), the path being typed.
 * Null when the caret is not in a template.
 * @param {string} text
 * @param {number} caret
 * @param {boolean} [expression] a field that is an expression itself (`if`, `items`, a switch `value`)
 * @returns {{ start: number; end: number; query: string; closed: boolean } | null}
 */
export function completionAt(text, caret, expression = false) {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{{");
  const inside = open >= 0 && before.indexOf("}}", open) === -1;
  if (!inside && !expression) return null;
  // The path under the caret: identifiers, dots, brackets with quoted keys, digits.
  const m = /[A-Za-z0-9_.[\]'"-]*$/.exec(before);
  let start = caret - (m ? m[0].length : 0);
  if (inside && start < open + 2) start = open + 2;
  const after = /^[A-Za-z0-9_.[\]'"-]*/.exec(text.slice(caret));
  const end = caret + (after ? after[0].length : 0);
  const rest = text.slice(end);
  const close = rest.indexOf("}}");
  const reopen = rest.indexOf("{{");
  const closed = !inside || (close >= 0 && (reopen < 0 || close < reopen));
  return { start, end, query: text.slice(start, caret), closed };
}

/**
 * The entries matching what is typed: those that start with it first, then
 * those that contain it (case-insensitive); all when nothing is typed.
 * @param {Entry[]} entries
 * @param {string} query
 * @returns {Entry[]}
 */
export function matching(entries, query) {
  const q = query.trim().toLowerCase();
  if (!q) return entries;
  const starts = entries.filter((e) => e.label.toLowerCase().startsWith(q));
  const contains = entries.filter((e) => !e.label.toLowerCase().startsWith(q) && e.label.toLowerCase().includes(q));
  return [...starts, ...contains].filter((e) => e.label.toLowerCase() !== q);
}

/**
 * The text with `label` put where the completion applies, a space after
 * `{{` and ` }}` closing the template when it was open; and the new caret.
 * @param {string} text
 * @param {{ start: number; end: number; closed: boolean }} at
 * @param {string} label
 * @param {boolean} [expression]
 * @returns {{ text: string; caret: number }}
 */
export function complete(text, at, label, expression = false) {
  const head = text.slice(0, at.start);
  const pad = head.endsWith("{{") ? " " : "";
  const inserted = pad + label;
  const close = !at.closed && !expression && !label.endsWith("(") ? " }}" : "";
  const next = head + inserted + close + text.slice(at.end);
  return { text: next, caret: head.length + inserted.length + close.length };
}
