// The operator area, through the UI with an operator key: a tenant created
// (its owner key shown once), suspended (its key refused), resumed, deleted
// and brought back; its limits and quotas (an unknown key refused by the
// server); its owner invited; usage across tenants with the CSV; operator
// keys; users helped; the operator audit log; a tenant name with markup
// rendered as text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";
import { totp } from "./totp.mjs";

const NAME = "Globex <img src=x onerror=window.__xss=1>";
let server, page, tenant, ownerKey;

async function opLogin(p) {
  await p.goto("/login");
  await p.getByRole("tab", { name: "API key" }).click();
  await p.getByLabel(/API key/).fill(server.opKey);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(/\/ops\/tenants/);
}

before(async () => {
  server = await startServer();
  // Some use in the default tenant, for the usage report.
  const wf = await server.call("POST", "/v1/workflows", { name: "ticks", steps: [{ id: "pause", kind: "wait", duration_ms: 1 }] });
  await server.call("POST", `/v1/workflows/${wf.id}/runs`, {});
  page = await newPage(server);
  await opLogin(page);
});
after(async () => {
  await closeBrowser();
  await server?.stop();
});

test("an operator creates a tenant: its owner key is shown once, its name with markup is text", async () => {
  await page.getByRole("button", { name: "New tenant" }).click();
  await page.getByLabel(/^Name/).fill(NAME);
  await page.getByRole("button", { name: "Create the tenant" }).click();
  ownerKey = await page.getByTestId("shown-once").innerText();
  assert.match(ownerKey, /^weft_/);
  const row = page.getByRole("row", { name: /Globex/ });
  await row.waitFor();
  assert.equal(await row.getByRole("link").innerText(), NAME);
  assert.equal(await page.locator("main img").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  tenant = (await server.call("GET", "/v1/ops/tenants", undefined, server.opKey)).items.find((t) => t.name === NAME);
  assert.ok(tenant);
  assert.equal((await server.send("GET", "/v1/workflows", undefined, ownerKey)).status, 200);
  await shot(page, "ops-tenants");
  await expectClean(page, assert);
  // The list filters by state.
  await page.getByLabel("State").selectOption("suspended");
  await page.getByText("No tenant matches").waitFor();
  await page.getByLabel("State").selectOption("");
});

test("suspend (its key gets 403 tenant_suspended), resume, delete with its grace, and resume again", async () => {
  await page.getByRole("link", { name: NAME, exact: true }).click();
  await page.waitForURL(new RegExp(`/ops/tenants/${tenant.id}$`));
  await page.getByRole("heading", { name: NAME, level: 1 }).waitFor();
  const state = page.getByRole("region", { name: "State" });
  await page.getByRole("button", { name: "Suspend" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(/^Reason/).fill("invoice 42 overdue");
  await dialog.getByRole("button", { name: "Suspend the tenant" }).click();
  await state.getByText("invoice 42 overdue").waitFor();
  const refused = await server.send("GET", "/v1/workflows", undefined, ownerKey);
  assert.equal(refused.status, 403);
  const body = await refused.json();
  assert.equal(body.error.code, "tenant_suspended");
  assert.match(body.error.message, /invoice 42 overdue/);
  await shot(page, "ops-tenant-suspended");

  await state.getByRole("button", { name: "Resume" }).click();
  await dialog.getByRole("button", { name: "Resume" }).click();
  await state.getByText("The tenant works normally.").waitFor();
  assert.equal((await server.send("GET", "/v1/workflows", undefined, ownerKey)).status, 200);

  await state.getByRole("button", { name: "Delete" }).click();
  assert.match(await dialog.innerText(), /grace period[\s\S]*7 days[\s\S]*Resume/);
  await dialog.getByRole("button", { name: "Delete the tenant" }).click();
  await state.getByText(/unless you resume it before/).waitFor();
  const deleting = await server.call("GET", `/v1/ops/tenants/${tenant.id}`, undefined, server.opKey);
  assert.equal(deleting.state.state, "deleting");
  // The erase date shown is the server's erase_after, in the browser's words.
  await state.getByText(await page.evaluate((ms) => new Date(ms).toLocaleString(), deleting.state.erase_after)).waitFor();
  assert.ok(deleting.state.erase_after - Date.now() > 6 * 86_400_000);
  assert.equal((await server.send("GET", "/v1/workflows", undefined, ownerKey)).status, 403);
  await shot(page, "ops-tenant-deleting");
  await expectClean(page, assert);
  await state.getByRole("button", { name: "Resume (cancel the delete)" }).click();
  await dialog.getByRole("button", { name: "Resume (cancel the delete)" }).click();
  await state.getByText("The tenant works normally.").waitFor();
  assert.equal((await server.call("GET", `/v1/ops/tenants/${tenant.id}`, undefined, server.opKey)).state.state, "active");
});

test("limits and quotas are edited as a form, and as JSON the server refuses an unknown key by name", async () => {
  const form = page.getByRole("form", { name: "Limits and quotas" });
  await form.getByLabel(/^Runs per month/).fill("250");
  await form.getByLabel(/^API calls per second/).fill("12.5");
  await form.getByRole("button", { name: "Save limits and quotas" }).click();
  await form.getByText("Saved.").waitFor();
  const t = await server.call("GET", `/v1/ops/tenants/${tenant.id}`, undefined, server.opKey);
  assert.deepEqual(t.limits, { api_rate: 12.5, quotas: { runs_per_month: 250 } });
  await form.getByRole("button", { name: "Edit as JSON" }).click();
  const json = form.getByLabel(/^Overrides \(JSON\)/);
  assert.deepEqual(JSON.parse(await json.inputValue()), t.limits);
  await json.fill(JSON.stringify({ quotas: { runs_per_month: 250, runs_per_year: 9 } }));
  await form.getByRole("button", { name: "Save limits and quotas" }).click();
  await form.getByRole("alert").waitFor();
  assert.match(await form.getByRole("alert").innerText(), /limits\.quotas\.runs_per_year/);
  assert.deepEqual((await server.call("GET", `/v1/ops/tenants/${tenant.id}`, undefined, server.opKey)).limits, t.limits);
  await shot(page, "ops-tenant-limits");
  await expectClean(page, assert);
  // Back to the form: it shows what the JSON said, and clearing a field removes the override.
  await json.fill(JSON.stringify(t.limits));
  await form.getByRole("button", { name: "Edit as a form" }).click();
  await form.getByLabel(/^API calls per second/).fill("");
  await form.getByRole("button", { name: "Save limits and quotas" }).click();
  await form.getByText("Saved.").waitFor();
  assert.deepEqual((await server.call("GET", `/v1/ops/tenants/${tenant.id}`, undefined, server.opKey)).limits, { quotas: { runs_per_month: 250 } });
});

test("the operator invites the tenant's owner, who joins through the link", async () => {
  const form = page.getByRole("form", { name: /^Invite someone into/ });
  await form.getByLabel(/^Email/).fill("boss@globex.test");
  await form.getByRole("button", { name: "Create the invitation link" }).click();
  const link = await form.getByTestId("shown-once").innerText();
  assert.match(link, /\/accept-invitation\?token=[0-9a-f]{64}$/);
  const boss = { email: "boss@globex.test", password: "the boss's long password" };
  const other = await newPage(server);
  await other.goto(link);
  await other.locator("#password").fill(boss.password);
  await other.locator("#again").fill(boss.password);
  await other.getByRole("button", { name: "Join" }).click();
  await other.waitForURL((u) => u.pathname === "/");
  await other.getByText("boss@globex.test · owner").waitFor();
  const members = await server.call("GET", "/v1/members", undefined, ownerKey);
  assert.deepEqual(members.items.map((m) => [m.email, m.role]), [["boss@globex.test", "owner"]]);

  // Invited into a second tenant too (the existing account's password accepts it),
  // the person switches between them from their account page.
  const def = (await server.call("GET", "/v1/ops/tenants", undefined, server.opKey)).items.find((t) => t.name === "default");
  const inv = await server.call("POST", `/v1/ops/tenants/${def.id}/invitations`, { email: boss.email, role: "viewer" }, server.opKey);
  await server.call("POST", "/v1/auth/accept-invitation", { token: inv.token, password: boss.password }, "");
  await login(other, boss);
  await other.goto("/account");
  const tenants = other.getByRole("region", { name: "Your tenants" });
  await tenants.getByRole("row").nth(2).waitFor();
  assert.equal(await tenants.getByRole("row").count(), 3);
  await other.getByText("ask the operator of this deployment for a reset link").waitFor();
  await shot(other, "account-tenants");
  await expectClean(other, assert);
  await tenants.getByRole("button", { name: `Switch to ${def.id}` }).click();
  await other.getByText("boss@globex.test · viewer").waitFor();
  await other.context().close();
});

test("usage across tenants, by tenant, with the server's CSV; and one tenant's usage on its page", async () => {
  await page.goto("/ops/usage");
  const table = page.getByRole("table");
  await table.getByRole("link", { name: "default" }).waitFor();
  assert.match(await table.locator("tfoot").innerText(), /Total\s+1\b/);
  await shot(page, "ops-usage");
  await expectClean(page, assert);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  assert.match(download.suggestedFilename(), /^usage-all-tenants-/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /^tenant_id,day,workflow_id,runs,/);
  assert.match(csv, /\nten_[0-9a-f]+,\d{4}-\d\d-\d\d,,1,/);
  await table.getByRole("link", { name: "default" }).click();
  await page.getByRole("heading", { name: "default", level: 1 }).waitFor();
  const usage = page.getByRole("region", { name: "Usage lines" });
  await usage.waitFor();
  assert.match(await usage.locator("tfoot").innerText(), /Total\s+1\b/);
  // The new tenant has used nothing.
  await page.goto(`/ops/tenants/${tenant.id}`);
  await page.getByText(/No usage from/).waitFor();
});

test("operator keys: a new one shown once and revoked; the last live one cannot be", async () => {
  await page.goto("/ops/keys");
  await page.getByRole("button", { name: "New operator key" }).click();
  await page.getByLabel(/^Name/).fill("backup operator");
  await page.getByRole("button", { name: "Create the key" }).click();
  const secret = await page.getByTestId("shown-once").innerText();
  assert.match(secret, /^weft_op_/);
  assert.equal((await server.send("GET", "/v1/ops/tenants", undefined, secret)).status, 200);
  await shot(page, "ops-keys");
  await expectClean(page, assert);
  await page.getByRole("button", { name: "Revoke the operator key backup operator" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("row", { name: /backup operator/ }).getByText("revoked").waitFor();
  assert.equal((await server.send("GET", "/v1/ops/tenants", undefined, secret)).status, 401);
  // The bootstrap key is this tab's and the last live one: the server refuses.
  await page.getByRole("button", { name: "Revoke the operator key bootstrap" }).click();
  assert.match(await dialog.innerText(), /last live operator key[\s\S]*you will be signed out/);
  await dialog.getByRole("button", { name: "Revoke" }).click();
  await dialog.getByRole("alert").waitFor();
  assert.match(await dialog.getByRole("alert").innerText(), /last one not revoked/);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal((await server.send("GET", "/v1/ops/tenants", undefined, server.opKey)).status, 200);
});

test("users: a reset link for anyone, and two-step sign-in turned off for a lost device", async () => {
  const user = await makeUser(server, "lost@acme.test", "member", "a long lost password");
  // The user turns TOTP on (through the API with their session).
  const res = await fetch(server.base + "/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(user) });
  const cookie = res.headers.get("set-cookie").split(";")[0];
  const { csrf_token } = await res.json();
  const headers = { "content-type": "application/json", cookie, "x-csrf-token": csrf_token };
  const setup = await (await fetch(server.base + "/v1/auth/totp/setup", { method: "POST", headers, body: JSON.stringify({ password: user.password }) })).json();
  const confirm = await fetch(server.base + "/v1/auth/totp/confirm", { method: "POST", headers, body: JSON.stringify({ code: totp(setup.secret) }) });
  assert.equal(confirm.status, 200);
  const loginWithout = () => fetch(server.base + "/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(user) });
  assert.equal((await (await loginWithout()).json()).error.code, "totp_required");

  await page.goto("/ops/users");
  await page.getByLabel("Email").nth(1).fill("nobody@acme.test");
  await page.getByRole("button", { name: "Turn it off" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Turn it off" }).click();
  await dialog.getByRole("alert").waitFor();
  assert.match(await dialog.getByRole("alert").innerText(), /not found/i);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page.getByLabel("Email").nth(1).fill(user.email);
  await page.getByRole("button", { name: "Turn it off" }).click();
  await dialog.getByRole("button", { name: "Turn it off" }).click();
  await page.getByText(`Two-step sign-in is off for ${user.email}`).waitFor();
  assert.equal((await loginWithout()).status, 200);

  await page.getByLabel("Email").first().fill(user.email);
  await page.getByRole("button", { name: "Create the link" }).click();
  const link = await page.getByTestId("shown-once").innerText();
  assert.match(link, /\/reset-password\?token=[0-9a-f]{64}$/);
  await shot(page, "ops-users");
  await expectClean(page, assert);
  const reset = await fetch(server.base + "/v1/auth/reset", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: new URL(link).searchParams.get("token"), password: "a brand new long password" }),
  });
  assert.equal(reset.status, 204);
});

test("the operator audit log names the tenants, as text", async () => {
  await page.goto("/ops/audit");
  const table = page.getByRole("table");
  await table.getByText("tenant.create").waitFor();
  const text = await table.innerText();
  for (const a of ["tenant.create", "tenant.suspend", "tenant.resume", "tenant.delete", "tenant.update", "invitation.create", "operator_key.create", "operator_key.revoke", "user.reset", "user.totp_remove"]) {
    assert.match(text, new RegExp(a.replace(".", "\\.")), a);
  }
  assert.ok((await table.getByRole("link", { name: NAME, exact: true }).count()) > 3);
  assert.equal(await page.locator("main img").count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.getByLabel("Action").selectOption("tenant.suspend");
  assert.equal(await table.getByRole("row").count(), 2);
  await shot(page, "ops-audit");
  await expectClean(page, assert);
});

test("the operator pages in dark mode and at a phone's width", async () => {
  const dark = await newPage(server, { colorScheme: "dark" });
  await opLogin(dark);
  await dark.goto(`/ops/tenants/${tenant.id}`);
  await dark.getByRole("heading", { name: NAME, level: 1 }).waitFor();
  await dark.waitForLoadState("networkidle");
  await shot(dark, "ops-tenant-dark");
  await expectClean(dark, assert);
  await dark.context().close();
  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await opLogin(phone);
  await phone.getByRole("link", { name: NAME, exact: true }).waitFor();
  await shot(phone, "ops-tenants-phone");
  await expectClean(phone, assert);
  await phone.goto(`/ops/tenants/${tenant.id}`);
  await phone.getByRole("heading", { name: NAME, level: 1 }).waitFor();
  await phone.waitForLoadState("networkidle");
  await shot(phone, "ops-tenant-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});
