"""The official Python MCP SDK forced to the 2025-11-25 `initialize`
handshake (mode="legacy"), the way clients that only know it connect, over
Streamable HTTP: the handshake, the tools, a call with its output, progress,
and a cancellation sent as `notifications/cancelled` on the session."""

from __future__ import annotations

import anyio
import pytest
from clients import FIX, LEGACY, over_http, run_until, runs_of, text

pytestmark = pytest.mark.anyio


async def test_initialize_then_list_and_call():
    async with over_http(mode="legacy") as c:
        assert c.protocol_version == LEGACY
        assert c.session.initialize_result is not None
        assert "weft" in c.server_info.name.lower()
        names = [t.name for t in (await c.list_tools()).tools]
        assert "lookup_refund" in names and "list_workflows" in names, names
        assert not [n for n in names if "other_tenant" in n or "internal_cleanup" in n], names
        result = await c.call_tool("lookup_refund", {"order_id": "ord_legacy", "amount": 99999})
    assert not result.is_error, text(result)
    assert result.structured_content == {"order": "ord_legacy", "status": "review"}


async def test_progress_and_cancellation_on_a_session():
    already = {r["id"] for r in runs_of(FIX["workflows"]["long"]["id"])}
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()

    async with over_http(mode="legacy") as c:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(c.call_tool, "long_wait", {}, None, on_progress)
                await started.wait()
                tg.cancel_scope.cancel()
        new = [r for r in runs_of(FIX["workflows"]["long"]["id"]) if r["id"] not in already]
        assert len(new) == 1, new
        run = await run_until(new[0]["id"], lambda r: r["status"] == "cancelled", "cancelled")
    assert run["trigger"] == "mcp"
