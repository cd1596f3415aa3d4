// Which workflows use which credential, read from their definitions
// (docs/WORKFLOWS.md "Credentials" and "Signed webhooks"): a binding in
// `grants.credentials` (`connector/slot` or a bare slot), a step's own
// `credentials` (loop bodies included), and a webhook's signature secret.
// Credentials are bound by name.
import { api, ok, type Schemas } from "../../lib/api/client";

export type Use = { workflowId: string; workflowName: string; where: string[] };
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Each credential name the definition refers to, with where (in words). */
export function credentialRefs(def: unknown): { credential: string; where: string }[] {
  const out: { credential: string; where: string }[] = [];
  if (!isObj(def)) return out;
  const grants = isObj(def.grants) && isObj(def.grants.credentials) ? def.grants.credentials : {};
  for (const [binding, name] of Object.entries(grants)) {
    if (typeof name === "string") out.push({ credential: name, where: `grants ${binding}` });
  }
  const steps = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const s of list) {
      if (!isObj(s)) continue;
      if (isObj(s.credentials)) {
        for (const [slot, name] of Object.entries(s.credentials)) {
          if (typeof name === "string") out.push({ credential: name, where: `step ${String(s.id)} (${slot})` });
        }
      }
      steps(s.body);
    }
  };
  steps(def.steps);
  const hook = isObj(def.triggers) && isObj(def.triggers.webhook) ? def.triggers.webhook : {};
  if (isObj(hook.signature) && typeof hook.signature.credential === "string") {
    out.push({ credential: hook.signature.credential, where: "webhook signature" });
  }
  return out;
}

/** Every workflow of the tenant (all pages). */
async function allWorkflows(): Promise<Schemas["Workflow"][]> {
  const items: Schemas["Workflow"][] = [];
  let before: string | undefined;
  do {
    const page = await ok(api.GET("/v1/workflows", { params: { query: { limit: 500, before } } }));
    items.push(...page.items);
    before = page.next ?? undefined;
  } while (before);
  return items;
}

/**
 * Credential name → the workflows that use it. Reads every workflow's
 * definition, four at a time; `progress(done, total)` after each.
 */
export async function usage(progress: (done: number, total: number) => void): Promise<Map<string, Use[]>> {
  const list = await allWorkflows();
  const uses = new Map<string, Use[]>();
  let done = 0;
  progress(0, list.length);
  const queue = [...list];
  const worker = async () => {
    for (let w = queue.shift(); w; w = queue.shift()) {
      const full = await ok(api.GET("/v1/workflows/{id}", { params: { path: { id: w.id } } })).catch(() => null);
      const byName = new Map<string, string[]>();
      for (const r of credentialRefs(full?.definition)) byName.set(r.credential, [...(byName.get(r.credential) ?? []), r.where]);
      for (const [name, where] of byName) {
        uses.set(name, [...(uses.get(name) ?? []), { workflowId: w.id, workflowName: w.name, where }]);
      }
      progress(++done, list.length);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  for (const u of uses.values()) u.sort((a, b) => a.workflowName.localeCompare(b.workflowName));
  return uses;
}
