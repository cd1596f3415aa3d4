"""The official Python MCP SDK in its current mode (2026-07-28: stateless,
`server/discover`, no session) against a real `weft serve` over Streamable
HTTP: every case of the issue at least once in this client. Cancellation here
is the current revision's: the client closes the call's response stream."""

from __future__ import annotations

import anyio
import jsonschema
import pytest
from clients import (
    FIX,
    MODERN,
    api,
    envelope,
    over_http,
    rpc_error,
    run_until,
    runs_of,
    text,
    tool_names,
)

pytestmark = pytest.mark.anyio

REFUND = FIX["workflows"]["refund"]
WRITES = {"create_workflow", "update_workflow", "set_workflow_active", "run_workflow", "cancel_run"}


async def test_discover_adopts_the_current_revision_without_a_session():
    async with over_http() as c:
        assert c.protocol_version == MODERN
        assert c.session.discover_result is not None, "server/discover answered (no initialize fallback)"
        assert c.session.initialize_result is None
        assert MODERN in c.session.discover_result.supported_versions
        assert c.server_capabilities.tools is not None
        assert c.server_capabilities.resources is not None


async def test_tools_are_the_tenants_exposed_workflows_and_the_management_tools():
    async with over_http() as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
    refund = tools.get("lookup_refund")
    assert refund is not None, sorted(tools)
    assert refund.input_schema["type"] == "object"
    assert refund.input_schema["required"] == ["order_id"]
    assert set(refund.input_schema["properties"]) == {"order_id", "amount"}
    assert refund.output_schema is not None and refund.output_schema["required"] == ["order", "status"]
    for name in ("list_workflows", "get_workflow", "validate_workflow", "create_workflow", "get_run", "list_runs"):
        assert name in tools, sorted(tools)
    assert not [n for n in tools if "internal_cleanup" in n], "the unexposed workflow is no tool"
    assert not [n for n in tools if "other_tenant" in n], "another tenant's tool is absent"


async def test_the_other_tenant_has_its_own_tool_and_not_ours():
    """The control for every "absent" above: the other tenant's workflow is a
    tool, for its own key."""
    async with over_http(FIX["keys"]["other_owner"]) as c:
        names = set(await tool_names(c))
        assert "other_tenant_tool" in names, names
        assert not names & {"lookup_refund", "slow_steps", "long_wait"}, names
        result = await c.call_tool("other_tenant_tool", {})
        await rpc_error(c.call_tool("lookup_refund", {"order_id": "o"}), -32602)
    assert result.structured_content == {"secret_of": "tenant b"}


async def test_a_call_answers_the_workflows_output_matching_its_output_schema():
    async with over_http() as c:
        tool = next(t for t in (await c.list_tools()).tools if t.name == "lookup_refund")
        result = await c.call_tool("lookup_refund", {"order_id": "ord_py", "amount": 250})
    assert not result.is_error, text(result)
    assert result.structured_content == {"order": "ord_py", "status": "refunded"}
    jsonschema.validate(result.structured_content, tool.output_schema)
    run = runs_of(REFUND["id"])[0]
    assert (run["trigger"], run["status"]) == ("mcp", "completed")


async def test_arguments_that_break_the_input_schema_name_the_field_and_start_nothing():
    before = len(runs_of(REFUND["id"]))
    async with over_http() as c:
        missing = await c.call_tool("lookup_refund", {"amount": 1})
        negative = await c.call_tool("lookup_refund", {"order_id": "ord_1", "amount": -5})
    assert missing.is_error and envelope(missing)["error"]["code"] == "invalid_input"
    assert "order_id" in text(missing)
    assert negative.is_error and "amount" in text(negative)
    assert len(runs_of(REFUND["id"])) == before, "nothing started"


async def test_an_unknown_tool_is_a_json_rpc_error():
    async with over_http() as c:
        await rpc_error(c.call_tool("no_such_tool", {}), -32602)
        await rpc_error(c.call_tool("other_tenant_tool", {}), -32602)


async def test_progress_arrives_as_steps_finish():
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with over_http() as c:
        result = await c.call_tool("slow_steps", {"label": "py"}, progress_callback=on_progress)
    assert not result.is_error, text(result)
    assert result.structured_content == {"counted": 2}
    # One notification per finished step, in order (the respond step's may
    # come with the answer instead of before it).
    assert len(seen) >= 4, seen
    assert [p for p, _ in seen] == list(range(1, len(seen) + 1)), seen
    assert all(t == 5 for _, t in seen), seen


async def test_cancelling_a_call_closes_its_stream_and_cancels_the_run():
    already = {r["id"] for r in runs_of(FIX["workflows"]["long"]["id"])}
    started = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        started.set()

    finished = []
    async with over_http() as c:

        async def call() -> None:
            finished.append(await c.call_tool("long_wait", {}, progress_callback=on_progress))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await started.wait()
                tg.cancel_scope.cancel()
    assert finished == [], "the call was abandoned"
    new = [r for r in runs_of(FIX["workflows"]["long"]["id"]) if r["id"] not in already]
    assert len(new) == 1, new
    run = await run_until(new[0]["id"], lambda r: r["status"] == "cancelled", "cancelled")
    assert run["trigger"] == "mcp"


async def test_a_viewer_is_not_offered_writing_tools_and_is_refused_them():
    async with over_http(FIX["keys"]["viewer"]) as c:
        names = set(await tool_names(c))
        assert not names & WRITES, names & WRITES
        assert {"list_workflows", "get_workflow", "get_run"} <= names
        await rpc_error(c.call_tool("create_workflow", {"definition": {"name": "x", "steps": []}}), -32602)


async def test_a_scoped_key_sees_only_the_tools_its_scopes_allow():
    async with over_http(FIX["keys"]["scoped"]) as c:
        names = set(await tool_names(c))
    assert {"list_workflows", "get_workflow", "get_run", "list_runs"} <= names, names
    assert not names & WRITES, names & WRITES
    assert "lookup_refund" not in names, "no runs:start scope: no workflow tool"


async def test_validate_workflow_returns_every_problem_by_path():
    broken = {
        "name": "broken draft py",
        "steps": [
            {"id": "a", "kind": "action", "connector": "nope", "action": "x", "input": {}},
            {"id": "b", "kind": "wait"},
        ],
    }
    async with over_http(FIX["keys"]["viewer"]) as c:
        result = await c.call_tool("validate_workflow", {"definition": broken})
    body = result.structured_content or envelope(result)
    problems = body.get("problems") or body.get("error", {}).get("problems") or body.get("error", {}).get("details")
    assert problems, text(result)
    paths = {p["path"] for p in problems}
    assert any(p.startswith("/steps/0") for p in paths), problems
    assert any(p.startswith("/steps/1") for p in paths), problems


async def test_a_member_creates_a_workflow_by_tool_call_and_runs_it():
    definition = {
        "name": "made by an assistant py",
        "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        "steps": [
            {"id": "double", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".n * 2", "data": "{{ trigger.body }}"}},
        ],
    }
    async with over_http(FIX["keys"]["member"]) as c:
        created = await c.call_tool("create_workflow", {"definition": definition})
        assert not created.is_error, text(created)
        wf = created.structured_content
        assert wf["id"].startswith("wf_"), wf
        ran = await c.call_tool("run_workflow", {"workflow_id": wf["id"], "input": {"n": 21}})
        assert not ran.is_error, text(ran)
        assert "42" in text(ran), text(ran)
        bad = await c.call_tool("run_workflow", {"workflow_id": wf["id"], "input": {"n": "x"}})
        assert bad.is_error and "n" in text(bad)
    assert api("GET", f"/v1/workflows/{wf['id']}")["name"] == definition["name"]
    run = runs_of(wf["id"])[0]
    assert run["status"] == "completed" and run["trigger"] == "mcp"


async def test_resources_offer_the_format_reference_and_a_run():
    async with over_http() as c:
        listed = [str(r.uri) for r in (await c.list_resources()).resources]
        assert "weft://docs/workflows" in listed, listed
        doc = await c.read_resource("weft://docs/workflows")
        assert doc.contents[0].text.startswith("# Workflow definitions")
        run_id = runs_of(REFUND["id"])[0]["id"]
        run = await c.read_resource(f"weft://runs/{run_id}")
        assert run_id in run.contents[0].text
        connector = await c.read_resource("weft://connectors/transform")
        assert "jq" in connector.contents[0].text


async def test_another_tenants_ids_are_not_found():
    async with over_http() as c:
        wf = await c.call_tool("get_workflow", {"workflow_id": FIX["workflows"]["other"]["id"]})
        run = await c.call_tool("get_run", {"run_id": FIX["runs"]["other"]})
        listed = await c.call_tool("list_workflows", {})
    for r in (wf, run):
        assert r.is_error and envelope(r)["error"]["code"] == "not_found", text(r)
        assert "other tenant tool" not in text(r)
    assert FIX["workflows"]["other"]["id"] not in text(listed)


async def test_a_typed_tool_past_the_wait_is_a_tool_error_naming_the_run():
    """A tool with an outputSchema cannot promise its output once the wait is
    over: a tool error with the run's id, which get_run then finishes."""
    definition = {
        "name": "typed but slow py",
        "mcp": {"expose": True, "name": "typed_slow_py", "description": "Answers after a while."},
        "steps": [
            {"id": "hold", "kind": "wait", "duration_ms": FIX["call_wait_ms"] + 1500},
            {"id": "answer", "kind": "respond", "body": {"ok": True},
             "output_schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}},
        ],
    }
    async with over_http(FIX["keys"]["member"]) as c:
        created = await c.call_tool("create_workflow", {"definition": definition})
        wf = created.structured_content
        activated = await c.call_tool("set_workflow_active", {"workflow_id": wf["id"], "active": True})
        assert not activated.is_error, text(activated)
        tool = next(t for t in (await c.list_tools()).tools if t.name == "typed_slow_py")
        assert tool.output_schema is not None
        result = await c.call_tool("typed_slow_py", {})
        assert result.is_error, text(result)
        error = envelope(result)["error"]
        assert error["code"] == "still_running", error
        run_id = runs_of(wf["id"])[0]["id"]
        assert run_id in text(result)
        done = await c.call_tool("get_run", {"run_id": run_id, "wait_ms": 10000})
    assert done.structured_content["status"] == "completed", text(done)
