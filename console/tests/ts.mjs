// Loads one of the console's self-contained TypeScript modules (no imports)
// into Node for a unit test: Vite's own transform strips the types, and the
// result is imported from a data: URL.
import { readFileSync } from "node:fs";
import { transformWithOxc } from "vite";

export async function importTs(path) {
  const file = new URL(path, import.meta.url);
  const { code } = await transformWithOxc(readFileSync(file, "utf8"), file.pathname);
  if (/^\s*import\s/m.test(code)) throw new Error(`${path} imports other modules; importTs loads self-contained ones only`);
  return import("data:text/javascript;base64," + Buffer.from(code).toString("base64"));
}
