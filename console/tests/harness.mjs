// What every browser test shares: a real `weft serve` on loopback (the binary
// the Rust build made, with the console built into it), a real Chromium
// (Debian's, driven by playwright-core; no browser is ever downloaded), and
// helpers for signing in, screenshots, accessibility and the CSP.
//
// Environment:
//   WEFT_BIN         the weft binary (default $CARGO_TARGET_DIR/debug/weft)
//   WEFT_CONNECTORS  folder of the bundled connectors' .wasm files
//                    (default $CARGO_TARGET_DIR/wasm32-wasip2/release)
//   WEFT_CONSOLE_DIR serve this built console instead of the embedded one
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   WEFT_SCREENSHOTS where screenshots go (default test-results/screenshots)
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const target = process.env.CARGO_TARGET_DIR || join(process.env.HOME, ".cache/weft/target");
export const wasmDir = process.env.WEFT_WASM_DIR || join(target, "wasm32-wasip2/release");
const bin = process.env.WEFT_BIN || join(target, "debug/weft");
export const screenshots = process.env.WEFT_SCREENSHOTS || new URL("../test-results/screenshots", import.meta.url).pathname;
mkdirSync(screenshots, { recursive: true });

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `weft serve` with the bundled connectors on a free loopback port. */
export async function startServer({ env = {} } = {}) {
  const data = mkdtempSync(join(tmpdir(), "weft-console-test-"));
  const plugins = join(data, "connectors");
  mkdirSync(plugins);
  for (const c of ["http", "transform", "llm", "slack"]) {
    cpSync(join(wasmDir, `weft_plugin_${c}.wasm`), join(plugins, `weft_plugin_${c}.wasm`));
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["serve", "--data-dir", join(data, "weft")], {
    env: {
      // weft refuses WEFT_* variables it does not know: pass on only its own.
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("WEFT_") || k === "WEFT_CONSOLE_DIR"),
      ),
      WEFT_LISTEN: `127.0.0.1:${port}`,
      WEFT_PLUGINS: plugins,
      WEFT_LOG: process.env.WEFT_LOG || "warn",
      // Loopback stand-ins are allowed as egress targets in tests.
      WEFT_SANDBOX_EGRESS_ALLOW_PRIVATE: "true",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + 60_000;
  let key, opKey;
  while (Date.now() < deadline) {
    key = /Bootstrap API key[^\n]*\n\n\s+(\S+)/.exec(log)?.[1];
    opKey = /Operator key[^\n]*\n\n\s+(\S+)/.exec(log)?.[1];
    if (key && opKey) {
      try {
        if ((await fetch(base + "/readyz")).ok) break;
      } catch {}
    }
    if (child.exitCode !== null) throw new Error(`weft serve exited: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!key || !opKey) throw new Error(`weft serve did not start in 60 s: ${log}`);
  const server = {
    base,
    key,
    opKey,
    data,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(data, { recursive: true, force: true });
    },
    /** A call to the API with the owner key (or `as`): the parsed answer; throws on an error answer. */
    async call(method, path, body, as = key) {
      const res = await this.send(method, path, body, as);
      const text = await res.text();
      const json = text ? JSON.parse(text) : null;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return json;
    },
    send(method, path, body, as = key) {
      const headers = { authorization: `Bearer ${as}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      return fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    },
  };
  return server;
}

/** A user with a password, in the default tenant with `role` (invited by the owner key). */
export async function makeUser(server, email, role = "owner", password = "correct horse battery staple") {
  const inv = await server.call("POST", "/v1/invitations", { email, role });
  await server.call("POST", "/v1/auth/accept-invitation", { token: inv.token, password }, "");
  return { email, password };
}

let browserPromise;
/** The one Chromium of this test process. */
export function browser() {
  browserPromise ??= chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  return browserPromise;
}

export async function closeBrowser() {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = undefined;
}

/**
 * A fresh page (its own cookies) at 1280×800 (or `viewport`). Every CSP
 * violation and uncaught error on it is recorded in `page.problems`, which
 * `expectClean` checks.
 */
export async function newPage(server, { viewport = { width: 1280, height: 800 }, colorScheme = "light" } = {}) {
  const context = await (await browser()).newContext({ viewport, colorScheme, baseURL: server.base });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) page.problems.push(m.text());
  });
  page.on("pageerror", (e) => page.problems.push(`uncaught: ${e.message}`));
  page.setDefaultTimeout(15_000);
  return page;
}

/** Signs in through the login form. */
export async function login(page, user) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

/** A full-page screenshot, `name.png` in the screenshots folder. */
export async function shot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * The page's serious and critical accessibility violations (axe-core, WCAG 2
 * A/AA rules). Evaluated through the DevTools protocol, so the page's CSP
 * (no inline scripts) stays in force.
 */
export async function axe(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}

/** Fails when the page had a CSP violation or an uncaught error, or has serious accessibility violations. */
export async function expectClean(page, assert) {
  assert.deepEqual(page.problems, [], "no CSP violation or uncaught error");
  assert.deepEqual(await axe(page), [], "no serious accessibility violation");
}
