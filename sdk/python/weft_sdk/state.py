"""The key-value store scoped to (tenant, connector).

Usable only when the manifest declares ``.state()`` and the tenant granted it.
Values are bytes; the ``_json`` helpers store JSON.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Union

from .errors import ErrorKind, WeftError


class StateError(WeftError):
    """Why the store refused an operation (the WIT ``state-error``), already
    classified: ``not-granted`` is permanent, ``too-large`` invalid-input,
    ``unavailable`` transient. ``reason`` is the variant's name; ``limit`` the
    byte limit for ``too-large``."""

    def __init__(self, reason: str, message: str, kind: ErrorKind, limit: Optional[int] = None):
        super().__init__(kind, message)
        self.reason = reason
        self.limit = limit


def _convert(err: Any) -> StateError:
    name = type(err).__name__
    if name.endswith("NotGranted"):
        return StateError("not-granted", "state store not granted (declare `state` in the manifest; "
                          "the tenant must allow it)", ErrorKind.PERMANENT)
    if name.endswith("TooLarge"):
        return StateError("too-large", f"state key or value over the limit of {err.value} bytes",
                          ErrorKind.INVALID_INPUT, err.value)
    return StateError("unavailable", f"state store unavailable: {getattr(err, 'value', err)}",
                      ErrorKind.TRANSIENT)


def _call(f: Any, *args: Any) -> Any:
    from componentize_py_types import Err

    try:
        return f(*args)
    except Err as e:
        raise _convert(e.value) from None


def get(key: str) -> Optional[bytes]:
    """Read a value (``None`` when the key is absent). Raises :class:`StateError`."""
    from wit_world.imports import state as wit

    return _call(wit.get, key)


def set(key: str, value: Union[bytes, str]) -> None:  # noqa: A001 - mirrors the WIT
    """Write a value (text is stored as UTF-8). Raises :class:`StateError`."""
    from wit_world.imports import state as wit

    _call(wit.set, key, value.encode("utf-8") if isinstance(value, str) else bytes(value))


def delete(key: str) -> bool:
    """Delete a key; returns whether it existed. Raises :class:`StateError`."""
    from wit_world.imports import state as wit

    return _call(wit.delete, key)


def get_json(key: str) -> Any:
    """Read and parse a JSON value (``None`` when absent). A value that is not
    JSON is a permanent error naming the key."""
    raw = get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise WeftError.permanent(f"state key `{key}` does not hold JSON: {e}") from None


def set_json(key: str, value: Any) -> None:
    """Serialize ``value`` as JSON and write it."""
    try:
        raw = json.dumps(value, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise WeftError.invalid_input(f"state key `{key}`: could not serialize value: {e}") from None
    try:
        set(key, raw)
    except StateError as e:
        raise e.context(f"state key `{key}`")
