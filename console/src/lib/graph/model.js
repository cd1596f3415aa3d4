// A workflow definition as a graph: one node per step (loop bodies nested in
// their loop), one edge per dependency, with the rules of docs/WORKFLOWS.md
// ("Steps"): `after` absent means the previous step of the same list, except
// for a step a `condition`/`switch` names as a branch, which waits for the
// branching step; `[]` is a root. Branch edges carry their label.

export type StepDef = Record<string, unknown> & { id?: string; kind?: string; after?: string[] };
export type Definition = Record<string, unknown> & { name?: string; steps?: StepDef[]; triggers?: Record<string, unknown> };

export type GraphNode = {
  id: string;
  kind: string;
  /** The loop this step is in the body of. */
  parent?: string;
  /** Its index path in the definition (`/steps/2/body/0`), for problems. */
  path: string;
  /** What to show under the id: `slack · post-message`, `if …`. */
  detail: string;
  step: StepDef;
};

export type GraphEdge = { id: string; source: string; target: string; label?: string; kind: "after" | "branch" | "trigger" };

export type Graph = { nodes: GraphNode[]; edges: GraphEdge[]; triggers: string[] };

/** The step ids a `condition` or `switch` names as branches, with their labels. */
export function branches(step: StepDef): { target: string; label: string }[] {
  const out: { target: string; label: string }[] = [];
  const ids = (v: unknown) => (typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
  if (step.kind === "condition") {
    for (const t of ids(step.then)) out.push({ target: t, label: "then" });
    for (const t of ids(step.else)) out.push({ target: t, label: "else" });
  } else if (step.kind === "switch") {
    const cases = Array.isArray(step.cases) ? (step.cases as { equals?: unknown; next?: unknown }[]) : [];
    for (const c of cases) {
      for (const t of Array.isArray(c?.next) ? c.next : []) {
        if (typeof t === "string") out.push({ target: t, label: `= ${JSON.stringify(c.equals)}` });
      }
    }
    for (const t of Array.isArray(step.default) ? step.default : []) {
      if (typeof t === "string") out.push({ target: t, label: "default" });
    }
  }
  return out;
}

/** The ids a step of `list` (at `index`) waits for. */
export function dependencies(list: StepDef[], index: number): string[] {
  const step = list[index];
  if (Array.isArray(step.after)) return step.after.filter((a): a is string => typeof a === "string");
  const branchers = list.filter((s) => branches(s).some((b) => b.target === step.id)).map((s) => String(s.id));
  if (branchers.length) return branchers;
  return index > 0 && typeof list[index - 1]?.id === "string" ? [String(list[index - 1].id)] : [];
}

export function detail(step: StepDef): string {
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

/** The graph of a definition (tolerant of a draft: unknown or missing ids are skipped). */
export function toGraph(def: Definition | null | undefined): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const triggers: string[] = ["manual"];
  const t = (def?.triggers ?? {}) as Record<string, unknown>;
  if (t.webhook) triggers.push("webhook");
  if (t.schedule) triggers.push("schedule");

  function list(steps: unknown, path: string, parent?: string) {
    if (!Array.isArray(steps)) return;
    const ids = new Set(steps.map((s) => s?.id).filter((id): id is string => typeof id === "string"));
    steps.forEach((step: StepDef, i: number) => {
      if (!step || typeof step.id !== "string") return;
      nodes.push({ id: step.id, kind: String(step.kind ?? "action"), parent, path: `${path}/${i}`, detail: detail(step), step });
      const branchTargets = new Map<string, string>();
      for (const b of branches(step)) branchTargets.set(b.target, b.label);
      for (const dep of dependencies(steps, i)) {
        if (!ids.has(dep)) continue;
        const from = steps.find((s) => s?.id === dep) as StepDef;
        const label = branches(from).find((b) => b.target === step.id)?.label;
        edges.push({ id: `${dep}->${step.id}`, source: dep, target: step.id, label, kind: label ? "branch" : "after" });
      }
      if (step.kind === "loop") list(step.body, `${path}/${i}/body`, step.id);
    });
  }
  list(def?.steps, "/steps");
  return { nodes, edges, triggers };
}

/** The step a problem's JSON pointer is about (`/steps/2/input/x` → that step's id), and the rest of the path. */
export function locate(def: Definition | null | undefined, pointer: string): { step?: string; field: string } {
  const parts = pointer.split("/").slice(1);
  let steps: unknown = def?.steps;
  let step: string | undefined;
  let i = 0;
  while (parts[i] === "steps" || parts[i] === "body") {
    const list = steps as StepDef[] | undefined;
    const s = Array.isArray(list) ? list[Number(parts[i + 1])] : undefined;
    if (!s) break;
    step = typeof s.id === "string" ? s.id : step;
    steps = s.body;
    i += 2;
  }
  return { step, field: parts.slice(i).join("/") };
}
