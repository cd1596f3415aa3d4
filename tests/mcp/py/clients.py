"""What the Python MCP client tests share (imported by each test file): the fixture the harness seeded
(tests/mcp/harness.mjs, which started `weft serve` and runs pytest with
MCP_FIXTURE set), connections of the official Python SDK (`mcp`) over
Streamable HTTP in its current (2026-07-28, `server/discover`) and legacy
(2025-11-25 `initialize`) modes and over stdio, and API calls that check what
a tool call did."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

MODERN = "2026-07-28"
LEGACY = "2025-11-25"


def _load() -> dict[str, Any]:
    path = os.environ.get("MCP_FIXTURE")
    if not path:
        raise RuntimeError(
            "MCP_FIXTURE is not set: run pytest through the harness, "
            "`node tests/mcp/harness.mjs -- python -m pytest tests/mcp/py` (scripts/mcp-clients test does)"
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


FIX = _load()


@asynccontextmanager
async def over_http(key: str | None = None, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK's client at `/mcp` with `key` as its bearer token; `mode` is the
    SDK's: "auto" probes `server/discover` (falling back to `initialize`),
    "legacy" forces the 2025-11-25 handshake."""
    headers = {"Authorization": f"Bearer {key or FIX['keys']['owner']}"}
    timeout = httpx2.Timeout(30.0, read=120.0)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
        transport = streamable_http_client(FIX["mcp"], http_client=http)
        async with Client(transport, mode=mode, client_info=_info()) as client:
            yield client


@asynccontextmanager
async def over_stdio(args: list[str], env: dict[str, str], mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK spawning `weft mcp ARGS` and talking over its stdin and stdout.
    The child's environment is `env` with PATH and HOME only (no `WEFT_*`
    name of this process: weft refuses the ones it does not know)."""
    params = StdioServerParameters(
        command=FIX["bin"],
        args=["mcp", *args],
        env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "WEFT_LOG": "warn", **env},
    )
    async with Client(params, mode=mode, client_info=_info()) as client:
        yield client


def over_bridge(key: str | None = None, mode: str = "auto"):
    """`weft mcp --server URL`, the key in WEFT_API_KEY."""
    return over_stdio(["--server", FIX["base"]], {"WEFT_API_KEY": key or FIX["keys"]["owner"]}, mode)


def over_embedded(mode: str = "auto"):
    """`weft mcp` on its own data dir (seeded by the harness, no server)."""
    e = FIX["embedded"]
    return over_stdio(["--data-dir", e["data_dir"], "--plugins", e["plugins"]], {}, mode)


def _info():
    from mcp_types import Implementation

    return Implementation(name="weft-tests-py", version="1.0.0")


def api(method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    """An API call (default: the owner's key); the parsed answer, raising on an error status."""
    headers = {"Authorization": f"Bearer {key or FIX['keys']['owner']}"}
    with httpx2.Client(timeout=30.0) as http:
        r = http.request(method, FIX["base"] + path, headers=headers, json=body)
    if r.status_code >= 400:
        raise AssertionError(f"{method} {path}: {r.status_code} {r.text}")
    return r.json() if r.content else None


def runs_of(workflow_id: str) -> list[dict[str, Any]]:
    """A workflow's runs, newest first."""
    return api("GET", f"/v1/runs?workflow_id={workflow_id}")["items"]


async def run_until(run_id: str, pred, what: str = "the expected state", seconds: float = 20.0) -> dict[str, Any]:
    """Polls the run until `pred(run)` (at most `seconds`), without blocking
    the event loop: an open client keeps talking meanwhile (a cancellation it
    still has to send, a session it keeps)."""
    deadline = time.monotonic() + seconds
    run = None
    while time.monotonic() < deadline:
        run = await anyio.to_thread.run_sync(api, "GET", f"/v1/runs/{run_id}")
        if pred(run):
            return run
        await anyio.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {what}: {run}")


def text(result) -> str:
    """The first text content of a tool result."""
    return next((c.text for c in result.content if getattr(c, "type", None) == "text"), "")


def envelope(result) -> dict[str, Any]:
    """The API's error envelope a failed tool call carries as its text."""
    try:
        return json.loads(text(result))
    except json.JSONDecodeError as e:
        raise AssertionError(f"the tool error is not the API's error envelope: {text(result)!r}") from e


async def tool_names(client: Client) -> list[str]:
    """Every tool the client is offered (all pages)."""
    names: list[str] = []
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor)
        names += [t.name for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            return names


async def rpc_error(call, code: int) -> MCPError:
    """Awaits `call`, which must fail with the JSON-RPC error `code`."""
    try:
        result = await call
    except MCPError as e:
        assert e.code == code, f"{e.code} {e.message}"
        return e
    raise AssertionError(f"expected JSON-RPC error {code}, got a result: {result}")
