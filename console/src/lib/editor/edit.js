// Edits of a definition made in the graph and the step form: add a step after
// the selected one (or into a loop's body), delete one (its dependants keep
// its dependencies, branches stop naming it), rename one (references follow),
// connect two. Each works in place on a draft the caller owns (a copy) and
// keeps the rules of docs/WORKFLOWS.md "Steps": `after` absent is the previous
// step of the list, so a step added after another depends on it.
import { ancestors, dependencies, find, walk } from "../graph/model.js";

/** @typedef {import("../graph/model.js").Definition} Definition */
/** @typedef {import("../graph/model.js").StepDef} StepDef */

export const ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The flow kinds of the palette; "approval" is a wait until resumed. */
export const FLOW = [
  { key: "condition", kind: "condition", label: "Condition", detail: "if … then … else", make: () => ({ if: "", then: [], else: [] }) },
  { key: "switch", kind: "switch", label: "Switch", detail: "route on a value", make: () => ({ value: "", cases: [], default: [] }) },
  { key: "loop", kind: "loop", label: "Loop", detail: "run steps for each item of a list", make: () => ({ items: "", body: [] }) },
  { key: "merge", kind: "merge", label: "Merge", detail: "wait for several branches", make: () => ({}) },
  { key: "wait", kind: "wait", label: "Wait", detail: "pause for a time", make: () => ({ duration_ms: 60000 }) },
  { key: "approval", kind: "wait", label: "Approval", detail: "wait until someone approves (resume)", make: () => ({ until: "resume" }) },
  { key: "subworkflow", kind: "subworkflow", label: "Sub-workflow", detail: "run another workflow", make: () => ({ workflow: "" }) },
  { key: "respond", kind: "respond", label: "Respond", detail: "answer the webhook", make: () => ({ status: 200 }) },
  { key: "code", kind: "code", label: "Code", detail: "run JavaScript on the items", make: () => ({ code: "return items;" }) },
];

/**
 * `base` made a valid id that no step of `def` has (`jq`, `jq_2`, …).
 * @param {Definition} def
 * @param {string} base
 */
export function uniqueId(def, base) {
  let b = base.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 56) || "step";
  if (!/^[A-Za-z_]/.test(b)) b = "_" + b;
  const taken = new Set(walk(def).map((p) => p.step.id));
  if (!taken.has(b)) return b;
  for (let n = 2; ; n++) if (!taken.has(`${b}_${n}`)) return `${b}_${n}`;
}

/**
 * Adds `step` (its id already unique) after the step `afterId` in that
 * step's list, or at the end of that loop's body with `into`, or at the end
 * of the top-level steps. A merge waits for the step it is added after.
 * @param {Definition} def
 * @param {StepDef} step
 * @param {{ after?: string | null; into?: boolean }} where
 */
export function insert(def, step, where = {}) {
  const at = find(def, where.after);
  /** @type {StepDef[]} */
  let list;
  let index;
  if (at && where.into && at.step.kind === "loop") {
    if (!Array.isArray(at.step.body)) at.step.body = [];
    list = /** @type {StepDef[]} */ (at.step.body);
    index = list.length;
  } else if (at) {
    list = at.list;
    index = at.index + 1;
  } else {
    if (!Array.isArray(def.steps)) def.steps = [];
    list = /** @type {StepDef[]} */ (def.steps);
    index = list.length;
  }
  list.splice(index, 0, step);
  if (step.kind === "merge" && !Array.isArray(step.after)) {
    const prev = list[index - 1]?.id;
    step.after = typeof prev === "string" ? [prev] : [];
  }
}

/** @param {string[]} a @param {string[]} b */
const same = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Removes the step `id` (and a loop's body with it). The steps that waited
 * for it wait for what it waited for; branches stop naming it. Templates
 * that read it are left for validation to point at.
 * @param {Definition} def
 * @param {string} id
 * @returns {boolean} whether there was such a step
 */
export function remove(def, id) {
  const at = find(def, id);
  if (!at) return false;
  const { list, index } = at;
  const gone = dependencies(list, index);
  const before = list.map((s, i) => ({ s, deps: i === index ? [] : dependencies(list, i) }));
  list.splice(index, 1);
  for (const { s, deps } of before) {
    if (s === at.step || !deps.includes(id)) continue;
    const want = [...new Set([...deps.filter((d) => d !== id), ...gone])];
    if (!same(want, dependencies(list, list.indexOf(s)))) s.after = want;
  }
  for (const { step } of walk(def)) {
    const drop = (/** @type {unknown} */ v) => (Array.isArray(v) ? v.filter((x) => x !== id) : v === id ? [] : v);
    if (step.kind === "condition") {
      if (step.then !== undefined) step.then = drop(step.then);
      if (step.else !== undefined) step.else = drop(step.else);
    } else if (step.kind === "switch") {
      if (Array.isArray(step.cases)) for (const c of step.cases) if (c && typeof c === "object") c.next = drop(c.next);
      if (step.default !== undefined) step.default = drop(step.default);
    }
  }
  return true;
}

/** @param {string} s */
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Renames the step `from` to `to`: the `after` lists and branches that name
 * it, and the templates that read `steps.from`, follow.
 * @param {Definition} def
 * @param {string} from
 * @param {string} to
 */
export function rename(def, from, to) {
  const at = find(def, from);
  if (!at || from === to) return;
  at.step.id = to;
  const swap = (/** @type {unknown} */ v) => (Array.isArray(v) ? v.map((x) => (x === from ? to : x)) : v === from ? to : v);
  const reads = new RegExp(`(steps\\s*\\.\\s*)${escape(from)}(?![A-Za-z0-9_])|(steps\\s*\\[\\s*)(['"])${escape(from)}\\3(\\s*\\])`, "g");
  /** @param {unknown} v @returns {unknown} */
  const templates = (v) => {
    if (typeof v === "string") return v.replace(reads, (_m, dot, br, q, end) => (dot ? dot + to : `${br}${q}${to}${q}${end}`));
    if (Array.isArray(v)) return v.map(templates);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, templates(x)]));
    return v;
  };
  for (const { step } of walk(def)) {
    if (Array.isArray(step.after)) step.after = step.after.map((x) => (x === from ? to : x));
    if (step.kind === "condition") {
      if (step.then !== undefined) step.then = swap(step.then);
      if (step.else !== undefined) step.else = swap(step.else);
    } else if (step.kind === "switch") {
      if (Array.isArray(step.cases)) for (const c of step.cases) if (c && typeof c === "object") c.next = swap(c.next);
      if (step.default !== undefined) step.default = swap(step.default);
    }
    for (const k of ["input", "config", "body", "headers", "if", "value", "items"]) {
      if (k in step && !(k === "body" && step.kind === "loop")) step[k] = templates(step[k]);
    }
  }
}

/**
 * Makes `target` wait for `source` (written as an explicit `after`), or says
 * why it cannot: steps of different lists, the same step, a cycle.
 * @param {Definition} def
 * @param {string} source
 * @param {string} target
 * @returns {string | null} the reason it was refused, or null
 */
export function connect(def, source, target) {
  const s = find(def, source);
  const t = find(def, target);
  if (!s || !t) return "Both ends must be steps.";
  if (source === target) return "A step cannot wait for itself.";
  if (s.list !== t.list) return `\`${target}\` can wait only for steps of its own list (a loop's body is a list of its own).`;
  const deps = dependencies(t.list, t.index);
  if (deps.includes(source)) return `\`${target}\` already runs after \`${source}\`.`;
  if (ancestors(s.list, s.index).includes(target)) return `\`${source}\` already runs after \`${target}\`: that would be a cycle.`;
  t.step.after = [...deps, source];
  return null;
}

/** @param {string} path a relative JSON pointer (`input/filter`) @returns {string[]} */
const keys = (path) => path.split("/").map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));

/**
 * The value at `path` (`input/filter`) in `obj`.
 * @param {unknown} obj
 * @param {string} path
 * @returns {unknown}
 */
export function getAt(obj, path) {
  /** @type {any} */
  let o = obj;
  for (const k of keys(path)) {
    if (!o || typeof o !== "object") return undefined;
    o = o[k];
  }
  return o;
}

/**
 * Writes `r.value` at `path` in `obj` (objects made on the way), or removes
 * the key with `r.remove`.
 * @param {Record<string, any>} obj
 * @param {string} path
 * @param {{ value?: unknown; remove?: boolean }} r
 */
export function setAt(obj, path, r) {
  const ks = keys(path);
  let o = obj;
  for (const k of ks.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== "object" || Array.isArray(o[k])) {
      if (r.remove) return;
      o[k] = {};
    }
    o = o[k];
  }
  const last = /** @type {string} */ (ks.at(-1));
  if (r.remove) delete o[last];
  else o[last] = r.value;
}
