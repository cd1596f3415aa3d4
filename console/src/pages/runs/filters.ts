// The runs list's filters as they are kept in the address (so a filtered view
// is a link), and the API query they make.
import type { Schemas } from "../../lib/api/client";

export type Status = Schemas["Status"];
export type Trigger = Schemas["Trigger"];

export const statuses: Status[] = ["pending", "running", "waiting", "completed", "failed", "cancelled"];
export const triggers: Trigger[] = ["manual", "webhook", "schedule", "subworkflow", "error", "mcp"];

/** Relative windows ("the last 24 hours" stays the last 24 hours when the link is opened later). */
export const windows: { value: string; label: string; ms: number }[] = [
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
];

export type Filters = {
  workflow: string;
  status: string;
  trigger: string;
  /** "", a relative window above, or "custom" (then `from`/`to`). */
  window: string;
  /** `datetime-local` values (the browser's zone): `2026-05-01T09:30`. */
  from: string;
  to: string;
  /** The paging cursor (`next` of the page before). */
  before: string;
};

export function fromQuery(q: URLSearchParams): Filters {
  const pick = (k: string, allowed?: readonly string[]) => {
    const v = q.get(k) ?? "";
    return allowed && !allowed.includes(v) ? "" : v;
  };
  return {
    workflow: pick("workflow"),
    status: pick("status", statuses),
    trigger: pick("trigger", triggers),
    window: pick("window", [...windows.map((w) => w.value), "custom"]),
    from: pick("from"),
    to: pick("to"),
    before: pick("before"),
  };
}

/** The query-string form (empty values are left out by `setQuery`). */
export function toQuery(f: Filters): Record<string, string> {
  const custom = f.window === "custom";
  return {
    workflow: f.workflow,
    status: f.status,
    trigger: f.trigger,
    window: f.window,
    from: custom ? f.from : "",
    to: custom ? f.to : "",
    before: f.before,
  };
}

export function isFiltered(f: Filters): boolean {
  return !!(f.workflow || f.status || f.trigger || f.window);
}

function localMs(v: string): number | undefined {
  if (!v) return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** The `from`/`to` bounds in Unix ms (`from` inclusive, `to` exclusive), at `now`. */
export function bounds(f: Filters, now = Date.now()): { from?: number; to?: number } {
  const rel = windows.find((w) => w.value === f.window);
  if (rel) return { from: now - rel.ms };
  if (f.window === "custom") return { from: localMs(f.from), to: localMs(f.to) };
  return {};
}

/** The `GET /v1/runs` query for these filters. */
export function apiQuery(f: Filters, limit: number, now = Date.now()) {
  const { from, to } = bounds(f, now);
  return {
    workflow_id: f.workflow || undefined,
    status: (f.status || undefined) as Status | undefined,
    trigger: (f.trigger || undefined) as Trigger | undefined,
    from,
    to,
    before: f.before || undefined,
    limit,
  };
}

export const live = (s: string) => s === "pending" || s === "running" || s === "waiting";
