// What the run page derives from a run and its definition: which definition
// step a step key belongs to (loop iterations are `loop[i].step`), a status
// per graph node, each step's span on the run's time axis, the resource use
// an attempt reports.
import type { Schemas } from "../../lib/api/client";
import type { Definition, StepDef } from "../../lib/graph/model";

export type Run = Schemas["Run"];
export type Step = Schemas["Step"];
export type Attempt = Schemas["Attempt"];

/** The pseudo-step holding the trigger payload; shown as the run's input, not as a step. */
export const TRIGGER_KEY = "$trigger";

export const isLive = (s: string) => s === "pending" || s === "running" || s === "waiting";

/** `each[3].fetch` → `fetch`; `each` → `each`. */
export function defId(key: string): string {
  const last = key.slice(key.lastIndexOf(".") + 1);
  return last.replace(/\[\d+\]$/, "");
}

/** A step outside any loop body (the only ones a re-run can start from). */
export const isTopLevel = (key: string) => !key.includes(".") && !key.includes("[");

/** The definition's steps by id, loop bodies included, with the loop each is in. */
export function stepIndex(def: Definition | null | undefined): Map<string, { step: StepDef; loop?: string }> {
  const out = new Map<string, { step: StepDef; loop?: string }>();
  function walk(list: unknown, loop?: string) {
    if (!Array.isArray(list)) return;
    for (const s of list as StepDef[]) {
      if (!s || typeof s.id !== "string") continue;
      out.set(s.id, { step: s, loop });
      if (s.kind === "loop") walk(s.body, s.id);
    }
  }
  walk(def?.steps);
  return out;
}

/** The definition's top-level step ids, in order. */
export function topLevel(def: Definition | null | undefined): string[] {
  return Array.isArray(def?.steps) ? def.steps.map((s) => s?.id).filter((id): id is string => typeof id === "string") : [];
}

const rank: Record<string, number> = { failed: 6, running: 5, waiting: 4, pending: 3, cancelled: 2, completed: 1, skipped: 0 };

/**
 * One status per definition step for the graph: a loop body step that ran
 * many times shows its most pressing iteration (failed, then running,
 * waiting, pending, cancelled), and `completed` when any completed.
 */
export function nodeStatus(steps: Step[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of steps) {
    if (s.key === TRIGGER_KEY) continue;
    const id = defId(s.key);
    const cur = out[id];
    if (cur === undefined || (rank[s.status] ?? 0) > (rank[cur] ?? 0)) out[id] = s.status;
  }
  return out;
}

/** How many steps are in each status. */
export function counts(steps: Step[]): [string, number][] {
  const m = new Map<string, number>();
  for (const s of steps) if (s.key !== TRIGGER_KEY) m.set(s.status, (m.get(s.status) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => (rank[b[0]] ?? 0) - (rank[a[0]] ?? 0));
}

/**
 * When a step began (was created) and ended (`now` while it goes on), and how
 * much of that it spent queued: from its creation to its first attempt's
 * start (waiting for a worker), the rest being attempts and backoffs.
 */
export function span(s: Step, now: number): { start: number; end: number; queued: number } {
  const first = s.attempts[0]?.started_at;
  const start = Math.min(s.created_at, first ?? s.created_at);
  const last = s.attempts[s.attempts.length - 1];
  const end = Math.max(start, isLive(s.status) ? now : (last?.finished_at ?? s.updated_at));
  const queued = first === undefined ? 0 : Math.min(end, first) - start;
  return { start, end, queued };
}

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Round steps for a time axis: 1-2-5 in each unit, and the clock's own 15 and 30 (3, 6, 12 for hours). */
const STEPS = [
  1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500,
  SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC,
  MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 5 * DAY, 10 * DAY, 20 * DAY, 50 * DAY, 100 * DAY,
];

/** A tick's label: exact for a multiple of a round step ("1.5 s", "1 min 30 s", "2 h 30 min"). */
function tickLabel(v: number): string {
  if (v === 0) return "0";
  if (v < SEC) return `${v} ms`;
  if (v < MIN) return `${+(v / SEC).toFixed(3)} s`;
  const two = (big: number, bigName: string, small: number, smallName: string) => {
    const n = Math.floor(v / big);
    const rest = Math.round((v - n * big) / small);
    return rest ? `${n} ${bigName} ${rest} ${smallName}` : `${n} ${bigName}`;
  };
  if (v < HOUR) return two(MIN, "min", SEC, "s");
  if (v < DAY) return two(HOUR, "h", MIN, "min");
  return two(DAY, "d", HOUR, "h");
}

/**
 * The ticks of a time axis `total` ms long: the smallest round step giving at
 * most `max` intervals, each tick at `f` (0..1 along the axis) with a label
 * of its exact time, so labels are distinct (never "0, 1 ms, 1 ms, 2 ms").
 */
export function axisTicks(total: number, max = 5): { f: number; label: string }[] {
  const t = Math.max(1, total);
  const step = STEPS.find((s) => t / s <= max) ?? DAY * 10 ** Math.ceil(Math.log10(t / DAY / max));
  const out: { f: number; label: string }[] = [];
  for (let i = 0; i * step <= t; i++) out.push({ f: (i * step) / t, label: tickLabel(i * step) });
  return out;
}

/** What an attempt used, as the sandbox measured it (`weft_sandbox::Usage`). */
export type Usage = {
  wall_time_us?: number;
  peak_memory_bytes?: number;
  egress_requests?: number;
  egress_bytes_out?: number;
  egress_bytes_in?: number;
  log_bytes?: number;
  llm_input_tokens?: number;
  llm_output_tokens?: number;
  llm_cost_micros?: number;
};

export function usage(a: Attempt): Usage | null {
  const u = a.usage;
  if (!u || typeof u !== "object") return null;
  const out: Usage = {};
  for (const [k, v] of Object.entries(u as Record<string, unknown>)) if (typeof v === "number") (out as Record<string, number>)[k] = v;
  return out;
}

/** Whether the definition reads a step's output anywhere (so a rejection's payload can steer it). */
export function readsOutput(def: Definition | null | undefined, id: string): boolean {
  const text = JSON.stringify(def ?? {});
  return [`steps.${id}.`, `steps['${id}']`, `steps[\\"${id}\\"]`].some((p) => text.includes(p));
}

/** The step to show first: the failure, else an approval waiting, else what runs now. */
export function firstPick(run: Run, steps: Step[]): string | null {
  const failed = run.error?.step ? steps.find((s) => s.key === run.error?.step) : undefined;
  const pick =
    failed ??
    steps.find((s) => s.status === "failed") ??
    steps.find((s) => s.status === "waiting" && s.resume_url) ??
    steps.find((s) => s.status === "running") ??
    steps.find((s) => s.key !== TRIGGER_KEY);
  return pick?.key ?? null;
}
