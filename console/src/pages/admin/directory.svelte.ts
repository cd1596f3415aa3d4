// Names for the ids the admin pages show (audit actors and targets, who issued
// an invitation, a usage line's workflow): members' emails, keys' names,
// workflows' names. Each list is read only if the role may read it; a list
// the server refuses is simply not used.
import { api, ok } from "../../lib/api/client";
import { can } from "../../lib/session.svelte";

export class Directory {
  names: Record<string, string> = $state({});

  /** A person-readable name for an id, if known. */
  name = (id: string): string | undefined => this.names[id];

  /** Who made something, in words: an email, a key's name, an invitation, the operator. */
  who = (id: string): string => {
    if (this.names[id]) return this.names[id];
    if (id.startsWith("invitation:")) return "an invitation";
    if (id.startsWith("op:")) return "the operator";
    return id;
  };

  async load() {
    const next: Record<string, string> = {};
    const jobs: Promise<void>[] = [];
    if (can("member")) {
      jobs.push(
        ok(api.GET("/v1/members")).then((r) => {
          for (const m of r.items) next[m.user_id] = m.email;
        }),
      );
    }
    if (can("owner")) {
      jobs.push(
        ok(api.GET("/v1/keys")).then((r) => {
          for (const k of r.items) next[k.id] = `API key “${k.name}”`;
        }),
      );
    }
    jobs.push(
      ok(api.GET("/v1/workflows", { params: { query: { limit: 500 } } })).then((r) => {
        for (const w of r.items) next[w.id] = w.name;
      }),
    );
    await Promise.allSettled(jobs);
    this.names = next;
  }
}
