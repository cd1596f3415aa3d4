"""The base class a connector subclasses."""

from __future__ import annotations

from typing import Any

from .call import Call
from .manifest import Manifest


class Connector:
    """A Weft connector: describes itself and runs actions.

    Subclass it once in your module; ``python -m weft_sdk build`` finds the
    subclass and exports it as the component's ``weft:plugin/plugin`` interface.

    **One-time set-up.** componentize-py pre-initialises the interpreter when the
    component is built: your module is imported and the connector class is
    instantiated *at build time*, and the resulting heap is snapshotted into the
    component. Module-level code and ``__init__`` are therefore the one-time
    set-up (parse tables, compile regexes): every call starts from that snapshot
    in a fresh instance, so nothing a call changes is seen by the next one. At
    build time no input, config or credentials exist and the host imports
    (:mod:`~weft_sdk.http`, :mod:`~weft_sdk.state`, :mod:`~weft_sdk.log`) are
    not available; whatever it computes is shared by every call of every tenant,
    so keep nothing secret in it.
    """

    def manifest(self) -> Manifest:
        """The connector's self-description. Must not use any host import."""
        raise NotImplementedError(f"{type(self).__name__}.manifest() is not implemented")

    def invoke(self, call: Call) -> Any:
        """Run ``call.action`` and return its JSON output (dicts, lists, strings,
        numbers, booleans, ``None``).

        Raise :class:`~weft_sdk.WeftError` for a classified failure (the engine
        decides retries from its kind), ``WeftError.unknown_action(call.action)``
        for an action the connector does not offer. Any other exception becomes
        a ``permanent`` error carrying its type and message (the traceback goes
        to the step log).
        """
        raise NotImplementedError(f"{type(self).__name__}.invoke() is not implemented")
