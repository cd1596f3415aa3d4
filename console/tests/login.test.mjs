// Signing in and out, with a password and with an API key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

let server, user;
before(async () => {
  server = await startServer();
  user = await makeUser(server, "olga@acme.test");
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

test("the console is what / serves, with its security headers", async () => {
  const res = await fetch(server.base + "/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /text\/html/);
  assert.match(res.headers.get("content-security-policy"), /script-src 'self';/);
  assert.equal(res.headers.get("cache-control"), "no-cache");
  const html = await res.text();
  const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)[1];
  const asset = await fetch(server.base + js, { headers: { "accept-encoding": "br" } });
  assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
  // An unknown API path is still the API's JSON 404, not the console.
  const api = await fetch(server.base + "/v1/nothing");
  assert.equal(api.status, 404);
  assert.match(api.headers.get("content-type"), /json/);
});

test("a signed-out visitor is sent to the login page, and comes back after", async () => {
  const page = await newPage(server);
  await page.goto("/runs");
  await page.waitForURL(/\/login\?next=%2Fruns/);
  await shot(page, "login");
  await expectClean(page, assert);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill("wrong password, twelve+");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor();
  // A heading in words first, then the server's message; the code stays, small.
  const alert = await page.getByRole("alert").innerText();
  assert.match(alert, /^Not signed in, or wrong email or password\./);
  assert.match(alert, /\(unauthenticated\)$/);
  await shot(page, "login-wrong-password");
  // The error belongs to the password tab: switching away (and back) clears it.
  await page.getByRole("tab", { name: "API key" }).click();
  assert.equal(await page.getByRole("alert").count(), 0);
  assert.match(await page.locator("#key-origin").innerText(), /weft serve prints an API key and an operator key on its first start/);
  await page.getByRole("tab", { name: "Email and password" }).click();
  assert.equal(await page.getByRole("alert").count(), 0);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/runs$/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login/);
  await page.context().close();
});

test("an operator key opens the operator area", async () => {
  const page = await newPage(server);
  await page.goto("/login");
  await page.getByRole("tab", { name: "API key" }).click();
  await page.getByLabel(/API key/).fill(server.opKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/ops\/tenants/);
  await page.context().close();
});

test("the session survives a reload and a phone-sized screen has a menu", async () => {
  const page = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(page, user);
  await page.reload();
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workflows" }).click();
  await page.waitForURL(/\/workflows$/);
  await shot(page, "phone-workflows");
  await page.context().close();
});

test("a used invitation link says so and what to do next, instead of the form", async () => {
  // An invitation accepted once (through the API): its link is spent.
  const inv = await server.call("POST", "/v1/invitations", { email: "ivan@acme.test", role: "member" });
  await server.call("POST", "/v1/auth/accept-invitation", { token: inv.token, password: "a password of twelve+" }, "");
  const page = await newPage(server);
  await page.goto(`/accept-invitation?token=${inv.token}`);
  assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), "Accept your invitation");
  assert.match(await page.getByLabel("Email").locator("..").innerText(), /Leave empty unless you were asked for it/);
  await page.getByLabel(/^Password/).fill("another password, twelve+");
  await page.getByLabel("The same password again").fill("another password, twelve+");
  await page.getByRole("button", { name: "Join" }).click();
  await page.getByText("This link has been used or has expired.").waitFor();
  assert.match(await page.getByRole("alert").innerText(), /If you already joined, sign in.*ask whoever invited you for a new invitation link/s);
  // Retrying cannot help: the form is gone; the way on is signing in.
  assert.equal(await page.getByRole("button", { name: "Join" }).count(), 0);
  assert.equal(await page.getByLabel(/^Password/).count(), 0);
  await shot(page, "accept-used-link");
  await expectClean(page, assert);
  await page.getByRole("link", { name: "Go to sign in" }).click();
  await page.waitForURL(/\/login$/);
  await page.context().close();
});
