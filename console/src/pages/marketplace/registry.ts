// What the marketplace pages share: the registry's types, a cached and
// throttled reader of versions (the result cards show each package's
// disclosure), the tenant's installs and bundled connectors, and pins.
import { api, ok, type Schemas } from "../../lib/api/client";

export type Package = Schemas["Package"];
export type Version = Schemas["Version"];
export type Install = Schemas["Install"];
export type PackageDetail = Schemas["PackageDetail"];

export const installable = (v: Version) => !v.yanked && !v.taken_down;

// ---- versions, read a few at a time and kept for the session -----------

const cache = new Map<string, Promise<Version>>();
const queue: (() => void)[] = [];
let running = 0;
const PARALLEL = 4;

function throttled<T>(job: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const start = () => {
      running++;
      job()
        .then(resolve, reject)
        .finally(() => {
          running--;
          queue.shift()?.();
        });
    };
    if (running < PARALLEL) start();
    else queue.push(start);
  });
}

/** One version (its disclosure, manifest, README), read once. */
export function getVersion(publisher: string, name: string, version: string): Promise<Version> {
  const key = `${publisher}/${name}@${version}`;
  let p = cache.get(key);
  if (!p) {
    p = throttled(() =>
      ok(api.GET("/v1/registry/packages/{publisher}/{name}/versions/{version}", { params: { path: { publisher, name, version } } })),
    );
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

// ---- what the tenant has ----------------------------------------------

export type Catalog = { installs: Map<string, Install>; bundled: Set<string> };

/** The tenant's installs by `publisher/name`, and the names of the bundled connectors. */
export async function loadCatalog(): Promise<Catalog> {
  const [installs, connectors] = await Promise.all([
    ok(api.GET("/v1/installs")).catch(() => ({ items: [] as Install[] })),
    ok(api.GET("/v1/connectors")).catch(() => ({ items: [] as Schemas["Connector"][] })),
  ]);
  return {
    installs: new Map(installs.items.map((i) => [i.package, i])),
    bundled: new Set(connectors.items.filter((c) => c.source === "bundled").map((c) => c.name)),
  };
}

/** A first-party connector that the server bundles: every tenant has it already. */
export const isBundled = (c: Catalog, p: { publisher: string; name: string; kind: string }) =>
  p.kind === "connector" && p.publisher === "weft" && c.bundled.has(p.name);

// ---- pins (registry/src/pin.rs) -----------------------------------------

function parts(v: string): [number, number, number, string] {
  const [core, pre = ""] = v.split("-", 2);
  const [a, b, c] = core.split(".").map((x) => parseInt(x, 10));
  return [a || 0, b || 0, c || 0, pre];
}

/** The pin an install gets by default: `^1` for 1.x, `^0.3` for 0.3.x. */
export function caret(version: string): string {
  const [major, minor] = parts(version);
  return major > 0 ? `^${major}` : `^0.${minor}`;
}

/** Whether `pin` (`=1.2.3`, `^1`, `^0.3`) allows `version`. */
export function allows(pin: string, version: string): boolean {
  if (pin.startsWith("=")) return pin.slice(1) === version;
  const [major, minor, , pre] = parts(version);
  if (pre) return false;
  const want = pin.replace(/^\^/, "").split(".").map((x) => parseInt(x, 10));
  return want[0] === 0 ? major === 0 && minor === want[1] : major === want[0];
}

/** The pin after an upgrade to `version` (the server moves it as `cargo add` does). */
export function pinAfter(pin: string, version: string): string {
  if (allows(pin, version)) return pin;
  return pin.startsWith("=") ? `=${version}` : caret(version);
}

/** "the installs count" in words. */
export function installsText(n: number): string {
  return n === 1 ? "1 install" : `${n.toLocaleString()} installs`;
}
