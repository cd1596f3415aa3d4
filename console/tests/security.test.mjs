// The console's own defences (TEST-PLAN C1, C2; TENANCY U2): the CSP is sent
// and enforced, the page cannot be framed, another origin cannot act with a
// signed-in user's cookie, and the sources hold no way to inject markup.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { closeBrowser, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

let server, user, evil, evilBase;
before(async () => {
  server = await startServer();
  user = await makeUser(server, "sec@acme.test");
  // Another origin (same host, another port: the same *site*, so SameSite
  // cookies are sent; only the CSRF token and the Origin check stand).
  evil = createServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><title>evil</title>
      <iframe id="frame" src="${server.base}/"></iframe>
      <form id="form" method="POST" action="${server.base}/v1/workflows" enctype="text/plain">
        <input name='{"name":"csrf-form","steps":[{"id":"a","kind":"wait","duration_ms":1,"x":"' value='"}]}'>
      </form>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  evilBase = `http://127.0.0.1:${evil.address().port}`;
});
after(async () => {
  await closeBrowser();
  await server?.stop();
  evil?.close();
});

async function workflowNames() {
  const page = await server.call("GET", "/v1/workflows?limit=100");
  return page.items.map((w) => w.name);
}

test("every console answer carries the CSP, and the CSP is enforced", async () => {
  for (const path of ["/", "/runs/run_x", "/favicon.svg"]) {
    const res = await fetch(server.base + path);
    const csp = res.headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self';/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.equal(res.headers.get("x-frame-options"), "DENY", path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
  }
  const page = await newPage(server);
  await login(page, user);
  // An inline script injected into the live page does not run.
  const ran = await page.evaluate(async () => {
    const blocked = new Promise((r) => document.addEventListener("securitypolicyviolation", (e) => r(e.violatedDirective), { once: true }));
    const s = document.createElement("script");
    s.textContent = "window.__inline = 1";
    document.head.appendChild(s);
    return { directive: await blocked, inline: window.__inline ?? null };
  });
  assert.equal(ran.inline, null, "the inline script ran");
  assert.match(ran.directive, /script-src/);
  await page.context().close();
});

test("another origin cannot frame the console or act with the user's cookie", async () => {
  const page = await newPage(server);
  await login(page, user);
  const before = await workflowNames();
  const refused = [];
  page.on("console", (m) => /frame|ancestors/i.test(m.text()) && refused.push(m.text()));
  await page.goto(evilBase + "/");
  await page.waitForTimeout(500);
  assert.ok(refused.some((t) => /frame-ancestors|X-Frame-Options/i.test(t)), `framing refused: ${refused}`);
  // A cross-origin fetch with the cookie (a "simple" request, no preflight)
  // and a cross-origin form post: both must change nothing.
  await page.evaluate(async (base) => {
    await fetch(base + "/v1/workflows", {
      method: "POST",
      credentials: "include",
      mode: "no-cors",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ name: "csrf-fetch", steps: [{ id: "a", kind: "wait", duration_ms: 1 }] }),
    }).catch(() => {});
  }, server.base);
  await Promise.all([page.waitForURL(/\/v1\/workflows/), page.evaluate(() => document.getElementById("form").submit())]);
  const body = await page.textContent("body");
  assert.match(body, /"code":"csrf"/, `the form post carried the cookie and was refused for its missing token: ${body}`);
  await shot(page, "security-csrf-refused");
  assert.deepEqual(await workflowNames(), before, "nothing was created");
  // The console's own origin without the token is refused too.
  await page.goto("/");
  const status = await page.evaluate(async () => (await fetch("/v1/workflows", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "no-token", steps: [{ id: "a", kind: "wait", duration_ms: 1 }] }),
  })).status);
  assert.equal(status, 403);
  assert.deepEqual(await workflowNames(), before, "nothing was created");
  await page.context().close();
});

test("the console's sources never inject markup or evaluate strings", () => {
  const src = new URL("../src", import.meta.url).pathname;
  const banned = [/\{@html/, /\.innerHTML\b/, /\.outerHTML\s*=/, /insertAdjacentHTML/, /\beval\s*\(/, /new Function\s*\(/, /document\.write/];
  const found = [];
  (function walk(dir) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(svelte|ts|js)$/.test(name) && !name.endsWith(".d.ts")) {
        readFileSync(path, "utf8").split("\n").forEach((line, i) => {
          for (const b of banned) if (b.test(line)) found.push(`${path}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  })(src);
  assert.deepEqual(found, []);
});
