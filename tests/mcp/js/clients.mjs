// Connections of the official TypeScript MCP SDK to the server the harness
// started (the fixture), and the API calls the tests make to check what a
// tool call did (a run started, a run cancelled).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { fixture } from "../harness.mjs";

export const fix = fixture();

/** The SDK's client, named so the server's log says who called. */
function client() {
  return new Client({ name: "weft-tests-ts", version: "1.0.0" });
}

/** A client over Streamable HTTP at `/mcp` with `key` as its bearer token. */
export async function overHttp(key = fix.keys.owner) {
  const transport = new StreamableHTTPClientTransport(new URL(fix.mcp), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  const c = client();
  await c.connect(transport);
  return c;
}

/**
 * A client over stdio: `weft mcp` spawned by the SDK. `args` are after `mcp`;
 * `env` is the child's whole environment besides PATH and HOME (the SDK passes
 * no other variable of this process, so no `WEFT_*` name leaks into weft).
 */
export async function overStdio(args, env = {}) {
  const transport = new StdioClientTransport({
    command: fix.bin,
    args: ["mcp", ...args],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, WEFT_LOG: "warn", ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const c = client();
  try {
    await c.connect(transport);
  } catch (e) {
    throw new Error(`weft mcp ${args.join(" ")} did not connect: ${e.message}\n${stderr}`);
  }
  c.stderr = () => stderr;
  return c;
}

/** A client of `weft mcp --server <base>`: the stdio bridge to the running server, keyed by WEFT_API_KEY. */
export function overBridge(key = fix.keys.owner) {
  return overStdio(["--server", fix.base], { WEFT_API_KEY: key });
}

/** A client of `weft mcp` on its own data dir (the fixture's embedded one). */
export function overEmbedded() {
  const e = fix.embedded;
  return overStdio(["--data-dir", e.data_dir, "--plugins", e.plugins]);
}

/** An API call with `key` (default: the owner's); the parsed answer, or a throw with the status and body. */
export async function api(method, path, body, key = fix.keys.owner) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(fix.base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `GET /v1/runs/{id}` until `pred` holds (at most 20 s); the run. */
export async function runUntil(id, pred, what = "the expected state") {
  const deadline = Date.now() + 20_000;
  let run;
  while (Date.now() < deadline) {
    run = await api("GET", `/v1/runs/${id}`);
    if (pred(run)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} never reached ${what}: ${JSON.stringify(run)}`);
}

/** The runs of a workflow, newest first. */
export async function runsOf(workflowId) {
  return (await api("GET", `/v1/runs?workflow_id=${encodeURIComponent(workflowId)}`)).items;
}

/** The text of a tool result's first text content. */
export function text(result) {
  return result.content?.find((c) => c.type === "text")?.text ?? "";
}

/** The API error envelope a failed tool call carries as its text. */
export function envelope(result) {
  try {
    return JSON.parse(text(result));
  } catch {
    throw new Error(`the tool error is not the API's error envelope: ${text(result)}`);
  }
}
