// The marketplace as a tenant uses it, against a registry seeded the way an
// author seeds it (the weft CLI: publisher, keygen, key, `plugin publish`):
// search and filters, a package page with its README rendered inert and its
// disclosure in words, install through the consent screen (and a consent
// the server refuses), upgrade through the capability diff with re-consent,
// uninstall refused while an active workflow uses it, a template's "use"
// form, a viewer's view, and a phone's.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer, wasmDir } from "./harness.mjs";

const target = process.env.CARGO_TARGET_DIR || join(process.env.HOME, ".cache/weft/target");
const bin = process.env.WEFT_BIN || join(target, "debug/weft");

const README_V1 = `# greeter

Says hello to whoever asks, or checks that a URL answers.

- \`greet\` with \`{"name": "Ada"}\` answers \`{"hello": "Ada"}\`
- \`greet\` with \`{"url": "http://127.0.0.1/"}\` answers its status
`;

const README_V2 = `# greeter 0.2.0

**Now also** checks *api.example.com*.

<script>window.__xss=1</script>

<img src=x onerror=window.__xss=1>

[click](javascript:window.__xss=1)

\`\`\`sh
weft registry install acme/greeter
\`\`\`

| version | reaches |
|---|---|
| 0.1.0 | 127.0.0.1 |
| 0.2.0 | 127.0.0.1, api.example.com |

Docs: [greeter docs](https://example.com/greeter).
`;

/** A small template of acme's: a webhook whose body goes through a jq filter. */
function template(name, description) {
  return {
    name,
    description,
    category: "data",
    tags: ["jq"],
    difficulty: "beginner",
    requires: { transform: "^0.1" },
    parameters: { type: "object", properties: { filter: { type: "string", minLength: 1, default: ".", description: "The jq filter." } } },
    placements: { filter: ["/steps/0/input/filter"] },
    examples: [],
    definition: {
      name,
      triggers: { webhook: { mode: "sync" } },
      steps: [
        { id: "shape", kind: "action", connector: "transform", action: "jq", input: { filter: ".", data: "{{ trigger.body }}" } },
        { id: "reply", kind: "respond", body: "{{ steps.shape.output.result }}" },
      ],
    },
  };
}

let server, owner, viewer, home, versions;
// The author's machine: its own HOME (the key file goes there), the server and key by environment.
const weft = (...args) =>
  execFileSync(bin, args, {
    env: { PATH: process.env.PATH, HOME: home, WEFT_SERVER: server.base, WEFT_API_KEY: server.key },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });

before(async () => {
  server = await startServer();
  owner = await makeUser(server, "mia@acme.test", "owner");
  viewer = await makeUser(server, "vic@acme.test", "viewer");
  home = mkdtempSync(join(tmpdir(), "weft-author-"));
  weft("registry", "publisher", "create", "acme");
  weft("plugin", "keygen", "--publisher", "acme");
  weft("registry", "publisher", "key", "add", "acme", "--key", join(home, ".config/weft/keys/acme.key"));
  writeFileSync(join(home, "README-1.md"), README_V1);
  writeFileSync(join(home, "README-2.md"), README_V2);
  const v1 = weft("plugin", "publish", join(wasmDir, "fixture_greeter.wasm"), "--publisher", "acme", "--license", "MIT", "--keyword", "greeting", "--readme", join(home, "README-1.md"));
  assert.match(v1, /published acme\/greeter@0\.1\.0/);
  weft("plugin", "publish", join(wasmDir, "fixture_greeter_v2.wasm"), "--publisher", "acme", "--license", "MIT", "--source", "https://example.com/greeter", "--readme", join(home, "README-2.md"));
  for (const [i, name] of ["acme-digest", "acme-shape", "acme-reshape"].entries()) {
    writeFileSync(join(home, `${name}.json`), JSON.stringify(template(name, `Reshape a webhook's body with jq (${i + 1}).`)));
    weft("templates", "publish", join(home, `${name}.json`), "--version", "1.0.0", "--publisher", "acme", "--license", "MIT");
  }
  const detail = await server.call("GET", "/v1/registry/packages/acme/greeter");
  versions = Object.fromEntries(detail.versions.map((v) => [v.version, v]));
});
after(async () => {
  await closeBrowser();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

const installs = async () => (await server.call("GET", "/v1/installs")).items;

test("search finds a connector; filters and sort live in the query string; more pages follow the cursor", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace");
  const cards = page.locator("article.pkg");
  // 4 bundled connectors, 5 starter templates, greeter and 3 of acme's templates: more than one page of 12.
  await cards.first().waitFor();
  assert.equal(await cards.count(), 12);
  await shot(page, "marketplace");
  await expectClean(page, assert);
  await page.getByRole("button", { name: "Show more" }).click();
  await page.waitForFunction(() => document.querySelectorAll("article.pkg").length === 13);
  assert.equal(await page.getByRole("button", { name: "Show more" }).count(), 0, "the last page has no more");

  await page.getByLabel("Search packages").fill("greeter");
  await page.waitForURL(/[?&]q=greeter/);
  const card = page.locator("article.pkg", { has: page.getByRole("link", { name: "greeter" }) });
  await card.waitFor();
  await page.waitForFunction(() => document.querySelectorAll("article.pkg").length === 1);
  assert.match(await card.innerText(), /unverified/);
  assert.match(await card.innerText(), /v0\.2\.0/);
  await card.getByText("Calls 127.0.0.1 and 1 more").waitFor();

  // No network: greeter calls two hosts, so nothing is left.
  await page.getByLabel("No network access").check();
  await page.waitForURL(/no_network=true/);
  await page.getByText("No package matches").waitFor();
  await shot(page, "marketplace-empty");
  await expectClean(page, assert);
  await page.getByRole("button", { name: "Clear search and filters" }).click();
  await page.waitForURL((u) => !u.search.includes("no_network") && !u.search.includes("q="));

  // Connectors that take a credential for Slack's hosts.
  await page.getByLabel(/Uses a credential for/).fill("slack.com");
  await page.waitForURL(/credential_host=slack\.com/);
  await page.waitForFunction(() => document.querySelectorAll("article.pkg").length === 1);
  await page.locator("article.pkg").getByRole("link", { name: "slack" }).waitFor();
  assert.equal(await page.getByLabel("Search packages").inputValue(), "", "the box follows the cleared query");

  // Templates only, from the link a user could share.
  await page.goto("/marketplace?kind=template&publisher=weft&verified=true&sort=installs");
  await page.getByRole("link", { name: "http-fan-out" }).waitFor();
  assert.equal(await page.getByLabel("Templates").isChecked(), true);
  assert.equal(await page.getByLabel("Sort by").inputValue(), "installs");
  const kinds = await page.locator("article.pkg .kind").allInnerTexts();
  assert.ok(kinds.length === 5 && kinds.every((k) => /template/i.test(k)), kinds.join());
  await page.context().close();
});

test("the package page renders its README inert and says what the connector can do", async () => {
  const page = await newPage(server);
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await login(page, owner);
  await page.goto("/marketplace/acme/greeter");
  await page.getByRole("heading", { level: 1, name: "greeter" }).waitFor();
  const readme = page.getByRole("region", { name: "README" });
  await readme.getByRole("heading", { level: 2, name: "greeter 0.2.0" }).waitFor();

  // The payloads are text, the markup around them is Markdown's.
  const text = await readme.innerText();
  assert.ok(text.includes("<script>window.__xss=1</script>"), text);
  assert.ok(text.includes("<img src=x onerror=window.__xss=1>"), text);
  assert.equal(await readme.locator("script, img, iframe, object").count(), 0);
  assert.equal(await readme.locator("strong", { hasText: "Now also" }).count(), 1);
  assert.equal(await readme.locator("table td", { hasText: "api.example.com" }).count(), 1);
  assert.equal(await readme.locator("pre code").innerText(), "weft registry install acme/greeter");
  // The javascript: link is not a link; clicking its text does nothing.
  assert.equal(await readme.getByRole("link", { name: "click" }).count(), 0);
  assert.equal(await page.locator('a[href^="javascript" i]').count(), 0);
  await readme.getByText("click", { exact: true }).click();
  // An https link is one, that opens no window and sends no referrer.
  const docs = readme.getByRole("link", { name: "greeter docs" });
  assert.equal(await docs.getAttribute("href"), "https://example.com/greeter");
  assert.equal(await docs.getAttribute("rel"), "noopener noreferrer nofollow");
  assert.equal(await docs.getAttribute("target"), null);
  assert.equal(await page.evaluate(() => window.__xss), undefined, "no payload ran");
  assert.ok(!requests.some((u) => new URL(u).pathname === "/x"), "the image was never fetched");

  // The disclosure of 0.2.0, in words.
  const caps = page.getByRole("list", { name: "What version 0.2.0 can do" });
  await caps.getByText("Can send requests to 127.0.0.1").waitFor();
  await caps.getByText("Can send requests to api.example.com").waitFor();
  await caps.getByText("Keeps no state between runs").waitFor();
  assert.match(await page.locator("aside").innerText(), /unverified|Source/);
  await shot(page, "package");
  await expectClean(page, assert);

  // The versions, and 0.1.0's page: its README and its narrower disclosure.
  await page.getByRole("link", { name: "Versions (2)" }).click();
  await page.locator("tr[data-version='0.2.0']").getByText("latest").waitFor();
  await shot(page, "package-versions");
  await expectClean(page, assert);
  await page.getByRole("link", { name: "0.1.0", exact: true }).click();
  await page.waitForURL(/version=0\.1\.0/);
  await readme.getByText("Says hello to whoever asks").waitFor();
  const old = page.getByRole("list", { name: "What version 0.1.0 can do" });
  await old.getByText("Can send requests to 127.0.0.1").waitFor();
  assert.equal(await old.getByText("api.example.com").count(), 0);
  await page.getByRole("link", { name: /Actions \(1\)/ }).click();
  await page.getByRole("heading", { name: "greet", exact: true }).waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.context().close();

  // Dark mode.
  const dark = await newPage(server, { colorScheme: "dark" });
  await login(dark, owner);
  await dark.goto("/marketplace/acme/greeter");
  await dark.getByRole("region", { name: "README" }).getByRole("heading", { name: "greeter 0.2.0" }).waitFor();
  await shot(dark, "package-dark");
  await expectClean(dark, assert);
  await dark.context().close();
});

test("install goes through the consent screen, and a consent the server refuses is shown again", async () => {
  assert.deepEqual(await installs(), []);
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace/acme/greeter?version=0.1.0");
  await page.getByRole("button", { name: "Install…" }).click();
  const dialog = page.getByRole("dialog", { name: "Install acme/greeter" });
  await dialog.waitFor();
  assert.equal(await dialog.getByLabel("Version", { exact: true }).inputValue(), "0.1.0");
  const consent = dialog.getByRole("list", { name: "What acme/greeter 0.1.0 will be able to do" });
  await consent.getByText("Can send requests to 127.0.0.1").waitFor();
  assert.equal(await consent.getByText("api.example.com").count(), 0, "0.1.0 does not reach it");
  const install = dialog.getByRole("button", { name: "Install 0.1.0" });
  assert.equal(await install.isDisabled(), true, "nothing is installed before 'I allow'");
  await shot(page, "install-consent");
  await expectClean(page, assert);

  // The first attempt reaches the server with another digest (as if what was
  // shown were stale): the server refuses with the disclosure to show.
  let tampered = false;
  await page.route("**/v1/installs", async (route) => {
    const req = route.request();
    if (req.method() !== "POST" || tampered) return route.continue();
    tampered = true;
    await route.continue({ postData: JSON.stringify({ ...req.postDataJSON(), consent: "sha256:" + "0".repeat(64) }) });
  });
  await dialog.getByLabel(/I allow acme\/greeter 0\.1\.0/).check();
  await install.click();
  await dialog.getByRole("alert").getByText("is not what you were shown").waitFor();
  assert.equal(await dialog.getByLabel(/I allow/).isChecked(), false, "asked again");
  assert.equal(await install.isDisabled(), true);
  assert.deepEqual(await installs(), [], "a refused consent installs nothing");

  await dialog.getByLabel(/I allow acme\/greeter 0\.1\.0/).check();
  await install.click();
  await page.getByRole("dialog", { name: "Installed" }).getByText("is installed").waitFor();
  await shot(page, "install-done");
  const [i] = await installs();
  assert.equal(i.package, "acme/greeter");
  assert.equal(i.version, "0.1.0");
  assert.equal(i.pin, "^0.1");
  assert.equal(i.consent_digest, versions["0.1.0"].disclosure_digest, "the consent sent is the digest shown");
  await page.getByRole("button", { name: "Done" }).click();
  await page.getByText("Installed 0.1.0").waitFor();
  await page.context().close();
});

test("an upgrade that reaches more is held, shows the capability diff, and applies after re-consent", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace/installed");
  const row = page.locator("tr[data-package='acme/greeter']");
  await row.getByText("0.2.0 available").waitFor();
  await shot(page, "installed");
  await expectClean(page, assert);

  await row.getByRole("button", { name: "Upgrade…" }).click();
  const choose = page.getByRole("dialog", { name: "Upgrade acme/greeter" });
  assert.equal(await choose.getByLabel("Upgrade to").inputValue(), "0.2.0");
  await choose.getByText("moves the pin from ^0.1 to ^0.2").waitFor();
  await choose.getByRole("button", { name: "Upgrade to 0.2.0" }).click();

  // 202: held, with what it adds.
  const diff = page.getByRole("dialog", { name: "Allow more for acme/greeter?" });
  await diff.getByRole("heading", { name: "What it adds" }).waitFor();
  assert.match(await diff.locator(".adds").innerText(), /api\.example\.com/);
  const added = diff.locator("li[data-change='added']");
  assert.deepEqual(await added.allInnerTexts().then((t) => t.map((s) => s.replace(/\s+/g, " ").trim())), ["+ added: Can send requests to api.example.com"]);
  assert.match(await diff.locator("li[data-change='same']").first().innerText(), /127\.0\.0\.1/);
  assert.equal(await diff.locator("li[data-change='removed']").count(), 0);
  let [i] = await installs();
  assert.equal(i.version, "0.1.0", "held: still the old version");
  assert.equal(i.held?.version, "0.2.0");
  await shot(page, "upgrade-diff");
  await expectClean(page, assert);

  // Not now: it stays held, and the list says so (after a reload too).
  await diff.getByRole("button", { name: "Not now" }).click();
  await page.reload();
  await row.getByText("waiting for consent").waitFor();
  await row.getByRole("button", { name: "Review upgrade" }).click();
  await diff.locator("li[data-change='added']").getByText("api.example.com").waitFor();
  const apply = diff.getByRole("button", { name: "Allow and upgrade" });
  assert.equal(await apply.isDisabled(), true);
  await diff.getByLabel(/I allow acme\/greeter 0\.2\.0/).check();
  await apply.click();
  await page.getByRole("dialog").getByText("acme/greeter now runs 0.2.0").waitFor();
  [i] = await installs();
  assert.equal(i.version, "0.2.0");
  assert.equal(i.pin, "^0.2");
  assert.equal(i.consent_digest, versions["0.2.0"].disclosure_digest);
  assert.equal(i.held, undefined);
  await page.getByRole("button", { name: "Done" }).click();
  await row.getByText("up to date").waitFor();
  await page.context().close();
});

test("uninstall is confirmed, refused while an active workflow uses the connector, then done", async () => {
  const wf = await server.call("POST", "/v1/workflows", {
    name: "greets",
    grants: { hosts: ["127.0.0.1"] },
    steps: [{ id: "hi", kind: "action", connector: "greeter", action: "greet", input: { name: "Ada" } }],
  });
  await server.call("POST", `/v1/workflows/${wf.id}/activate`);
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace/installed");
  const row = page.locator("tr[data-package='acme/greeter']");
  await row.getByRole("button", { name: "Uninstall acme/greeter" }).click();
  const dialog = page.getByRole("dialog", { name: "Uninstall acme/greeter?" });
  await dialog.getByRole("button", { name: "Uninstall acme/greeter" }).click();
  await dialog.getByRole("alert").getByText(`greets (${wf.id})`).waitFor();
  await shot(page, "uninstall-refused");
  await expectClean(page, assert);
  assert.equal((await installs()).length, 1);

  await server.call("POST", `/v1/workflows/${wf.id}/deactivate`);
  await dialog.getByRole("button", { name: "Uninstall acme/greeter" }).click();
  await page.getByText("acme/greeter was uninstalled.").waitFor();
  await page.getByText("No connector is installed").waitFor();
  assert.deepEqual(await installs(), []);
  await page.context().close();
});

test("a template's use form is made from its parameter schema, shows problems on their fields, and creates the workflow", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace/weft/http-fan-out");
  await page.getByRole("link", { name: "Use this template" }).first().click();
  await page.getByRole("heading", { name: "Use http-fan-out 1.0.0" }).waitFor();
  assert.equal(await page.getByLabel("Parallelism").inputValue(), "4", "defaults filled in");
  assert.equal(await page.getByLabel("Timeout ms").inputValue(), "10000");
  // Nothing filled: the required ones say so, on their fields.
  await page.getByRole("button", { name: "Create workflow" }).click();
  const urls = page.getByLabel("Urls");
  assert.equal(await urls.getAttribute("aria-invalid"), "true");
  assert.match(await page.locator("#param-urls-error").innerText(), /at least one/);
  // What only the server checks (the schema's pattern and maximum) comes back on the field it names.
  await urls.fill("ftp://nope.example");
  await page.getByLabel("Hosts").fill("nope.example");
  await page.getByLabel("Parallelism").fill("99");
  await page.getByRole("button", { name: "Create workflow" }).click();
  await page.locator("#param-urls-error").getByText("does not match").waitFor();
  await page.locator("#param-parallelism-error").getByText("greater than the maximum of 16").waitFor();
  assert.equal(await page.locator("#param-hosts-error").count(), 0);
  await shot(page, "template-use");
  await expectClean(page, assert);

  await page.getByRole("button", { name: "Health of three services" }).click();
  assert.match(await urls.inputValue(), /^https:\/\/api\.example\.com\/health\nhttps:\/\/auth\.example\.com\/health/);
  await page.getByRole("button", { name: "Create workflow" }).click();
  await page.waitForURL(/\/workflows\/wf_[^/]+$/);
  const id = new URL(page.url()).pathname.split("/").pop();
  const wf = await server.call("GET", `/v1/workflows/${id}`);
  assert.equal(wf.name, "http-fan-out");
  assert.equal(wf.active, false);
  assert.deepEqual(wf.definition.vars.urls.length, 3);
  assert.deepEqual(wf.definition.grants.hosts, ["*.example.com", "status.example.org"]);
  await page.context().close();
});

test("a viewer sees the marketplace but cannot install or use", async () => {
  const page = await newPage(server);
  await login(page, viewer);
  await page.goto("/marketplace/acme/greeter");
  await page.getByText("Only admins and owners can install.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Install…" }).isDisabled(), true);
  await page.goto("/marketplace/acme/acme-digest?tab=use");
  assert.equal(await page.getByRole("button", { name: "Create workflow" }).isDisabled(), true);
  await expectClean(page, assert);
  await page.context().close();
});

test("on a phone the marketplace and a package fit the screen", async () => {
  const page = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(page, owner);
  for (const [path, name] of [
    ["/marketplace", "phone-marketplace"],
    ["/marketplace/acme/greeter", "phone-package"],
    ["/marketplace/installed", "phone-installed"],
  ]) {
    await page.goto(path);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.waitForLoadState("networkidle");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${path} is ${width}px wide`);
    await shot(page, name);
    await expectClean(page, assert);
  }
  await page.context().close();
});

test("a yanked version is marked and cannot be picked; a taken-down one is shown on the install and the package", async () => {
  assert.match(weft("registry", "yank", "acme/greeter@0.1.0"), /yanked acme\/greeter@0\.1\.0/);
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace/acme/greeter?tab=versions");
  await page.locator("tr[data-version='0.1.0']").getByText("yanked").waitFor();
  await page.goto("/marketplace/acme/greeter?version=0.1.0");
  await page.getByRole("note").getByText("Version 0.1.0 was yanked").waitFor();
  await page.getByRole("button", { name: "Install…" }).click();
  const dialog = page.getByRole("dialog", { name: "Install acme/greeter" });
  assert.deepEqual(await dialog.getByLabel("Version", { exact: true }).locator("option").allInnerTexts(), ["0.2.0 (latest)"]);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // The operator takes 0.2.0 down while this tenant runs it.
  const v2 = versions["0.2.0"];
  await server.call("POST", "/v1/installs", { package: "acme/greeter", version: "0.2.0", consent: v2.disclosure_digest });
  await server.call("POST", "/v1/ops/registry/packages/acme/greeter/versions/0.2.0/takedown", { reason: "it leaks tokens" }, server.opKey);
  await page.goto("/marketplace/installed");
  const row = page.locator("tr[data-package='acme/greeter']");
  await row.getByText("taken down").waitFor();
  assert.match(await row.innerText(), /it leaks tokens/);
  await shot(page, "installed-taken-down");
  await expectClean(page, assert);
  await page.goto("/marketplace/acme/greeter?version=0.2.0");
  await page.getByRole("note").getByText("Version 0.2.0 was taken down").waitFor();
  assert.match(await page.getByRole("note").innerText(), /it leaks tokens/);
  await expectClean(page, assert);
  await page.context().close();
});

test("a built-in connector says it is built in, not installs; a template's description is shown once", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/marketplace/weft/slack");
  await page.getByText("Built in: every tenant has it").waitFor();
  const main = await page.getByRole("main").innerText();
  assert.doesNotMatch(main, /\binstalls?\b/, "no install count for what cannot be installed");
  assert.doesNotMatch(main, /Installing it means/);
  assert.equal(await page.getByRole("button", { name: "Install…" }).count(), 0);
  await shot(page, "package-built-in");
  await expectClean(page, assert);
  // The list's card says the same.
  await page.goto("/marketplace?kind=connector&q=slack");
  const card = page.getByRole("article", { name: "slack" });
  assert.match(await card.innerText(), /Built in: every tenant has it/);
  assert.doesNotMatch(await card.innerText(), /\d+ installs?/);
  // A template whose README repeats its description shows it once on the Overview.
  const pkg = await server.call("GET", "/v1/registry/packages/weft/http-fan-out");
  const start = pkg.package.description.slice(0, 40);
  await page.goto("/marketplace/weft/http-fan-out");
  await page.getByRole("region", { name: "README" }).waitFor();
  const text = await page.getByRole("main").innerText();
  assert.equal(text.split(start).length - 1, 1, "the description appears once");
  await shot(page, "package-template-once");
  await page.context().close();
});
