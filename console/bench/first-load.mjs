// The console's weight and first-load time on loopback (`scripts/bench console`).
//
// Starts a release `weft serve` (WEFT_BIN) with the console embedded, then in
// Debian's Chromium, each time in a fresh context (empty cache, no cookies):
//   - the login page: navigation start to the sign-in form on screen;
//   - the dashboard of a signed-in user: sign-in click (an argon2id check) to
//     the dashboard drawn with its data;
//   - a warm reload of the dashboard (hashed assets from the cache).
// Prints the bytes each first load transfers and the median and worst times.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { closeBrowser, makeUser, newPage, startServer } from "../tests/harness.mjs";

const reps = Number(process.env.WEFT_BENCH_REPS || 15);
const assets = join(process.env.WEFT_CONSOLE_DIST || join(process.env.CARGO_TARGET_DIR || join(process.env.HOME, ".cache/weft/target"), "console"), "assets");
const server = await startServer();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const worst = (xs) => Math.max(...xs);
const ms = (x) => `${x.toFixed(0)} ms`;
try {
  const user = await makeUser(server, "bench@acme.test");
  // A tenant with something to show: a workflow and a few runs.
  const wf = await server.call("POST", "/v1/workflows", {
    name: "bench",
    steps: [{ id: "t", kind: "action", connector: "transform", action: "jq", input: { filter: ".", data: "{{ trigger.body }}" } }],
  });
  for (let i = 0; i < 20; i++) await server.call("POST", `/v1/workflows/${wf.id}/runs`, { input: { i } });

  // The files of a first load, as sent (brotli) and raw.
  const html = await (await fetch(server.base + "/")).text();
  const files = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  let raw = 0, br = 0, gz = 0;
  for (const f of files) {
    const body = Buffer.from(await (await fetch(server.base + f)).arrayBuffer());
    raw += body.length;
    br += brotliCompressSync(body).length;
    gz += gzipSync(body, { level: 9 }).length;
  }
  console.log(`first-load files: ${files.length} (${files.join(", ")})`);
  console.log(`  raw ${(raw / 1024).toFixed(1)} KiB, gzip ${(gz / 1024).toFixed(1)} KiB, brotli ${(br / 1024).toFixed(1)} KiB`);
  const all = readdirSync(assets).filter((f) => !/\.(br|gz)$/.test(f));
  const total = all.reduce((n, f) => n + statSync(join(assets, f)).size, 0);
  const totalBr = all.reduce((n, f) => n + (existsSync(join(assets, f + ".br")) ? statSync(join(assets, f + ".br")).size : statSync(join(assets, f)).size), 0);
  console.log(`the whole console (${all.length} files, each page its own chunk): raw ${(total / 1024).toFixed(1)} KiB, brotli ${(totalBr / 1024).toFixed(1)} KiB`);

  const login = [], dash = [], warm = [], sent = [];
  for (let i = 0; i < reps; i++) {
    const page = await newPage(server);
    let bytes = 0;
    page.on("response", async (r) => {
      const len = Number((await r.allHeaders())["content-length"] || 0);
      bytes += len;
    });
    const t0 = Date.now();
    await page.goto("/login");
    await page.getByLabel("Email").waitFor();
    login.push(Date.now() - t0);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    const t1 = Date.now();
    await page.getByRole("button", { name: "Sign in" }).click();
    // Drawn: the busiest workflows came back from the statistics route.
    await page.getByRole("link", { name: "bench" }).first().waitFor();
    dash.push(Date.now() - t1);
    sent.push(bytes);
    const t2 = Date.now();
    await page.reload();
    await page.getByRole("link", { name: "bench" }).first().waitFor();
    warm.push(Date.now() - t2);
    await page.context().close();
  }
  console.log(`login page, cold (fresh cache), ${reps} loads: median ${ms(median(login))}, worst ${ms(worst(login))}`);
  console.log(`  bytes over the wire per cold load (median, login + dashboard): ${(median(sent) / 1024).toFixed(1)} KiB`);
  console.log(`sign-in to dashboard drawn: median ${ms(median(dash))}, worst ${ms(worst(dash))}`);
  console.log(`dashboard reload, warm cache: median ${ms(median(warm))}, worst ${ms(worst(warm))}`);
} finally {
  await closeBrowser();
  await server.stop();
}
