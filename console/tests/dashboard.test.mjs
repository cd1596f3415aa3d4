// The dashboard: what a new tenant is told to do first, then, with runs,
// the counts, the chart (and its table), what needs attention, the busiest
// workflows and usage against the quotas the operator set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { closeBrowser, expectClean, login, makeUser, newPage, shot, startServer } from "./harness.mjs";

let server, owner;
const wf = {};
let waitingRun;

async function until(id, status) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const run = await server.call("GET", `/v1/runs/${id}`);
    if (run.status === status) return run;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`run ${id} never became ${status}`);
}

before(async () => {
  server = await startServer();
  owner = await makeUser(server, "dana@acme.test", "owner");
});

after(async () => {
  await closeBrowser();
  await server?.stop();
});

test("a new tenant is told to create a workflow", async () => {
  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/");
  await page.getByText("Welcome to Weft").waitFor();
  const create = page.getByRole("link", { name: "Create a workflow" });
  assert.equal(await create.getAttribute("href"), "/workflows/new");
  await shot(page, "dashboard-empty");
  await expectClean(page, assert);
  await page.context().close();
});

test("the dashboard shows the runs, what needs attention, the busiest workflows and the quotas", async () => {
  wf.ok = await server.call("POST", "/v1/workflows", {
    name: "sync contacts",
    steps: [{ id: "shape", kind: "action", connector: "transform", action: "jq", input: { filter: "{ok: true}", data: 1 } }],
  });
  wf.bad = await server.call("POST", "/v1/workflows", {
    name: "nightly report",
    steps: [{ id: "crunch", kind: "action", connector: "transform", action: "jq", input: { filter: "[range(0;100000000)] | length", data: 1 } }],
  });
  wf.wait = await server.call("POST", "/v1/workflows", { name: "expense approval", steps: [{ id: "manager", kind: "wait", until: "resume" }] });
  for (let i = 0; i < 3; i++) await server.call("POST", `/v1/workflows/${wf.ok.id}/runs?wait_ms=20000`, { input: { i } });
  for (let i = 0; i < 2; i++) await server.call("POST", `/v1/workflows/${wf.bad.id}/runs?wait_ms=20000`, {});
  waitingRun = await server.call("POST", `/v1/workflows/${wf.wait.id}/runs`, {});
  await until(waitingRun.id, "waiting");
  // The operator gives the tenant a monthly run quota.
  const [tenant] = (await server.call("GET", "/v1/ops/tenants", undefined, server.opKey)).items;
  await server.call("PATCH", `/v1/ops/tenants/${tenant.id}`, { limits: { quotas: { runs_per_month: 200 } } }, server.opKey);

  const page = await newPage(server);
  await login(page, owner);
  await page.goto("/");
  const tiles = page.getByRole("group", { name: /Last 24 hours/ });
  await tiles.waitFor();
  const tileText = (await tiles.innerText()).replace(/\s+/g, " ");
  assert.match(tileText, /Runs 6 /);
  assert.match(tileText, /Completed 3 /);
  assert.match(tileText, /Failed 2 /);
  assert.match(tileText, /In progress 1 /);
  assert.match(tileText, /Success rate 60%/);

  // The chart says what it shows, and its table has the same numbers.
  const chart = page.getByRole("img", { name: /Runs per hour/ });
  assert.match(await chart.getAttribute("aria-label"), /6 runs \(3 completed, 2 failed, 1 waiting\)/);
  assert.equal(await page.locator("svg rect.hit").count(), 24, "one bar per hour");
  await page.getByText("Show as a table").click();
  const table = page.getByRole("region", { name: "Runs over time, as a table" });
  const last = (await table.locator("tbody tr").last().innerText()).split(/\s+/);
  assert.deepEqual(last.slice(-4), ["3", "2", "1", "6"], "completed, failed, waiting, all in the current hour");

  // Needs attention: the approval first, then the failures with their reason.
  const attention = page.getByRole("region", { name: "Needs attention" });
  const approval = attention.getByRole("link", { name: "expense approval" });
  assert.equal(await approval.getAttribute("href"), `/runs/${waitingRun.id}?step=manager`);
  assert.match(await attention.innerText(), /approval at manager/);
  assert.equal(await attention.getByRole("link", { name: "nightly report" }).count(), 2);
  assert.match(await attention.innerText(), /memory_limit at crunch/);

  const busiest = page.getByRole("region", { name: "Busiest workflows" });
  const rows = await busiest.locator("tbody tr").allInnerTexts();
  assert.match(rows[0], /sync contacts\s+3\s+0/);
  assert.match(rows[1], /nightly report\s+2\s+2 \(100%\)/);

  const quotas = page.getByRole("region", { name: "Usage and quotas" });
  assert.match(await quotas.innerText(), /Runs this month\s+6 of 200 \(3%\)/);
  assert.match(await quotas.innerText(), /Steps this month\s+\d+ · no quota/);
  await shot(page, "dashboard");
  await expectClean(page, assert);

  // A link from the dashboard opens the approval on the run's page.
  await approval.click();
  await page.waitForURL(new RegExp(`/runs/${waitingRun.id}\\?step=manager`));
  await page.getByRole("button", { name: "Approve" }).waitFor();

  // Another period: a bar per day, kept in the address.
  await page.goto("/");
  await page.getByLabel("Period", { exact: true }).selectOption("30d");
  await page.waitForURL(/period=30d/);
  await page.getByRole("img", { name: /Runs per day/ }).waitFor();
  assert.equal(await page.locator("svg rect.hit").count(), 30);
  await page.reload();
  assert.equal(await page.getByLabel("Period", { exact: true }).inputValue(), "30d");
  await page.context().close();
});

test("the dashboard in dark mode and on a phone", async () => {
  const dark = await newPage(server, { colorScheme: "dark" });
  await login(dark, owner);
  await dark.goto("/");
  await dark.getByRole("img", { name: /Runs per hour/ }).waitFor();
  await shot(dark, "dashboard-dark");
  await expectClean(dark, assert);
  await dark.context().close();

  const phone = await newPage(server, { viewport: { width: 390, height: 844 } });
  await login(phone, owner);
  await phone.goto("/");
  await phone.getByRole("img", { name: /Runs per hour/ }).waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page does not scroll sideways (${overflow}px)`);
  await shot(phone, "dashboard-phone");
  await expectClean(phone, assert);
  await phone.context().close();
});
