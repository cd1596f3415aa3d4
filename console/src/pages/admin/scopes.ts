// The scope grammar of API keys (docs/TENANCY.md section 4):
// `resource:verb[:id]`, at most 32 a key.

export type ScopeResource = { name: string; verbs: string[]; id: string | null };

export const RESOURCES: ScopeResource[] = [
  { name: "workflows", verbs: ["read", "write"], id: "the workflow" },
  { name: "runs", verbs: ["read", "start", "resume", "cancel"], id: "the runs' workflow" },
  { name: "credentials", verbs: ["read", "write"], id: "the credential" },
  { name: "connectors", verbs: ["read"], id: null },
  { name: "registry", verbs: ["read", "write"], id: null },
  { name: "installs", verbs: ["read", "write"], id: "the install" },
  { name: "usage", verbs: ["read"], id: null },
  { name: "audit", verbs: ["read", "write"], id: "the dead letter" },
  { name: "keys", verbs: ["read", "write"], id: "the key" },
  { name: "members", verbs: ["read", "write"], id: "the user" },
  { name: "notifications", verbs: ["read", "write"], id: "the rule" },
];

export const MAX_SCOPES = 32;

/** What is wrong with a scope, or null (the server checks again). */
export function scopeProblem(scope: string): string | null {
  const parts = scope.split(":");
  if (parts.length < 2 || parts.length > 3) return `\`${scope}\` is not resource:verb or resource:verb:id`;
  const [resource, verb, id] = parts;
  const r = RESOURCES.find((x) => x.name === resource);
  if (!r) return `unknown resource \`${resource}\` (one of ${RESOURCES.map((x) => x.name).join(", ")})`;
  if (!r.verbs.includes(verb)) return `\`${resource}\` has no verb \`${verb}\` (${r.verbs.join(", ")})`;
  if (id !== undefined && (!id || !r.id)) return r.id ? `the id after \`${resource}:${verb}:\` is empty` : `\`${resource}\` scopes take no id`;
  return null;
}

/** A scope in words: "start runs of wf_…". */
export function describeScope(scope: string, name: (id: string) => string | undefined = () => undefined): string {
  const [resource, verb, id] = scope.split(":");
  const what = id ? ` (${name(id) ?? id})` : "";
  if (resource === "runs" && verb !== "read") return `${verb} runs${id ? ` of one workflow${what}` : ""}`;
  return `${verb} ${resource}${what}`;
}
