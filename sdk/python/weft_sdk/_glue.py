"""What the generated entry module wires up: the componentize-py export class
for a :class:`Connector`, and conversions to and from the WIT types. Not part of
the public API."""

from __future__ import annotations

import inspect
import json
import traceback
from types import ModuleType
from typing import Any, Optional

from .call import Call, Context, parse_json_text
from .connector import Connector
from .errors import ErrorKind, WeftError
from .manifest import Manifest

_TRACEBACK_MAX = 4000


def find_connector(module: ModuleType, name: Optional[str] = None) -> type:
    """The :class:`Connector` subclass defined in ``module`` (or the one named ``name``)."""
    if name:
        cls = getattr(module, name, None)
        if not (inspect.isclass(cls) and issubclass(cls, Connector)):
            raise SystemExit(f"weft_sdk: module `{module.__name__}` has no Connector subclass named `{name}`")
        return cls
    found = [c for c in vars(module).values()
             if inspect.isclass(c) and issubclass(c, Connector) and c is not Connector
             and c.__module__ == module.__name__]
    if len(found) != 1:
        names = ", ".join(c.__name__ for c in found) or "none"
        raise SystemExit(
            f"weft_sdk: module `{module.__name__}` must define exactly one subclass of weft_sdk.Connector "
            f"(found: {names}); with several, name one in pyproject.toml: [tool.weft] connector = \"Name\"")
    return found[0]


def plugin_class(module: ModuleType, name: Optional[str] = None) -> type:
    """The class componentize-py exports as ``weft:plugin/plugin``: it delegates
    to one instance of the module's connector, made now (at build time, in the
    pre-initialised snapshot)."""
    from wit_world import exports

    connector = find_connector(module, name)()

    class Plugin(exports.Plugin):
        def describe(self) -> Any:
            return to_wit_manifest(connector.manifest())

        def invoke(self, ctx: Any, action: str, input: str, config: str) -> str:
            return run(connector, ctx, action, input, config)

    return Plugin


def run(connector: Connector, ctx: Any, action: str, input: str, config: str) -> str:
    """One call: parse, invoke, serialize; every failure becomes a classified error."""
    from componentize_py_types import Err

    try:
        call = Call(action, parse_json_text("input", input), parse_json_text("config", config),
                    Context(ctx.workflow_id, ctx.run_id, ctx.step_id, ctx.attempt,
                            ctx.idempotency_key, ctx.deadline_unix_ms))
        output = connector.invoke(call)
        try:
            return json.dumps(output, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as e:
            raise WeftError.permanent(f"could not serialize the output of `{action}` as JSON: {e}") from None
    except WeftError as e:
        raise Err(to_wit_error(e)) from None
    except MemoryError:
        # Out of linear memory: let it trap so the host reports memory_limit.
        raise
    except Exception as e:  # noqa: BLE001 - the boundary: nothing may escape unclassified
        text = traceback.format_exc()
        _log_error(f"connector raised {type(e).__name__} in `{action}`", text[-_TRACEBACK_MAX:])
        raise Err(to_wit_error(WeftError.permanent(f"connector raised {type(e).__name__}: {e}"))) from None


def _log_error(message: str, tb: str) -> None:
    try:
        from . import log

        log.write(log.Level.ERROR, message, traceback=tb)
    except Exception:  # noqa: BLE001 - logging must not hide the original error
        pass


def _json_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, separators=(",", ":"))


def to_wit_manifest(m: Manifest) -> Any:
    """The WIT ``manifest`` record for ``m``."""
    from wit_world.imports import types as wit

    return wit.Manifest(
        name=m.name, version=m.version, description=m.description,
        actions=[wit.Action(name=a.name, description=a.description, input_schema=_json_text(a.input),
                            output_schema=_json_text(a.output)) for a in m.actions],
        capabilities=wit.Capabilities(
            hosts=list(m.hosts),
            credentials=[wit.CredentialSlot(name=c.name, description=c.description, hosts=list(c.hosts),
                                            optional=c.is_optional) for c in m.credentials],
            state=m.uses_state),
        config_schema=_json_text(m.config),
    )


_KINDS = {
    ErrorKind.INVALID_INPUT: "INVALID_INPUT", ErrorKind.AUTH: "AUTH",
    ErrorKind.RATE_LIMITED: "RATE_LIMITED", ErrorKind.TRANSIENT: "TRANSIENT",
    ErrorKind.PERMANENT: "PERMANENT",
}


def to_wit_error(e: WeftError) -> Any:
    """The WIT ``plugin-error`` record for ``e``."""
    from wit_world.imports import types as wit

    return wit.PluginError(kind=getattr(wit.ErrorKind, _KINDS[e.kind]), message=e.message,
                           retry_after_ms=e.retry_after_ms)
