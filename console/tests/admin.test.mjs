// The tenant's administration and one's own account, through the UI: invite a
// person and sign in as them (their role's limits shown and enforced), change
// a role, reset a password, a scoped API key used and revoked, the audit log,
// usage with its CSV, notification rules and their deliveries, two-step
// sign-in, and member-supplied text rendered inert.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";
import { totp } from "./totp.mjs";

const XSS_EMAIL = "<img/src=x/onerror=window.__xss=1>@evil.test";
const XSS_PENDING = "<svg/onload=window.__xss=2>@evil.test";
let server, owner, owner2Page, receiver, hits = 0, failing, fine;

async function until(f, what, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  server = await startServer({ env: { WEFT_WORKER_NOTIFICATIONS_RETRY_BASE_MS: "300" } });
  owner = await makeUser(server, "olga@acme.test");
  // A receiver for notification webhooks: the first try fails, the next succeed.
  receiver = createServer((req, res) => {
    hits++;
    res.statusCode = hits === 1 ? 500 : 200;
    res.end();
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  fine = await server.call("POST", "/v1/workflows", { name: "nightly report", steps: [{ id: "pause", kind: "wait", duration_ms: 1 }] });
  failing = await server.call("POST", "/v1/workflows", {
    name: "always fails",
    steps: [{ id: "boom", kind: "action", connector: "transform", action: "jq", input: { filter: 'error("boom")', data: {} }, retry: { max_attempts: 1 } }],
  });
  await server.call("POST", `/v1/workflows/${fine.id}/runs`, {});
  await server.call("POST", "/v1/credentials", { name: "slack-bot", secret: "xoxb-not-real", hosts: ["slack.com"], injection: { type: "bearer" } });
  // Member-supplied text carrying markup: an account's email, a pending invitation's.
  await makeUser(server, XSS_EMAIL, "member");
  await server.call("POST", "/v1/invitations", { email: XSS_PENDING, role: "viewer" });
});
after(async () => {
  await closeBrowser();
  await server?.stop();
  receiver?.close();
});

let vera = { email: "vera@acme.test", password: "a long viewer password 1" };
let veraPage;

test("an owner invites a viewer, who accepts in another browser and meets the viewer's limits", async () => {
  const page = await newPage(server);
  owner2Page = page;
  await login(page, owner);
  await page.goto("/admin/invitations");
  await page.getByLabel(/^Email/).fill(vera.email);
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByLabel("Valid for").selectOption({ label: "1 day" });
  await page.getByRole("button", { name: "Create the invitation link" }).click();
  const link = await page.getByTestId("shown-once").innerText();
  assert.match(link, new RegExp(`^${server.base}/accept-invitation\\?token=[0-9a-f]{64}$`));
  const pending = page.getByRole("row", { name: new RegExp(vera.email) });
  await pending.waitFor();
  assert.match(await pending.innerText(), /Viewer/);
  await shot(page, "admin-invitations");
  await expectClean(page, assert);

  // The invitee, in a browser of their own.
  veraPage = await newPage(server);
  await veraPage.goto(link);
  await veraPage.locator("#password").fill(vera.password);
  await veraPage.locator("#again").fill(vera.password);
  await veraPage.getByRole("button", { name: "Join" }).click();
  // Joining signs the new member in.
  await veraPage.waitForURL((u) => u.pathname === "/");
  await veraPage.getByText("vera@acme.test · viewer").waitFor();

  // A viewer sees no way to make a workflow, and only the admin tabs a viewer can use.
  await veraPage.goto("/workflows");
  await veraPage.getByRole("heading", { name: "Workflows", level: 1 }).waitFor();
  await veraPage.getByText("nightly report").first().waitFor();
  assert.equal(await veraPage.getByRole("link", { name: "New workflow" }).count(), 0);
  await veraPage.goto("/admin");
  const tabs = veraPage.getByRole("navigation", { name: "Admin sections" });
  await tabs.getByRole("link", { name: "Usage" }).waitFor();
  assert.deepEqual(await tabs.getByRole("link").allInnerTexts(), ["Usage", "Notifications"]);
  await veraPage.goto("/admin/keys");
  await veraPage.getByText("Only owners manage API keys.").waitFor();
  await shot(veraPage, "admin-viewer-refused");
  await expectClean(veraPage, assert);
  // An owner sees what the viewer does not.
  await page.goto("/workflows");
  await page.getByRole("link", { name: "New workflow" }).first().waitFor();

  // Forced anyway, with the viewer's own session and CSRF token: the server refuses.
  const forced = await veraPage.evaluate(async () => {
    const s = await (await fetch("/v1/auth/session")).json();
    const r = await fetch("/v1/workflows", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": s.csrf_token },
      body: JSON.stringify({ name: "sneaky", steps: [{ id: "a", kind: "wait", duration_ms: 1 }] }),
    });
    return [r.status, (await r.json()).error.code];
  });
  assert.deepEqual(forced, [403, "forbidden"]);
});

test("an owner changes a role (the member's session ends), cannot remove the last owner, and issues a reset link", async () => {
  const page = owner2Page;
  await page.goto("/admin/members");
  const row = page.getByRole("row", { name: new RegExp(vera.email) });
  assert.match(await row.innerText(), /Viewer/);
  await shot(page, "admin-members");
  await expectClean(page, assert);
  await page.getByRole("button", { name: `Change role of ${vera.email}` }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Role").selectOption("member");
  await dialog.getByRole("button", { name: "Change role" }).click();
  await page.getByText(`${vera.email} is now member`).waitFor();
  await row.getByRole("cell", { name: "Member", exact: true }).waitFor();
  const members = await server.call("GET", "/v1/members");
  assert.equal(members.items.find((m) => m.email === vera.email).role, "member");
  // The role change ended Vera's session: her next call is sent to sign in again.
  await veraPage.goto("/admin/usage");
  await veraPage.waitForURL(/\/login/);

  // The only owner is offered neither removal nor a role change on their own
  // row, and is told why; the others' rows keep them.
  const ownerRow = page.getByRole("row", { name: new RegExp(owner.email) });
  assert.match(await ownerRow.innerText(), /You are the only owner/);
  assert.equal(await page.getByRole("button", { name: `Remove ${owner.email}` }).count(), 0);
  assert.equal(await page.getByRole("button", { name: `Change role of ${owner.email}` }).count(), 0);
  assert.equal(await page.getByRole("button", { name: `Remove ${vera.email}` }).count(), 1);
  await shot(page, "admin-members-last-owner");
  // The server refuses anyway, forced with the owner's own session.
  const ownerId = (await server.call("GET", "/v1/members")).items.find((m) => m.email === owner.email).user_id;
  const forcedRemove = await page.evaluate(async (id) => {
    const s = await (await fetch("/v1/auth/session")).json();
    const r = await fetch(`/v1/members/${id}`, { method: "DELETE", headers: { "x-csrf-token": s.csrf_token } });
    return [r.status, (await r.json()).error.message];
  }, ownerId);
  assert.equal(forcedRemove[0], 409);
  assert.match(forcedRemove[1], /last owner/);
  assert.ok((await server.call("GET", "/v1/members")).items.some((m) => m.email === owner.email));

  // A reset link, shown once, sets a new password for Vera.
  await page.getByRole("button", { name: `Reset link for ${vera.email}` }).click();
  const link = await page.getByTestId("shown-once").innerText();
  assert.match(link, new RegExp(`^${server.base}/reset-password\\?token=[0-9a-f]{64}$`));
  await veraPage.goto(link);
  vera = { ...vera, password: "another long password 2" };
  await veraPage.locator("#password").fill(vera.password);
  await veraPage.locator("#again").fill(vera.password);
  await veraPage.getByRole("button", { name: "Set the password" }).click();
  await veraPage.waitForURL(/\/login/);
  await login(veraPage, vera);
  await veraPage.goto("/admin");
  await veraPage.getByRole("navigation", { name: "Admin sections" }).getByRole("link", { name: "Members" }).waitFor();
  await veraPage.context().close();
});

let keyId;
test("a scoped key is made in the UI, works on its scopes only, and is refused once revoked", async () => {
  const page = owner2Page;
  await page.goto("/admin/keys");
  await page.getByRole("button", { name: "New API key" }).click();
  await page.getByLabel(/^Name/).fill("ci reader");
  await page.getByLabel("Role", { exact: true }).selectOption("member");
  await page.getByLabel("Expires").selectOption("30");
  await page.getByLabel("Limit the key to scopes").check();
  await page.getByLabel("Resource").selectOption("workflows");
  await page.getByLabel("Verb").selectOption("read");
  await page.getByRole("button", { name: "Add scope" }).click();
  await page.getByLabel(/^Or type scopes/).fill(`runs:read:${fine.id}`);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  // A scope outside the grammar is caught before it is sent.
  await page.getByLabel(/^Or type scopes/).fill("workflows:delete");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByText("`workflows` has no verb `delete`").waitFor();
  await page.getByLabel(/^Or type scopes/).fill("");
  await shot(page, "admin-keys-new");
  await expectClean(page, assert);
  await page.getByRole("button", { name: "Create the key" }).click();
  const secret = await page.getByTestId("shown-once").innerText();
  assert.match(secret, /^weft_/);
  const row = page.getByRole("row", { name: /ci reader/ });
  assert.match(await row.innerText(), /workflows:read/);
  assert.match(await row.innerText(), new RegExp(`runs:read:${fine.id}`));
  await shot(page, "admin-keys");

  const call = (method, path, body) => server.send(method, path, body, secret);
  assert.equal((await call("GET", "/v1/workflows")).status, 200);
  assert.equal((await call("GET", `/v1/runs?workflow_id=${fine.id}`)).status, 200);
  const outside = await call("GET", "/v1/credentials");
  assert.equal(outside.status, 403);
  assert.equal((await outside.json()).error.code, "scope");
  assert.equal((await call("GET", `/v1/runs?workflow_id=${failing.id}`)).status, 403);
  assert.equal((await call("POST", "/v1/workflows", { name: "x", steps: [{ id: "a", kind: "wait", duration_ms: 1 }] })).status, 403);
  keyId = (await server.call("GET", "/v1/keys")).items.find((k) => k.name === "ci reader").id;

  await page.getByRole("button", { name: "Revoke the key ci reader" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await row.waitFor({ state: "detached" });
  assert.equal((await call("GET", "/v1/workflows")).status, 401);
  await page.getByLabel(/Show 1 revoked/).check();
  assert.match(await row.innerText(), /revoked/);
});

test("the audit log shows these changes, with people named, and filters them", async () => {
  const page = owner2Page;
  await page.goto("/admin/audit");
  const table = page.getByRole("table");
  await table.getByText("key.revoke").waitFor();
  const text = await table.innerText();
  for (const a of ["invitation.create", "invitation.accept", "member.role", "member.reset", "password.reset", "key.create", "key.revoke"]) {
    assert.match(text, new RegExp(a.replace(".", "\\.")), a);
  }
  assert.match(text, new RegExp(vera.email));
  assert.match(text, new RegExp(keyId));
  await page.getByLabel("Action").selectOption("member.role");
  assert.equal(await table.getByRole("row").count(), 2);
  assert.match(await table.innerText(), new RegExp(`${owner.email}[\\s\\S]*member\\.role[\\s\\S]*${vera.email}`));
  await page.getByLabel("Action").selectOption("");
  await page.getByLabel(/^Search/).fill("key_");
  await page.getByText(/of the newest \d+ entries match/).waitFor();
  await shot(page, "admin-audit");
  await expectClean(page, assert);
});

test("usage shows the runs by day and by workflow, and downloads the server's CSV", async () => {
  const page = owner2Page;
  await page.goto("/admin/usage");
  const table = page.getByRole("table");
  await table.waitFor();
  const total = table.locator("tfoot");
  assert.match(await total.innerText(), /Total\s+1\s+0/);
  // One column a day of this month, one of them (today) with the run.
  const heights = await page.locator("figure svg rect.bar").evaluateAll((rs) => rs.map((r) => Number(r.getAttribute("height"))));
  assert.equal(heights.length, new Date().getUTCDate());
  assert.equal(heights.filter((h) => h > 0).length, 1);
  assert.ok(heights.at(-1) > 0);
  await shot(page, "admin-usage");
  await expectClean(page, assert);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  assert.match(download.suggestedFilename(), /^usage-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d-by-day\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv.split("\n")[0], /^tenant_id,day,workflow_id,runs,steps/);
  assert.match(csv, /\ntotal,,,1,/);
  await page.getByLabel("Lines", { exact: true }).selectOption("workflow");
  await table.getByRole("link", { name: "nightly report" }).waitFor();
  assert.match(page.url(), /group=workflow/);
  await page.getByRole("button", { name: "Last 7 days" }).click();
  await table.getByRole("link", { name: "nightly report" }).waitFor();
});

test("a notification rule is made, its secret shown once, its deliveries listed with their tries", async () => {
  const page = owner2Page;
  await page.goto("/admin/notifications");
  await page.getByText("No notification rules").waitFor();
  await page.getByRole("button", { name: "New rule" }).click();
  await page.getByLabel("When").selectOption("run_failed");
  await page.getByLabel("Of", { exact: true }).selectOption({ label: "always fails" });
  // A target the server refuses: its message names the field.
  await page.getByLabel("URL").fill("http://169.254.169.254/latest");
  await page.getByRole("button", { name: "Create the rule" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").innerText(), /target\.url/);
  await page.getByLabel("URL").fill(`http://127.0.0.1:${receiver.address().port}/weft`);
  await page.getByRole("button", { name: "Create the rule" }).click();
  const secret = await page.getByTestId("shown-once").innerText();
  assert.match(secret, /^whsec_/);
  const rule = (await server.call("GET", "/v1/notifications/rules")).items[0];
  assert.equal(rule.workflow_id, failing.id);
  assert.equal(rule.signing_secret ?? null, null);
  await page.getByRole("button", { name: "Done, I have kept it" }).click();
  await shot(page, "admin-notifications-rule");

  // A failed run makes a delivery: the first try gets 500, the retry 200.
  await server.call("POST", `/v1/workflows/${failing.id}/runs`, {});
  await until(async () => (await server.call("GET", "/v1/notifications/deliveries?status=delivered")).items.length, "a delivered notification");
  await page.getByRole("button", { name: "Refresh" }).click();
  const row = page.getByRole("row", { name: /A run failed/ }).last();
  await row.getByText("delivered").waitFor();
  await row.getByRole("button", { name: "2 tries" }).click();
  const detail = page.locator("tr.detail");
  assert.match(await detail.innerText(), /HTTP 500[\s\S]*HTTP 200/);
  assert.match(await detail.innerText(), /"error": \{[\s\S]*boom/);
  await shot(page, "admin-notifications");
  await expectClean(page, assert);

  // Turned off, edited, deleted.
  await page.getByRole("button", { name: `Turn off the rule ${rule.id}` }).click();
  await page.getByRole("button", { name: `Turn on the rule ${rule.id}` }).waitFor();
  assert.equal((await server.call("GET", `/v1/notifications/rules/${rule.id}`)).enabled, false);
  await page.getByRole("button", { name: `Edit the rule ${rule.id}` }).click();
  await page.getByLabel("Of", { exact: true }).selectOption("");
  await page.getByRole("button", { name: "Save the rule" }).click();
  await page.getByRole("cell", { name: "every workflow" }).waitFor();
  assert.equal((await server.call("GET", `/v1/notifications/rules/${rule.id}`)).workflow_id ?? null, null);
  await page.getByRole("button", { name: `Delete the rule ${rule.id}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No notification rules").waitFor();

  // A connector's action as the target: Slack, with a stored credential for its slot.
  await page.getByRole("button", { name: "New rule" }).click();
  await page.getByLabel("When").selectOption("run_waiting");
  await page.getByLabel("A connector’s action").check();
  await page.getByLabel("Connector", { exact: true }).selectOption("slack");
  assert.equal(await page.getByLabel("Action", { exact: true }).inputValue(), "post-message");
  const input = page.getByLabel(/^Input/);
  assert.match(await input.inputValue(), /"text": "\{\{ event\.workflow_name \}\}/);
  await input.fill(JSON.stringify({ channel: "#ops", text: "{{ event.workflow_name }} waits: {{ event.nope }}" }));
  await page.getByLabel(/^Hosts it may reach/).fill("slack.com");
  await page.getByLabel(/^Credential for/).selectOption("slack-bot");
  await page.getByRole("button", { name: "Create the rule" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").innerText(), /target\.input/);
  assert.equal(await input.getAttribute("aria-invalid"), "true");
  await input.fill("{ not json");
  await page.getByRole("button", { name: "Create the rule" }).click();
  await page.getByText(/^Not JSON/).waitFor();
  await input.fill(JSON.stringify({ channel: "#ops", text: "{{ event.workflow_name }} waits: {{ event.link }}" }));
  await page.getByRole("button", { name: "Create the rule" }).click();
  const slackRow = page.getByRole("row", { name: /slack · post-message/ });
  await slackRow.waitFor();
  assert.equal(await page.getByTestId("shown-once").count(), 0, "a connector rule has no secret");
  const made = (await server.call("GET", "/v1/notifications/rules")).items[0];
  assert.deepEqual(made.target, {
    type: "connector",
    connector: "slack",
    action: "post-message",
    input: { channel: "#ops", text: "{{ event.workflow_name }} waits: {{ event.link }}" },
    grants: { hosts: ["slack.com"], credentials: { "bot-token": "slack-bot" } },
  });
  await shot(page, "admin-notifications-connector");

  // A viewer reads the rules but is offered no change.
  const vic = await makeUser(server, "vic@acme.test", "viewer", "vic's long password!");
  const viewer = await newPage(server);
  await login(viewer, vic);
  await viewer.goto("/admin/notifications");
  await viewer.getByRole("row", { name: /slack · post-message/ }).waitFor();
  assert.equal(await viewer.getByRole("button", { name: /New rule|Edit|Delete|Turn off/ }).count(), 0);
  await expectClean(viewer, assert);
  await viewer.context().close();
});

test("two-step sign-in: set up with the password, confirmed with a code, then asked for at login", async () => {
  // The test's own codes are right (RFC 6238, appendix B, the SHA-1 rows' last 6 digits).
  const rfc = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  assert.equal(totp(rfc, 1), "287082");
  assert.equal(totp(rfc, Math.floor(1111111109 / 30)), "081804");
  const tina = await makeUser(server, "tina@acme.test", "member", "tina's long password!");
  const page = await newPage(server);
  await login(page, tina);
  await page.goto("/account");
  await page.getByText(tina.email).first().waitFor();
  await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
  await page.getByLabel(/^Your password/).fill("not tina's password!");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByLabel(/^Your password/).fill(tina.password);
  await page.getByRole("button", { name: "Continue" }).click();
  const secret = (await page.getByTestId("totp-secret").innerText()).replace(/\s/g, "");
  assert.match(secret, /^[A-Z2-7]{16,}$/);
  assert.match(await page.getByTestId("totp-uri").innerText(), /^otpauth:\/\/totp\/Weft:tina(@|%40)acme\.test\?secret=[A-Z2-7]+&/);
  await shot(page, "account-totp-setup");
  await expectClean(page, assert);
  const step = Math.floor(Date.now() / 30_000);
  await page.getByLabel("The code the app shows now").fill(totp(secret, step));
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.getByText("Two-step sign-in is on.").waitFor();
  await shot(page, "account");
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await page.waitForURL(/\/login/);

  // The next login asks for the code (a later step: a used one is never accepted again).
  await page.getByLabel("Email").fill(tina.email);
  await page.getByLabel("Password").fill(tina.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Code from your authenticator app").waitFor();
  await page.getByLabel("Code from your authenticator app").fill(totp(secret, step + 1));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));

  // Setting it up again is refused while it is on; turning it off takes the password.
  await page.goto("/account");
  await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
  await page.getByLabel(/^Your password/).fill(tina.password);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByText("already on for your account").waitFor();
  await page.getByRole("button", { name: "Turn it off" }).click();
  await page.getByLabel("Your password").fill(tina.password);
  await page.getByRole("button", { name: "Turn off", exact: true }).click();
  await page.getByText("Two-step sign-in is off.").waitFor();
  const res = await fetch(server.base + "/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: tina.email, password: tina.password }),
  });
  assert.equal(res.status, 200);
  await page.context().close();
});

test("an owner changes their own password through a one-time link from the account page", async () => {
  const omar = await makeUser(server, "omar@acme.test", "owner", "omar's first long password");
  const page = await newPage(server);
  await login(page, omar);
  await page.goto("/account");
  await page.getByRole("button", { name: "Change my password" }).click();
  await page.waitForURL(/\/reset-password\?token=[0-9a-f]{64}$/);
  await page.locator("#password").fill("omar's second long password");
  await page.locator("#again").fill("omar's second long password");
  await page.getByRole("button", { name: "Set the password" }).click();
  await page.waitForURL(/\/login/);
  await login(page, { email: omar.email, password: "omar's second long password" });
  // The members and viewers are told whom to ask instead.
  const viewer = await newPage(server);
  await login(viewer, { email: "vic@acme.test", password: "vic's long password!" });
  await viewer.goto("/account");
  await viewer.getByText("ask an admin or owner of this tenant for a reset link").waitFor();
  assert.equal(await viewer.getByRole("button", { name: "Change my password" }).count(), 0);
  await page.context().close();
  await viewer.context().close();
});

test("emails carrying markup render as text in members, invitations and the audit log", async () => {
  const page = owner2Page;
  for (const [path, text] of [
    ["/admin/members", XSS_EMAIL],
    ["/admin/invitations", XSS_PENDING],
    ["/admin/audit", XSS_EMAIL],
  ]) {
    await page.goto(path);
    await page.getByText(text).first().waitFor();
    assert.equal(await page.locator("main img, main svg[onload]").count(), 0, path);
    assert.equal(await page.evaluate(() => window.__xss), undefined, path);
    await expectClean(page, assert);
  }
});

test("every tab, in dark mode and at a phone's width", async () => {
  const dark = await newPage(server, { colorScheme: "dark" });
  await login(dark, owner);
  for (const tab of ["members", "invitations", "keys", "audit", "usage", "notifications"]) {
    await dark.goto(`/admin/${tab}`);
    await dark.getByRole("heading", { level: 2 }).first().waitFor();
    await dark.waitForLoadState("networkidle");
    await shot(dark, `admin-${tab}-dark`);
    await expectClean(dark, assert);
  }
  await dark.context().close();
  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, owner);
  for (const tab of ["members", "keys", "usage"]) {
    await phone.goto(`/admin/${tab}`);
    await phone.getByRole("heading", { level: 2 }).first().waitFor();
    await phone.waitForLoadState("networkidle");
    await shot(phone, `admin-${tab}-phone`);
    await expectClean(phone, assert);
  }
  await phone.goto("/account");
  await phone.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
  await shot(phone, "account-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});
