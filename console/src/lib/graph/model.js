// A workflow definition as a graph: one node per step (loop bodies nested in
// their loop), one edge per dependency, with the rules of docs/WORKFLOWS.md
// ("Steps"): `after` absent means the previous step of the same list, except
// for a step a `condition`/`switch` names as a branch, which waits for the
// branching step; `[]` is a root. Branch edges carry their label.
//
// Plain JavaScript with JSDoc types, so `node --test` can import it
// (tests/editor-unit.test.mjs); Vite and the editor read the types.

/** @typedef {Record<string, unknown> & { id?: string; kind?: string; after?: string[]; body?: StepDef[] }} StepDef */
/** @typedef {Record<string, unknown> & { name?: string; steps?: StepDef[]; triggers?: Record<string, unknown>; vars?: Record<string, unknown> }} Definition */
/**
 * @typedef {{
 *   id: string; kind: string;
 *   parent?: string;  // the loop this step is in the body of
 *   path: string;     // its index path in the definition (`/steps/2/body/0`), for problems
 *   detail: string;   // what to show under the id: `slack · post-message`, `if …`
 *   step: StepDef;
 * }} GraphNode
 */
/** @typedef {{ id: string; source: string; target: string; label?: string; kind: "after" | "branch" | "trigger" }} GraphEdge */
/** @typedef {{ nodes: GraphNode[]; edges: GraphEdge[]; triggers: string[] }} Graph */
/**
 * A step where it is: its list (the top-level steps or a loop's body), its
 * index there, its JSON pointer and the loop it is in.
 * @typedef {{ step: StepDef; list: StepDef[]; index: number; path: string; parent?: string }} Placed
 */

/** @param {unknown} v @returns {string[]} */
const ids = (v) => (typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

/**
 * The step ids a `condition` or `switch` names as branches, with their labels.
 * @param {StepDef} step
 * @returns {{ target: string; label: string }[]}
 */
export function branches(step) {
  /** @type {{ target: string; label: string }[]} */
  const out = [];
  if (!step || typeof step !== "object") return out;
  if (step.kind === "condition") {
    for (const t of ids(step.then)) out.push({ target: t, label: "then" });
    for (const t of ids(step.else)) out.push({ target: t, label: "else" });
  } else if (step.kind === "switch") {
    const cases = Array.isArray(step.cases) ? /** @type {{ equals?: unknown; next?: unknown }[]} */ (step.cases) : [];
    for (const c of cases) {
      for (const t of ids(c?.next)) out.push({ target: t, label: `= ${JSON.stringify(c.equals)}` });
    }
    for (const t of ids(step.default)) out.push({ target: t, label: "default" });
  }
  return out;
}

/**
 * The ids a step of `list` (at `index`) waits for.
 * @param {StepDef[]} list
 * @param {number} index
 * @returns {string[]}
 */
export function dependencies(list, index) {
  const step = list[index];
  if (Array.isArray(step.after)) return step.after.filter((a) => typeof a === "string");
  const branchers = list.filter((s) => branches(s).some((b) => b.target === step.id)).map((s) => String(s.id));
  if (branchers.length) return branchers;
  return index > 0 && typeof list[index - 1]?.id === "string" ? [String(list[index - 1].id)] : [];
}

/** @param {StepDef} step @returns {string} */
export function detail(step) {
  switch (step.kind) {
    case "action":
      return `${step.connector ?? "?"} · ${step.action ?? "?"}`;
    case "condition":
      return `if ${String(step.if ?? "")}`;
    case "switch":
      return `switch ${String(step.value ?? "")}`;
    case "loop":
      return `for each in ${String(step.items ?? "")}`;
    case "subworkflow":
      return `runs ${String(step.workflow ?? "?")}`;
    case "wait":
      return step.until === "resume" ? "waits for approval" : `waits ${Number(step.duration_ms ?? 0) / 1000} s`;
    case "respond":
      return `answers ${step.status ?? 200}`;
    case "merge":
      return "joins its branches";
    default:
      return String(step.kind ?? "");
  }
}

/**
 * Every step of a definition with where it is, loop bodies after their loop
 * (document order, depth first). Tolerant of a draft: entries that are not
 * objects are skipped.
 * @param {Definition | null | undefined} def
 * @returns {Placed[]}
 */
export function walk(def) {
  /** @type {Placed[]} */
  const out = [];
  /** @param {unknown} steps @param {string} path @param {string} [parent] */
  function list(steps, path, parent) {
    if (!Array.isArray(steps)) return;
    steps.forEach((step, index) => {
      if (!step || typeof step !== "object" || Array.isArray(step)) return;
      out.push({ step, list: steps, index, path: `${path}/${index}`, parent });
      if (step.kind === "loop") list(step.body, `${path}/${index}/body`, typeof step.id === "string" ? step.id : undefined);
    });
  }
  list(def?.steps, "/steps");
  return out;
}

/**
 * The step with this id, where it is.
 * @param {Definition | null | undefined} def
 * @param {string | null | undefined} id
 * @returns {Placed | undefined}
 */
export function find(def, id) {
  if (!id) return undefined;
  return walk(def).find((p) => p.step.id === id);
}

/**
 * The ids of the steps upstream of `id` in its own list (its dependencies,
 * transitively), nearest first.
 * @param {StepDef[]} list
 * @param {number} index
 * @returns {string[]}
 */
export function ancestors(list, index) {
  const at = new Map(list.map((s, i) => [s?.id, i]));
  /** @type {string[]} */
  const out = [];
  const seen = new Set([list[index]?.id]);
  const queue = dependencies(list, index);
  while (queue.length) {
    const id = /** @type {string} */ (queue.shift());
    if (seen.has(id)) continue;
    seen.add(id);
    const i = at.get(id);
    if (i === undefined) continue;
    out.push(id);
    queue.push(...dependencies(list, i));
  }
  return out;
}

/**
 * The graph of a definition (tolerant of a draft: unknown or missing ids are skipped).
 * @param {Definition | null | undefined} def
 * @returns {Graph}
 */
export function toGraph(def) {
  /** @type {GraphNode[]} */
  const nodes = [];
  /** @type {GraphEdge[]} */
  const edges = [];
  // Every workflow can be started by hand and, while active, by its webhook
  // URL (`triggers.webhook` only says how it answers); a schedule is opt-in.
  const triggers = ["manual", "webhook"];
  const t = /** @type {Record<string, unknown>} */ (def?.triggers ?? {});
  if (t.schedule) triggers.push("schedule");
  const seen = new Set();

  /** @param {unknown} steps @param {string} path @param {string} [parent] */
  function list(steps, path, parent) {
    if (!Array.isArray(steps)) return;
    const here = new Set(steps.map((s) => s?.id).filter((id) => typeof id === "string"));
    steps.forEach((step, i) => {
      // A duplicate id is a problem validation names; drawn once.
      if (!step || typeof step.id !== "string" || seen.has(step.id)) return;
      seen.add(step.id);
      nodes.push({ id: step.id, kind: String(step.kind ?? "action"), parent, path: `${path}/${i}`, detail: detail(step), step });
      for (const dep of dependencies(steps, i)) {
        if (!here.has(dep) || dep === step.id) continue;
        const from = steps.find((s) => s?.id === dep);
        const label = branches(from).find((b) => b.target === step.id)?.label;
        const id = `${dep}->${step.id}`;
        if (edges.some((e) => e.id === id)) continue;
        edges.push({ id, source: dep, target: step.id, label, kind: label ? "branch" : "after" });
      }
      if (step.kind === "loop") list(step.body, `${path}/${i}/body`, step.id);
    });
  }
  list(def?.steps, "/steps");
  return { nodes, edges, triggers };
}

/**
 * The step a problem's JSON pointer is about (`/steps/2/input/x` → that
 * step's id), and the rest of the path (`input/x`).
 * @param {Definition | null | undefined} def
 * @param {string} pointer
 * @returns {{ step?: string; field: string }}
 */
export function locate(def, pointer) {
  const parts = pointer.split("/").slice(1);
  /** @type {unknown} */
  let steps = def?.steps;
  /** @type {StepDef | undefined} */
  let cur;
  let i = 0;
  // `steps/N`, then `body/N` while the step is a loop (a respond step's `body` is its answer).
  while (parts[i] === "steps" ? i === 0 : parts[i] === "body" && cur?.kind === "loop") {
    const list = /** @type {StepDef[] | undefined} */ (steps);
    const s = Array.isArray(list) && /^\d+$/.test(parts[i + 1] ?? "") ? list[Number(parts[i + 1])] : undefined;
    if (!s || typeof s !== "object") break;
    cur = s;
    steps = s.body;
    i += 2;
  }
  return { step: typeof cur?.id === "string" ? cur.id : undefined, field: parts.slice(i).join("/") };
}
