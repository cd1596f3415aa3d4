"""The official Python MCP SDK over stdio, spawning `weft mcp`: as a bridge to
the running server (`--server`, the key in WEFT_API_KEY), in the SDK's
current mode and forced to the legacy handshake, and embedded on its own data
dir. The basics in each: the handshake, the tools, a call with its output."""

from __future__ import annotations

import pytest
from clients import FIX, LEGACY, MODERN, over_bridge, over_embedded, runs_of, text

pytestmark = pytest.mark.anyio


async def basics(c, version: str) -> None:
    assert c.protocol_version == version
    names = [t.name for t in (await c.list_tools()).tools]
    assert "lookup_refund" in names, names
    assert not [n for n in names if "other_tenant" in n or "internal_cleanup" in n], names
    result = await c.call_tool("lookup_refund", {"order_id": "ord_stdio_py"})
    assert not result.is_error, text(result)
    assert result.structured_content == {"order": "ord_stdio_py", "status": "refunded"}


@pytest.mark.parametrize(("mode", "version"), [("auto", MODERN), ("legacy", LEGACY)])
async def test_bridge(mode: str, version: str):
    async with over_bridge(mode=mode) as c:
        await basics(c, version)
    run = runs_of(FIX["workflows"]["refund"]["id"])[0]
    assert (run["trigger"], run["status"]) == ("mcp", "completed")


async def test_bridge_keeps_the_keys_role():
    async with over_bridge(FIX["keys"]["viewer"]) as c:
        names = [t.name for t in (await c.list_tools()).tools]
    assert "list_workflows" in names and "create_workflow" not in names, names


async def test_embedded():
    async with over_embedded() as c:
        await basics(c, MODERN)
