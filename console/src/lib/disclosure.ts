// A connector's capability disclosure (derived by the server from the
// component, never typed by its publisher) in plain words, and the
// difference between two disclosures (what an upgrade adds and removes).
import type { Schemas } from "./api/client";

export type Disclosure = Schemas["Disclosure"];

export type CapabilityKind = "network" | "credential" | "state" | "import";

/** One thing a connector can (or cannot) do; `key` identifies it across versions. */
export type Capability = { key: string; kind: CapabilityKind; text: string; note?: string };

function host(pattern: string): { text: string; note?: string } {
  if (pattern === "*") return { text: "any host", note: "*" };
  if (pattern.startsWith("*.")) return { text: `any host under ${pattern.slice(2)}`, note: pattern };
  return { text: pattern };
}

const IMPORTS: Record<string, string> = {
  http: "Uses the host's HTTP interface (only to the hosts listed)",
  log: "Writes messages to the logs of its runs",
  state: "Uses the host's key-value store",
};

/** The disclosure as sentences: network, credentials, state. */
export function capabilities(d: Disclosure): Capability[] {
  const out: Capability[] = [];
  if (d.network.length === 0) out.push({ key: "net:none", kind: "network", text: "No network access" });
  for (const h of d.network) {
    const w = host(h);
    out.push({ key: `net:${h}`, kind: "network", text: `Can send requests to ${w.text}`, note: w.note });
  }
  for (const [slot, hosts] of Object.entries(d.credentials)) {
    if (hosts.length === 0) {
      out.push({ key: `cred:${slot}:`, kind: "credential", text: "Can receive a credential you give it, but send it to no host", note: `slot ${slot}` });
    }
    for (const h of hosts) {
      const w = host(h);
      out.push({
        key: `cred:${slot}:${h}`,
        kind: "credential",
        text: `Can use a credential you give it for ${w.text}`,
        note: w.note ? `${w.note}, slot ${slot}` : `slot ${slot}`,
      });
    }
  }
  out.push(
    d.state
      ? { key: "state:yes", kind: "state", text: "Keeps state between runs" }
      : { key: "state:no", kind: "state", text: "Keeps no state between runs" },
  );
  return out;
}

/** The host interfaces it imports, in words (`types` holds only type definitions: no capability). */
export function imports(d: Disclosure): Capability[] {
  return d.imports.filter((i) => i !== "types").map((i) => ({ key: `import:${i}`, kind: "import" as const, text: IMPORTS[i] ?? `Imports the host interface ${i}`, note: i }));
}

export type Change = Capability & { change: "added" | "removed" | "same" };

/**
 * What `to` can do against `from`, line by line: the new version's lines
 * (added or the same) in order, then the lines it no longer has.
 */
export function diff(from: Disclosure, to: Disclosure): Change[] {
  const before = [...capabilities(from), ...imports(from)];
  const after = [...capabilities(to), ...imports(to)];
  const had = new Set(before.map((c) => c.key));
  const has = new Set(after.map((c) => c.key));
  return [
    ...after.map((c) => ({ ...c, change: had.has(c.key) ? ("same" as const) : ("added" as const) })),
    ...before.filter((c) => !has.has(c.key)).map((c) => ({ ...c, change: "removed" as const })),
  ];
}

const name = (pattern: string) => (pattern === "*" ? "any host" : pattern);

/** One short line for a result card: what it reaches. */
export function summary(d: Disclosure): string {
  const parts: string[] = [];
  if (d.network.length === 0) parts.push("No network access");
  else parts.push(`Calls ${name(d.network[0])}${d.network.length > 1 ? ` and ${d.network.length - 1} more` : ""}`);
  const slots = Object.values(d.credentials).flat();
  if (slots.length) parts.push(`uses a credential for ${name(slots[0])}${slots.length > 1 ? ` and ${slots.length - 1} more` : ""}`);
  if (d.state) parts.push("keeps state");
  return parts.join("; ");
}
