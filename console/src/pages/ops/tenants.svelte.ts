// Every tenant, for the operator pages that name tenants by id (usage lines,
// audit entries).
import { api, ok, type Schemas } from "../../lib/api/client";

export class TenantDirectory {
  list: Schemas["Tenant"][] = $state([]);
  error: unknown = $state(null);
  loaded = $state(false);

  /** A tenant's name, if known. */
  name = (id: string): string | undefined => this.list.find((t) => t.id === id)?.name;

  async load() {
    try {
      this.list = (await ok(api.GET("/v1/ops/tenants"))).items;
      this.error = null;
    } catch (e) {
      this.error = e;
    } finally {
      this.loaded = true;
    }
  }
}

/** Where a tenant is, in words. */
export function stateText(s: Schemas["TenantState"]): string {
  switch (s.state) {
    case "active":
      return "Active";
    case "suspended":
      return `Suspended: ${s.reason}`;
    case "deleting":
      return `Being deleted: erased ${new Date(s.erase_after).toLocaleString()} unless resumed before`;
    case "erasing":
      return "Being erased (final)";
  }
}
