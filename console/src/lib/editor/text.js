// The editor's text view: a definition as YAML or JSON, parsed with the line
// of the first error, and printed back after an edit in the graph or a form
// without reshuffling what the author wrote: the YAML document that was
// parsed is patched in place (keys keep their order, comments and quoting
// stay, steps are matched by id), so only what changed is re-printed.
import { Document, isMap, isScalar, isSeq, parseDocument } from "yaml";

/** @typedef {"yaml" | "json"} Format */
/** @typedef {{ message: string; line?: number; column?: number }} TextError */

/** The order keys are printed in when a definition comes from the server (which sorts them). */
const TOP = ["name", "description", "version", "vars", "timeout_ms", "error_workflow", "grants", "triggers", "input_schema", "mcp",
  "steps"];
const STEP = ["id", "kind", "after", "connector", "action", "version", "credentials", "if", "then", "else", "value", "cases",
  "default", "items", "parallelism", "workflow", "duration_ms", "until", "status", "headers", "input", "config", "body",
  "output_schema", "retry", "timeout_ms", "continue_on_fail"];

/** @param {unknown} v @returns {v is Record<string, unknown>} */
export const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * @param {Record<string, unknown>} obj
 * @param {string[]} order
 */
function ordered(obj, order) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const k of order) if (Object.hasOwn(obj, k)) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!Object.hasOwn(out, k)) out[k] = obj[k];
  return out;
}

/**
 * A definition with its keys in the documented order (top level and every
 * step, loop bodies included), for one that comes from the server.
 * @param {unknown} def
 */
export function canonical(def) {
  if (!isObject(def)) return def;
  /** @param {unknown} steps */
  const fix = (steps) =>
    Array.isArray(steps)
      ? steps.map((s) => {
          if (!isObject(s)) return s;
          const o = ordered(s, STEP);
          if (o.kind === "loop") o.body = fix(o.body);
          return o;
        })
      : steps;
  const out = ordered(def, TOP);
  if (Array.isArray(out.steps)) out.steps = fix(out.steps);
  return out;
}

/**
 * Parses the text of a definition.
 * @param {string} text
 * @param {Format} format
 * @returns {{ value?: Record<string, unknown>; doc?: Document; error?: TextError }}
 */
export function parseText(text, format) {
  /** @type {unknown} */
  let value;
  /** @type {Document | undefined} */
  let doc;
  if (format === "json") {
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { error: jsonError(text, /** @type {Error} */ (e).message) };
    }
  } else {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    const e = doc.errors[0];
    if (e) {
      const pos = e.linePos?.[0];
      return { error: { message: e.message.replace(/\s+at line \d+, column \d+[\s\S]*$/, ""), line: pos?.line, column: pos?.col } };
    }
    try {
      value = doc.toJS({ maxAliasCount: 200 });
    } catch (err) {
      return { error: { message: /** @type {Error} */ (err).message } };
    }
  }
  if (!isObject(value)) {
    const what = value === null || value === undefined ? "empty" : Array.isArray(value) ? "a list" : `a ${typeof value}`;
    return { error: { message: `A definition is a mapping (name, steps, …); this text is ${what}.`, line: 1 } };
  }
  return { value, doc };
}

/** @param {string} text @param {string} message @returns {TextError} */
function jsonError(text, message) {
  const lc = /line (\d+) column (\d+)/.exec(message);
  const short = message.replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, "");
  if (lc) return { message: short, line: Number(lc[1]), column: Number(lc[2]) };
  const at = /position (\d+)/.exec(message);
  if (!at) {
    // Some engines name no position: the YAML parser (JSON is YAML) finds the line.
    const pos = parseDocument(text).errors[0]?.linePos?.[0];
    return { message: short.replace(/,\s*(\.\.\.)?"[\s\S]*" is not valid JSON$/, ""), line: pos?.line, column: pos?.col };
  }
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  return { message: short, line, column: Number(at[1]) - before.lastIndexOf("\n") };
}

/**
 * The text of `def`. In YAML, `doc` (the document the text was parsed
 * from, if any) is patched to `def` so the author's layout stays; the
 * returned `doc` is the one to patch next time.
 * @param {Record<string, unknown>} def
 * @param {Format} format
 * @param {Document | undefined} [doc]
 * @returns {{ text: string; doc?: Document }}
 */
export function printText(def, format, doc) {
  if (format === "json") return { text: JSON.stringify(def, null, 2) + "\n" };
  if (doc && isMap(doc.contents) && !doc.errors.length) {
    doc.contents = patch(doc, doc.contents, def);
  } else {
    doc = new Document(def);
  }
  return { text: doc.toString({ lineWidth: 0 }), doc };
}

/** @param {unknown} key */
const keyOf = (key) => (isScalar(key) ? key.value : key);

/**
 * `node` changed as little as possible to hold `value`.
 * @param {Document} doc
 * @param {any} node
 * @param {unknown} value
 * @returns {any}
 */
function patch(doc, node, value) {
  if (isMap(node) && isObject(value)) {
    node.items = node.items.filter((p) => Object.hasOwn(value, String(keyOf(p.key))));
    for (const [k, v] of Object.entries(value)) {
      const pair = node.items.find((p) => String(keyOf(p.key)) === k);
      if (pair) pair.value = patch(doc, pair.value, v);
      else node.items.push(doc.createPair(k, v));
    }
    return node;
  }
  if (isSeq(node) && Array.isArray(value)) {
    /** @type {Map<string, any>} */
    const byId = new Map();
    for (const it of node.items) {
      const id = isMap(it) ? it.get("id") : undefined;
      if (typeof id === "string" && !byId.has(id)) byId.set(id, it);
    }
    node.items = value.map((v, i) => {
      const id = isObject(v) && typeof v.id === "string" ? v.id : undefined;
      let old = id !== undefined ? byId.get(id) : undefined;
      if (old) byId.delete(/** @type {string} */ (id));
      else if (id === undefined) {
        const at = node.items[i];
        old = at && !(isMap(at) && typeof at.get("id") === "string") ? at : undefined;
      }
      return old ? patch(doc, old, v) : doc.createNode(v);
    });
    return node;
  }
  if (isScalar(node) && (value === null || typeof value !== "object") && typeof node.value === typeof value) {
    if (node.value !== value) node.value = value;
    return node;
  }
  const fresh = /** @type {any} */ (doc.createNode(value));
  if (node && typeof node === "object") {
    fresh.comment = node.comment;
    fresh.commentBefore = node.commentBefore;
  }
  return fresh;
}
