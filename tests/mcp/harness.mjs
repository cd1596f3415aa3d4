// What both MCP client suites (js/ with the TypeScript SDK, py/ with the
// Python SDK) share: a real `weft serve` on a free loopback port with the
// bundled connectors and a fresh data dir, seeded through the HTTP API with
// two tenants, keys of each role, a scoped key and a few workflows. The seed
// is written as JSON (the fixture) so that the Python tests read the same ids
// and keys instead of seeding again.
//
// As a program it starts and seeds a server, runs a command with
// MCP_FIXTURE=<path of the fixture JSON> in its environment, stops the
// server and exits with the command's status:
//
//   node harness.mjs -- node --test js/
//   node harness.mjs -- $VENV/bin/python -m pytest py/
//
// Environment:
//   WEFT_BIN        the weft binary (default $CARGO_TARGET_DIR/debug/weft)
//   WEFT_WASM_DIR   folder of the bundled connectors' .wasm files
//                   (default $CARGO_TARGET_DIR/wasm32-wasip2/release)
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const target = process.env.CARGO_TARGET_DIR || join(process.env.HOME, ".cache/weft/target");
export const wasmDir = process.env.WEFT_WASM_DIR || join(target, "wasm32-wasip2/release");
export const bin = process.env.WEFT_BIN || join(target, "debug/weft");
/** The connectors each test server loads: neither needs the network. */
const CONNECTORS = ["transform", "http"];
/**
 * How long a tool call waits for its run (`mcp.call_wait_ms`): longer than
 * any seeded workflow but `long wait` takes, short enough for a test to see
 * a call outlive it.
 */
export const CALL_WAIT_MS = 4_000;

/**
 * The environment for a `weft` process: this one's without any `WEFT_*`
 * variable (weft refuses the names it does not know, and the test script
 * exports build-only ones), plus `extra`.
 */
export function weftEnv(extra = {}) {
  const own = Object.entries(process.env).filter(([k]) => !k.startsWith("WEFT_"));
  return { ...Object.fromEntries(own), ...extra };
}

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

/** A fresh data dir with the bundled connectors copied into `connectors/`. */
export function dataDir(prefix = "weft-mcp-test-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const plugins = join(dir, "connectors");
  mkdirSync(plugins);
  for (const c of CONNECTORS) {
    cpSync(join(wasmDir, `weft_plugin_${c}.wasm`), join(plugins, `weft_plugin_${c}.wasm`));
  }
  return { dir, plugins, weft: join(dir, "weft") };
}

/**
 * Starts `weft serve` with the bundled connectors on a free loopback port;
 * `env` adds settings (`WEFT_…` names). Resolves once `/readyz` answers and
 * both first-start keys (the owner's and the operator's) were printed.
 */
export async function startServer({ env = {}, data = dataDir() } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["serve", "--data-dir", data.weft], {
    env: weftEnv({
      WEFT_LISTEN: `127.0.0.1:${port}`,
      WEFT_PLUGINS: data.plugins,
      WEFT_LOG: process.env.MCP_TEST_LOG || "warn",
      // A call waits this long for its run, then answers with the run's id.
      WEFT_MCP_CALL_WAIT_MS: String(CALL_WAIT_MS),
      ...env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + 60_000;
  let key, opKey;
  while (Date.now() < deadline) {
    key ??= /Bootstrap API key[^\n]*\n\n\s+(\S+)/.exec(log)?.[1];
    opKey ??= /Operator key[^\n]*\n\n\s+(\S+)/.exec(log)?.[1];
    if (key && opKey) {
      try {
        if ((await fetch(base + "/readyz")).ok) break;
      } catch {}
    }
    if (child.exitCode !== null) throw new Error(`weft serve exited: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!key || !opKey) {
    child.kill("SIGKILL");
    throw new Error(`weft serve did not start in 60 s: ${log}`);
  }
  return {
    base,
    key,
    opKey,
    data,
    log: () => log,
    async stop({ keep = false } = {}) {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      }
      if (!keep) rmSync(data.dir, { recursive: true, force: true });
    },
    /** A call to the API with the owner key (or `as`): the parsed answer; throws on an error answer. */
    async call(method, path, body, as = key) {
      const headers = { authorization: `Bearer ${as}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
  };
}

/** A workflow exposed as the tool `lookup_refund`: typed input, a transform step, a typed answer. */
export const refundLookup = {
  name: "refund lookup",
  description: "Looks up an order's refund (seeded by the MCP client tests).",
  input_schema: {
    type: "object",
    required: ["order_id"],
    additionalProperties: false,
    properties: {
      order_id: { type: "string", minLength: 1, description: "the order's id, like ord_123" },
      amount: { type: "integer", minimum: 0, description: "the refunded amount in cents" },
    },
  },
  mcp: {
    expose: true,
    name: "lookup_refund",
    description: "Looks up an order's refund status. Use it when a customer asks about a refund.",
  },
  steps: [
    {
      id: "fetch",
      kind: "action",
      connector: "transform",
      action: "jq",
      input: {
        filter: '{order: .order_id, status: (if (.amount // 0) > 10000 then "review" else "refunded" end)}',
        data: "{{ trigger.body }}",
      },
    },
    {
      id: "answer",
      kind: "respond",
      output_schema: {
        type: "object",
        required: ["order", "status"],
        properties: { order: { type: "string" }, status: { type: "string", enum: ["refunded", "review"] } },
      },
      body: { order: "{{ steps.fetch.output.result.order }}", status: "{{ steps.fetch.output.result.status }}" },
    },
  ],
};

/** Five steps, about half a second apart: a call of `slow_steps` shows progress per finished step. */
export const slowSteps = {
  name: "slow steps",
  input_schema: { type: "object", properties: { label: { type: "string" } } },
  mcp: { expose: true, name: "slow_steps", description: "Counts slowly, one step at a time." },
  steps: [
    { id: "one", kind: "action", connector: "transform", action: "jq", input: { filter: "1", data: null } },
    { id: "pause_a", kind: "wait", duration_ms: 500 },
    { id: "two", kind: "action", connector: "transform", action: "jq", input: { filter: "2", data: null } },
    { id: "pause_b", kind: "wait", duration_ms: 500 },
    { id: "done", kind: "respond", body: { counted: "{{ steps.two.output.result }}" } },
  ],
};

/** A call that outlives any test unless cancelled: a step, then a two-minute wait. */
export const longWait = {
  name: "long wait",
  input_schema: { type: "object" },
  mcp: { expose: true, name: "long_wait", description: "Waits two minutes, for cancellation tests." },
  steps: [
    { id: "begin", kind: "action", connector: "transform", action: "jq", input: { filter: '"started"', data: null } },
    { id: "hold", kind: "wait", duration_ms: 120_000 },
    { id: "end", kind: "respond", body: { finished: true } },
  ],
};

/** Not exposed: no tool of its own (reachable only through `run_workflow`). */
export const internalCleanup = {
  name: "internal cleanup",
  steps: [{ id: "r", kind: "respond", body: { cleaned: true } }],
};

/** Exposed, but in the other tenant: never a tool of the first. */
export const otherTenantTool = {
  name: "other tenant tool",
  mcp: { expose: true, name: "other_tenant_tool", description: "Belongs to the second tenant." },
  steps: [{ id: "r", kind: "respond", body: { secret_of: "tenant b" } }],
};

/**
 * Seeds `server`: a second tenant (made by the operator key), a member, a
 * viewer and a scoped key (member narrowed to reading workflows and runs) in
 * the first, and the workflows above. Returns the fixture: every id and key
 * the tests use.
 */
export async function seed(server) {
  const key = async (name, role, scopes) =>
    (await server.call("POST", "/v1/keys", { name, role, ...(scopes ? { scopes } : {}) })).secret;
  const keys = {
    owner: server.key,
    member: await key("mcp member", "member"),
    viewer: await key("mcp viewer", "viewer"),
    scoped: await key("mcp scoped reader", "member", ["workflows:read", "runs:read"]),
    operator: server.opKey,
  };
  const other = await server.call("POST", "/v1/ops/tenants", { name: "mcp other tenant" }, server.opKey);
  keys.other_owner = other.owner_key;
  // Every one active: only an active workflow is a tool, so the one that is
  // not a tool is absent because it is not exposed.
  const create = async (def, as = server.key) => {
    const wf = await server.call("POST", "/v1/workflows", def, as);
    await server.call("POST", `/v1/workflows/${wf.id}/activate`, undefined, as);
    return { id: wf.id, name: def.name, tool: def.mcp?.expose ? def.mcp.name : null };
  };
  const workflows = {
    refund: await create(refundLookup),
    slow: await create(slowSteps),
    long: await create(longWait),
    internal: await create(internalCleanup),
    other: await create(otherTenantTool, keys.other_owner),
  };
  // A run in the other tenant, whose id the first tenant's keys must not open.
  const otherRun = await server.call("POST", `/v1/workflows/${workflows.other.id}/runs`, { input: {} }, keys.other_owner);
  return {
    base: server.base,
    mcp: `${server.base}/mcp`,
    bin,
    call_wait_ms: CALL_WAIT_MS,
    wasm_dir: wasmDir,
    connectors: CONNECTORS,
    tenants: { other: other.id },
    keys,
    workflows,
    runs: { other: otherRun.id },
  };
}

/**
 * A data dir for `weft mcp` on its own (embedded, no server): a `weft serve`
 * makes it with the refund workflow active, then stops, so the stdio server
 * later opens a store nobody else holds.
 */
export async function embeddedDataDir() {
  const server = await startServer({ data: dataDir("weft-mcp-embedded-") });
  try {
    const wf = await server.call("POST", "/v1/workflows", refundLookup);
    await server.call("POST", `/v1/workflows/${wf.id}/activate`);
    return {
      dir: server.data.dir,
      data_dir: server.data.weft,
      plugins: server.data.plugins,
      key: server.key,
      workflow: wf.id,
    };
  } finally {
    await server.stop({ keep: true });
  }
}

/** The fixture a suite runs with (written by the program below). */
export function fixture() {
  const path = process.env.MCP_FIXTURE;
  if (!path) throw new Error("MCP_FIXTURE is not set: run the suite through `node harness.mjs -- ...` (npm test does)");
  return JSON.parse(readFileSync(path, "utf8"));
}

/** The program: start, seed, run the command, stop; the command's status. */
async function main(argv) {
  const sep = argv.indexOf("--");
  const command = sep < 0 ? [] : argv.slice(sep + 1);
  if (command.length === 0) {
    console.error("usage: node harness.mjs -- COMMAND [ARGS...]");
    return 2;
  }
  const [started, made] = await Promise.allSettled([startServer(), embeddedDataDir()]);
  if (started.status === "rejected" || made.status === "rejected") {
    if (started.status === "fulfilled") await started.value.stop();
    if (made.status === "fulfilled") rmSync(made.value.dir, { recursive: true, force: true });
    console.error(`harness: ${(started.reason ?? made.reason)?.stack}`);
    return 1;
  }
  const [server, embedded] = [started.value, made.value];
  let status = 1;
  try {
    const seeded = { ...(await seed(server)), embedded };
    const path = join(server.data.dir, "fixture.json");
    writeFileSync(path, JSON.stringify(seeded, null, 2));
    const child = spawn(command[0], command.slice(1), {
      env: { ...process.env, MCP_FIXTURE: path },
      stdio: "inherit",
    });
    status = await new Promise((resolve) => {
      child.on("error", (e) => {
        console.error(`harness: cannot run ${command[0]}: ${e.message}`);
        resolve(127);
      });
      child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } catch (e) {
    console.error(`harness: seeding failed: ${e.stack || e}`);
  } finally {
    if (status !== 0) {
      const lines = server.log().trimEnd().split("\n");
      console.error(`\nharness: the last lines of weft serve's log:\n${lines.slice(-60).join("\n")}`);
    }
    await server.stop();
    rmSync(embedded.dir, { recursive: true, force: true });
  }
  return status;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
