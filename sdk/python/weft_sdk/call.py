"""One invocation of an action: its input, config and context, and typed reading
of them into dataclasses with errors that name the field."""

from __future__ import annotations

import dataclasses
import json
import time
import types
import typing
from typing import Any, Optional, Type, TypeVar, Union

from .errors import WeftError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Context:
    """Facts about the step attempt being executed."""

    workflow_id: str = ""
    run_id: str = ""
    step_id: str = ""
    attempt: int = 1
    """1 for the first attempt."""
    idempotency_key: str = ""
    """Stable across retries of the same step: pass it to remote APIs that
    support idempotency so a retried effect happens once."""
    deadline_unix_ms: int = 0
    """Wall-clock deadline of this attempt, in milliseconds since the Unix epoch."""

    def remaining_ms(self) -> int:
        """Milliseconds left until the deadline (0 when it has passed)."""
        return max(0, self.deadline_unix_ms - int(time.time() * 1000))


class Call:
    """One call of an action, handed to :meth:`Connector.invoke`.

    Build one by hand to unit-test a connector natively:
    ``Call("greet", {"name": "Ada"})``.
    """

    def __init__(self, action: str, input: Any = None, config: Any = None,
                 context: Optional[Context] = None):
        self.action = action
        self.input_value = input
        """The input as parsed JSON (``None`` when the host sent none)."""
        self.config_value = config
        """The config as parsed JSON (``None`` when the connector has none)."""
        self.context = context or Context()

    def input(self, cls: Optional[Type[T]] = None) -> Any:
        """The input, read into the dataclass ``cls`` (or as plain JSON without one).

        Raises :class:`WeftError` ``invalid-input`` naming the field, e.g.
        ``input.messages[0].role: missing``.
        """
        if cls is None:
            return self.input_value
        return read(cls, self.input_value, "input")

    def config(self, cls: Optional[Type[T]] = None) -> Any:
        """The config, read like :meth:`input`. A missing config reads as ``{}``,
        so a dataclass whose fields all have defaults works without any config."""
        value = {} if self.config_value is None else self.config_value
        if cls is None:
            return value
        return read(cls, value, "config")


def parse_json_text(what: str, text: str) -> Any:
    """Parse the JSON text the host passed for ``what``; empty text is ``None``."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise WeftError.invalid_input(f"{what} is not valid JSON: {e}") from None


# ------------------------------------------------------------------ reading JSON into types

_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
               int: "an integer", float: "a number", type(None): "null"}


def _describe(value: Any) -> str:
    name = _JSON_NAMES.get(type(value), type(value).__name__)
    shown = json.dumps(value) if not isinstance(value, (dict, list)) else ""
    if len(shown) > 40:
        shown = shown[:40] + "…"
    return f"{name} {shown}".rstrip()


def _fail(path: str, message: str) -> WeftError:
    return WeftError.invalid_input(f"{path}: {message}")


def read(cls: Any, value: Any, path: str) -> Any:
    """Read JSON ``value`` as type ``cls`` (a dataclass, ``str``, ``int``,
    ``float``, ``bool``, ``list[X]``, ``dict[str, X]``, ``Optional[X]``,
    ``Union``, ``Literal``, ``Any``), naming ``path`` in errors."""
    if cls is Any or cls is object:
        return value
    origin = typing.get_origin(cls)
    if origin is Union or (hasattr(types, "UnionType") and isinstance(cls, types.UnionType)):
        options = typing.get_args(cls)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return read(option, value, path)
            except WeftError as e:
                errors.append(e)
        if len(errors) == 1:
            raise errors[0]
        names = " or ".join(_type_name(o) for o in options)
        raise _fail(path, f"expected {names}, got {_describe(value)}")
    if origin is typing.Literal:
        allowed = typing.get_args(cls)
        if any(value == a and type(value) is type(a) for a in allowed):
            return value
        raise _fail(path, f"expected one of {', '.join(json.dumps(a) for a in allowed)}, got {_describe(value)}")
    if origin in (list, typing.List, tuple) or cls in (list, tuple):
        if not isinstance(value, list):
            raise _fail(path, f"expected an array, got {_describe(value)}")
        args = typing.get_args(cls)
        item = args[0] if args else Any
        return [read(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, typing.Dict) or cls is dict:
        if not isinstance(value, dict):
            raise _fail(path, f"expected an object, got {_describe(value)}")
        args = typing.get_args(cls)
        item = args[1] if len(args) == 2 else Any
        return {k: read(item, v, f"{path}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(cls) and isinstance(cls, type):
        return _read_dataclass(cls, value, path)
    if cls is bool:
        if isinstance(value, bool):
            return value
        raise _fail(path, f"expected a boolean, got {_describe(value)}")
    if cls is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _fail(path, f"expected an integer, got {_describe(value)}")
    if cls is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _fail(path, f"expected a number, got {_describe(value)}")
    if cls is str:
        if isinstance(value, str):
            return value
        raise _fail(path, f"expected a string, got {_describe(value)}")
    if cls is type(None):
        if value is None:
            return None
        raise _fail(path, f"expected null, got {_describe(value)}")
    raise TypeError(f"weft_sdk cannot read JSON into {cls!r} (at {path})")


def _type_name(cls: Any) -> str:
    if cls is type(None):
        return "null"
    if dataclasses.is_dataclass(cls):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
            list: "an array", dict: "an object"}.get(typing.get_origin(cls) or cls, str(cls))


def _read_dataclass(cls: Any, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(path, f"expected an object, got {_describe(value)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        key = field.metadata.get("json", field.name)
        where = f"{path}.{key}"
        if key in value:
            kwargs[field.name] = read(hints.get(field.name, Any), value[key], where)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise _fail(where, "missing")
    try:
        return cls(**kwargs)
    except WeftError:
        raise
    except (TypeError, ValueError) as e:
        # A __post_init__ that validates. A message that starts with a field's
        # name (`delimiter: must be ...`) is reported at that field.
        text = str(e)
        head, sep, rest = text.partition(": ")
        if sep and head in {f.metadata.get("json", f.name) for f in dataclasses.fields(cls)}:
            raise _fail(f"{path}.{head}", rest) from None
        raise _fail(path, text) from None
