// The credentials page: create through the form (the secret is write-only
// and never appears in the page afterwards), which workflows use each, delete
// with confirmation, roles, and names that carry markup shown as text.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

const SECRET = "sk-live-7f3a9c1e-DO-NOT-SHOW-0042";
const XSS = "<img src=x onerror=window.__xss=1>";

let server, owner, viewer;
before(async () => {
  server = await startServer();
  owner = await makeUser(server, "cora@acme.test", "owner");
  viewer = await makeUser(server, "val@acme.test", "viewer");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

/** Everything the page holds: its markup, every field's value, and its storage. */
async function everything(page) {
  return page.evaluate(() => [
    document.documentElement.outerHTML,
    ...[...document.querySelectorAll("input, textarea")].map((e) => e.value),
    JSON.stringify({ ...localStorage }),
    JSON.stringify({ ...sessionStorage }),
  ].join("\n"));
}

test("with no credential, the page says what they are for and how to add one", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByText("No credentials yet").waitFor();
  assert.equal(await page.getByRole("button", { name: "New credential" }).count(), 2, "in the header and in the empty state");
  await shot(page, "credentials-empty");
  await expectClean(page, assert);
  await page.context().close();
});

test("a credential created through the form: the secret is sent once and never shown; where it is used", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByRole("button", { name: "New credential" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New credential" });
  await dialog.getByLabel(/^Name/).fill("billing-api");
  const secret = dialog.getByLabel(/^Secret/);
  assert.equal(await secret.getAttribute("type"), "password");
  await secret.fill(SECRET);
  await dialog.getByLabel(/^Hosts/).fill("api.billing.test, *.billing.test");
  await dialog.getByLabel("Sent as").selectOption("header");
  await dialog.getByLabel("Header name").fill("X-Api-Key");
  await shot(page, "credentials-new");
  await expectClean(page, assert);
  await dialog.getByRole("button", { name: "Store the credential" }).click();
  await dialog.waitFor({ state: "hidden" });
  const row = page.getByRole("row").filter({ hasText: "billing-api" });
  await row.waitFor();
  assert.match(await row.innerText(), /api\.billing\.test/);
  assert.match(await row.innerText(), /\*\.billing\.test/);
  assert.match(await row.innerText(), /header X-Api-Key/);
  await page.getByText("Stored billing-api. Its secret is sealed").waitFor();

  // The secret is nowhere in the page, and the form comes back empty.
  assert.ok(!(await everything(page)).includes(SECRET), "the secret is in the page after saving");
  await page.getByRole("button", { name: "New credential" }).click();
  assert.equal(await page.getByRole("dialog").getByLabel(/^Secret/).inputValue(), "");
  await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();

  // The server stored it as asked, and answers no secret.
  const list = await server.call("GET", "/v1/credentials");
  const stored = list.items.find((c) => c.name === "billing-api");
  assert.deepEqual(stored.injection, { type: "header", name: "X-Api-Key" });
  assert.deepEqual(stored.hosts, ["api.billing.test", "*.billing.test"]);
  assert.ok(!JSON.stringify(list).includes(SECRET));

  // Two workflows bind it (a grant and a webhook signature); one does not.
  const billing = await server.call("POST", "/v1/workflows", {
    name: "charge-customers",
    grants: { hosts: ["api.billing.test"], credentials: { "http/auth": "billing-api" } },
    steps: [{ id: "charge", kind: "action", connector: "http", action: "request", input: { method: "POST", url: "https://api.billing.test/charge" } }],
  });
  const hook = await server.call("POST", "/v1/workflows", {
    name: "billing-events",
    triggers: { webhook: { mode: "async", signature: { scheme: "github", credential: "billing-api" } } },
    steps: [{ id: "noop", kind: "wait", duration_ms: 1 }],
  });
  await server.call("POST", "/v1/workflows", { name: "unrelated", steps: [{ id: "noop", kind: "wait", duration_ms: 1 }] });
  await page.reload();
  const used = page.getByRole("row").filter({ hasText: "billing-api" });
  await used.getByRole("link", { name: "charge-customers" }).waitFor();
  assert.match(await used.innerText(), /charge-customers \(grants http\/auth\)/);
  assert.match(await used.innerText(), /billing-events \(webhook signature\)/);
  assert.equal(await used.getByRole("link", { name: "unrelated" }).count(), 0);
  assert.ok(!(await everything(page)).includes(SECRET));
  await shot(page, "credentials-list");
  await expectClean(page, assert);
  await used.getByRole("link", { name: "billing-events" }).click();
  await page.waitForURL(`/workflows/${hook.id}`);
  // The workflow's page names the signing credential too.
  await page.getByText(/must carry a github signature/).waitFor();
  assert.ok(billing.id);
  await page.context().close();
});

test("a name the server refuses is shown on the form, and what was typed stays", async () => {
  const page = await newPage(server, { colorScheme: "dark" });
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByRole("row").filter({ hasText: "billing-api" }).waitFor();
  await page.getByRole("button", { name: "New credential" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(/^Name/).fill("billing-api");
  await dialog.getByLabel(/^Secret/).fill("another secret");
  await dialog.getByLabel(/^Hosts/).fill("api.billing.test");
  await dialog.getByRole("button", { name: "Store the credential" }).click();
  await dialog.getByRole("alert").waitFor();
  assert.match(await dialog.getByRole("alert").innerText(), /billing-api|exists|conflict/i);
  assert.equal(await dialog.getByLabel(/^Name/).inputValue(), "billing-api");
  await shot(page, "credentials-conflict-dark");
  await expectClean(page, assert);
  await page.context().close();
});

test("a viewer sees the credentials but cannot add or delete one", async () => {
  const page = await newPage(server);
  await login(page, viewer);
  await page.goto("/credentials");
  await page.getByRole("row").filter({ hasText: "billing-api" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "New credential" }).count(), 0);
  assert.equal(await page.getByRole("button", { name: /^Delete/ }).count(), 0);
  await expectClean(page, assert);
  await page.context().close();
});

test("a name carrying markup is text", async () => {
  await server.call("POST", "/v1/credentials", { name: XSS, secret: "s3cr3t-value-xyz", hosts: ["x.test"], injection: { type: "bearer" } });
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByText(XSS, { exact: true }).waitFor();
  assert.equal(await page.locator("main img").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.ok(!(await everything(page)).includes("s3cr3t-value-xyz"));
  await page.context().close();
});

test("delete asks first, says which workflows use it, then it is gone", async () => {
  const page = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByRole("button", { name: "Delete billing-api" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete billing-api?" });
  await dialog.getByText("2 workflows use it by name").waitFor();
  await dialog.getByRole("link", { name: "charge-customers" }).waitFor();
  await shot(page, "credentials-delete-phone");
  await expectClean(page, assert);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.ok((await server.call("GET", "/v1/credentials")).items.some((c) => c.name === "billing-api"), "cancel deletes nothing");
  await page.getByRole("button", { name: "Delete billing-api" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete the credential" }).click();
  await page.getByText("Deleted billing-api.").waitFor();
  await page.getByRole("row").filter({ hasText: "billing-api" }).waitFor({ state: "detached" });
  assert.ok(!(await server.call("GET", "/v1/credentials")).items.some((c) => c.name === "billing-api"));
  await page.context().close();
});

test("an OAuth2 credential: the Authorize button opens the provider, which sends the browser back to the callback", async () => {
  // A stand-in provider on loopback: consent at once, a token for the code.
  const http = await import("node:http");
  const provider = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/authorize") {
      const back = new URL(url.searchParams.get("redirect_uri"));
      back.searchParams.set("code", "code-1");
      back.searchParams.set("state", url.searchParams.get("state"));
      res.writeHead(302, { location: back.toString() }).end();
    } else if (url.pathname === "/token" && req.method === "POST") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: "at-console-1", refresh_token: "rt-console-1", expires_in: 3600 }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => provider.listen(0, "127.0.0.1", r));
  const at = `http://127.0.0.1:${provider.address().port}`;
  try {
    await server.call("POST", "/v1/credentials", {
      name: "crm-oauth",
      secret: "client-secret-value",
      hosts: ["api.crm.test"],
      injection: { type: "oauth2", grant: "authorization_code", authorize_url: `${at}/authorize`, token_url: `${at}/token`, client_id: "weft" },
    });
    const page = await newPage(server);
    await login(page, owner);
    await page.goto("/credentials");
    const row = page.getByRole("row").filter({ hasText: "crm-oauth" });
    await row.waitFor();
    assert.match(await row.innerText(), /OAuth2 token \(authorized by a user\)/);
    await expectClean(page, assert);
    const [popup] = await Promise.all([
      page.context().waitForEvent("page"),
      row.getByRole("button", { name: "Authorize crm-oauth" }).click(),
    ]);
    await popup.waitForURL(/\/oauth\/callback\?/);
    await popup.getByRole("heading", { name: "Authorized" }).waitFor();
    assert.match(await popup.innerText("body"), /crm-oauth/);
    assert.ok(!(await popup.content()).includes("at-console-1"), "the token is not in the page");
    await page.getByText(/Opened crm-oauth's provider/).waitFor();
    await page.context().close();
  } finally {
    provider.close();
  }
});
