// Words for notification rules.
import type { Schemas } from "../../lib/api/client";

export const EVENTS: { value: Schemas["NotifyEvent"]; label: string; help: string }[] = [
  { value: "run_failed", label: "A run failed", help: "Each run that ends failed." },
  { value: "run_waiting", label: "A run waits for someone", help: "A step waits for an approval (resume or reject)." },
  { value: "run_recovered", label: "A workflow recovered", help: "A run completed after the workflow's previous finished run failed." },
];

export const eventLabel = (e: string) => EVENTS.find((x) => x.value === e)?.label ?? e;

/** The fields a connector target's strings may use as `{{ event.<field> }}`. */
export const EVENT_FIELDS = ["type", "tenant_id", "workflow_id", "workflow_name", "workflow_version", "run_id", "status", "error", "step", "at", "link"];

/** A first input for an action: its required string fields, and a text field with a sentence about the event. */
export function sampleInput(schema: unknown): string {
  const s = schema as { properties?: Record<string, { type?: string }>; required?: string[] } | null;
  const out: Record<string, string> = {};
  const sentence = "{{ event.workflow_name }}: run {{ event.run_id }} is {{ event.status }} {{ event.link }}";
  for (const [name, prop] of Object.entries(s?.properties ?? {})) {
    if (prop?.type !== "string") continue;
    if (["text", "message", "body"].includes(name)) out[name] = sentence;
    else if (s?.required?.includes(name)) out[name] = "";
  }
  return JSON.stringify(out, null, 2);
}

/** A target in one line. */
export function targetText(t: Schemas["NotifyTarget"]): string {
  return t.type === "webhook" ? t.url : `${t.connector} · ${t.action}`;
}
