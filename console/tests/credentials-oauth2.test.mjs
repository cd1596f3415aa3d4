// OAuth2 credentials on the credentials page: created through the form
// (authorization code with PKCE, and client credentials), shown as awaiting
// authorization until the user is sent to the provider, authorized through a
// stand-in provider on loopback (its consent page answers at once and its
// token endpoint issues tokens), and shown as needing authorization again
// once the provider refuses the refresh token (a step's refresh gets
// `invalid_grant`).
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

const CLIENT_SECRET = "oauth-client-secret-DO-NOT-SHOW-77";
let server, owner, provider, at;
// What the provider's token endpoint was asked, and whether it refuses refreshes.
const asked = [];
let refuseRefresh = false;

before(async () => {
  provider = http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (url.pathname === "/authorize") {
        const back = new URL(url.searchParams.get("redirect_uri"));
        back.searchParams.set("code", "code-1");
        back.searchParams.set("state", url.searchParams.get("state"));
        res.writeHead(302, { location: back.toString() }).end();
      } else if (url.pathname === "/token" && req.method === "POST") {
        const form = new URLSearchParams(body);
        asked.push(Object.fromEntries(form));
        if (form.get("grant_type") === "refresh_token" && refuseRefresh) {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "invalid_grant", error_description: "the refresh token was revoked" }));
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        // Expires at once: the next step that uses it refreshes first.
        res.end(JSON.stringify({ access_token: "at-oauth-1", refresh_token: "rt-oauth-1", expires_in: 1 }));
      } else if (url.pathname === "/api") {
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise((r) => provider.listen(0, "127.0.0.1", r));
  at = `http://127.0.0.1:${provider.address().port}`;
  server = await startServer();
  owner = await makeUser(server, "olga@acme.test", "owner");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
  provider?.close();
});

test("an authorization-code credential created in the form awaits authorization, then is authorized at the provider", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByRole("button", { name: "New credential" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New credential" });
  await dialog.getByLabel(/^Name/).fill("crm");
  await dialog.getByLabel(/^Hosts/).fill("127.0.0.1");
  await dialog.getByLabel("Sent as").selectOption("oauth2");
  // A public client: the client secret may stay empty for this grant.
  assert.equal(await dialog.getByLabel(/^Client secret/).getAttribute("required"), null);
  assert.equal(await dialog.getByLabel("Grant", { exact: true }).inputValue(), "authorization_code");
  await dialog.getByLabel(/^Authorize URL/).fill(`${at}/authorize`);
  await dialog.getByLabel(/^Token URL/).fill(`${at}/token`);
  await dialog.getByLabel(/^Client id/).fill("weft-console");
  await dialog.getByLabel(/^Scopes/).fill("read, write");
  await dialog.getByLabel("Client authentication at the token URL").selectOption("post");
  await shot(page, "credentials-oauth2-new");
  await expectClean(page, assert);
  await dialog.getByRole("button", { name: "Store the credential" }).click();
  await dialog.waitFor({ state: "hidden" });

  const row = page.getByRole("row").filter({ hasText: "crm" });
  await row.getByText("Awaiting authorization").waitFor();
  assert.match(await row.innerText(), /OAuth2 token \(authorized by a user\)/);
  await page.getByText("Stored crm. It awaits authorization").waitFor();
  const stored = (await server.call("GET", "/v1/credentials")).items.find((c) => c.name === "crm");
  assert.deepEqual(stored.injection, {
    type: "oauth2",
    grant: "authorization_code",
    authorize_url: `${at}/authorize`,
    token_url: `${at}/token`,
    client_id: "weft-console",
    scopes: ["read", "write"],
    client_auth: "post",
  });
  await shot(page, "credentials-oauth2-awaiting");
  await expectClean(page, assert);

  // Authorize: the provider's page opens, consents at once, and sends the
  // browser back to the callback, which exchanges the code (PKCE).
  const [popup] = await Promise.all([
    page.context().waitForEvent("page"),
    row.getByRole("button", { name: "Authorize crm" }).click(),
  ]);
  await popup.waitForURL(/\/oauth\/callback\?/);
  await popup.getByRole("heading", { name: "Authorized" }).waitFor();
  // The page notices by itself (it reads the list again until then).
  await page.getByText("crm is authorized").waitFor();
  assert.equal(await row.getByText("Awaiting authorization").count(), 0);
  await page.reload();
  await row.getByText("OAuth2 token (authorized by a user)").waitFor();
  assert.equal(await row.getByText("Awaiting authorization").count(), 0, "the server says so, not only this page");
  const exchange = asked.find((a) => a.grant_type === "authorization_code");
  assert.equal(exchange.code, "code-1");
  assert.equal(exchange.client_id, "weft-console");
  assert.ok(exchange.code_verifier, "PKCE: the verifier goes with the code");
  await page.context().close();
});

test("a credential whose refresh token the provider revoked shows it needs authorization again", async () => {
  const wf = await server.call("POST", "/v1/workflows", {
    name: "crm-sync",
    grants: { hosts: ["127.0.0.1"], credentials: { "http/auth": "crm" } },
    steps: [{ id: "call", kind: "action", connector: "http", action: "request", input: { method: "GET", url: `${at}/api` } }],
  });
  refuseRefresh = true;
  let run = await server.call("POST", `/v1/workflows/${wf.id}/runs`, { input: {} });
  for (let i = 0; i < 200 && !["completed", "failed", "cancelled"].includes(run.status); i++) {
    await new Promise((r) => setTimeout(r, 100));
    run = await server.call("GET", `/v1/runs/${run.id}`);
  }
  assert.equal(run.status, "failed", JSON.stringify(run));
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/credentials");
  const row = page.getByRole("row").filter({ hasText: "crm" });
  await row.getByText(/Needs authorization again/).waitFor();
  assert.match(await row.innerText(), /revoked|invalid_grant/);
  assert.equal(await row.getByRole("button", { name: "Authorize again crm" }).innerText(), "Authorize again");
  await shot(page, "credentials-oauth2-reauthorize");
  await expectClean(page, assert);
  await page.context().close();
});

test("a client-credentials credential needs its client secret, which never shows again", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/credentials");
  await page.getByRole("button", { name: "New credential" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New credential" });
  await dialog.getByLabel(/^Name/).fill("billing-machine");
  await dialog.getByLabel(/^Hosts/).fill("api.billing.test");
  await dialog.getByLabel("Sent as").selectOption("oauth2");
  await dialog.getByLabel("Grant", { exact: true }).selectOption("client_credentials");
  assert.equal(await dialog.getByLabel(/^Authorize URL/).count(), 0, "no consent page for this grant");
  assert.notEqual(await dialog.getByLabel(/^Client secret/).getAttribute("required"), null);
  await dialog.getByLabel(/^Token URL/).fill(`${at}/token`);
  await dialog.getByLabel(/^Client id/).fill("machine-1");
  await dialog.getByLabel(/^Client secret/).fill(CLIENT_SECRET);
  await dialog.getByRole("button", { name: "Store the credential" }).click();
  await dialog.waitFor({ state: "hidden" });
  const row = page.getByRole("row").filter({ hasText: "billing-machine" });
  await row.waitFor();
  assert.match(await row.innerText(), /OAuth2 token \(client credentials\)/);
  assert.equal(await row.getByRole("button", { name: /^Authorize/ }).count(), 0);
  assert.equal(await row.getByText("Awaiting authorization").count(), 0);
  assert.ok(!(await page.content()).includes(CLIENT_SECRET));
  const stored = (await server.call("GET", "/v1/credentials")).items.find((c) => c.name === "billing-machine");
  assert.deepEqual(stored.injection, { type: "oauth2", grant: "client_credentials", token_url: `${at}/token`, client_id: "machine-1" });
  await expectClean(page, assert);
  await page.context().close();
});
