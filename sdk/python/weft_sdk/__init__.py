"""Write Weft connectors in Python.

A connector is a WebAssembly component targeting the ``weft:plugin/connector``
world (``wit/plugin.wit``). Subclass :class:`Connector`, then build with
``python3 -m weft_sdk build`` (componentize-py underneath) or ``weft plugin build``::

    from dataclasses import dataclass
    from weft_sdk import Action, Call, Connector, Manifest, WeftError

    @dataclass
    class Greet:
        name: str

    class Greeter(Connector):
        def manifest(self):
            return Manifest("greeter", "0.1.0", "Greets people.").action(
                Action("greet", "Say hello.")
                .input_schema({"type": "object", "required": ["name"],
                               "properties": {"name": {"type": "string"}}}))

        def invoke(self, call: Call):
            if call.action == "greet":
                who = call.input(Greet)          # errors name the field: input.name: missing
                return {"message": f"Hello, {who.name}!"}
            raise WeftError.unknown_action(call.action)

- :class:`Manifest`, :class:`Action`, :class:`CredentialSlot`: what the connector
  offers and may do (hosts, credentials, state). Everything undeclared is denied.
- :class:`Call`: the action's input and config (read into dataclasses) and the
  :class:`Context` (idempotency key, deadline).
- :class:`WeftError` / :class:`ErrorKind`: classified failures; the engine retries
  ``transient`` and ``rate-limited`` ones. Any other exception is a ``permanent``
  error with its type and message.
- :mod:`weft_sdk.http`, :mod:`weft_sdk.state`, :mod:`weft_sdk.log`,
  :mod:`weft_sdk.usage`: the host imports.
"""

from . import http, log, state, usage
from .call import Call, Context
from .connector import Connector
from .errors import ErrorKind, WeftError, parse_retry_after_ms_header, retry_after_ms, snippet
from .manifest import Action, CredentialSlot, Manifest

__version__ = "0.1.0"

__all__ = [
    "Action", "Call", "Connector", "Context", "CredentialSlot", "ErrorKind", "Manifest",
    "WeftError", "http", "log", "parse_retry_after_ms_header", "retry_after_ms", "snippet",
    "state", "usage",
]
