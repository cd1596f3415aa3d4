"""The connector's self-description: actions, schemas and capabilities."""

from __future__ import annotations

from typing import Any, List, Optional


class Manifest:
    """What a connector is and what it asks to be allowed to do.

    Built with chained calls; everything not declared is denied::

        Manifest("echo", "0.1.0", "Returns its input.") \\
            .action(Action("echo", "Return the input.").input_schema({"type": "object"})) \\
            .host("api.example.com") \\
            .credential(CredentialSlot("api-key", "Example API key").host("api.example.com"))
    """

    def __init__(self, name: str, version: str, description: str):
        self.name = name
        self.version = version
        self.description = description
        self.actions: List[Action] = []
        self.hosts: List[str] = []
        self.credentials: List[CredentialSlot] = []
        self.uses_state = False
        self.config: Optional[Any] = None

    def action(self, action: "Action") -> "Manifest":
        """Offer an action."""
        self.actions.append(action)
        return self

    def host(self, pattern: str) -> "Manifest":
        """Ask for outbound access to hosts matching ``pattern`` (``api.example.com``,
        ``*.example.com``, or ``*`` for any public host the tenant allows)."""
        self.hosts.append(pattern)
        return self

    def credential(self, slot: "CredentialSlot") -> "Manifest":
        """Declare a credential slot."""
        self.credentials.append(slot)
        return self

    def state(self, uses_state: bool = True) -> "Manifest":
        """Declare that the connector uses the key-value state store."""
        self.uses_state = uses_state
        return self

    def config_schema(self, schema: Any) -> "Manifest":
        """JSON Schema (a dict) of the connector's config."""
        self.config = schema
        return self


class Action:
    """One action a connector offers. Schemas accept anything until set."""

    def __init__(self, name: str, description: str):
        self.name = name
        self.description = description
        self.input: Any = {}
        self.output: Any = {}

    def input_schema(self, schema: Any) -> "Action":
        """JSON Schema (a dict) of the action's input."""
        self.input = schema
        return self

    def output_schema(self, schema: Any) -> "Action":
        """JSON Schema (a dict) of the action's output."""
        self.output = schema
        return self


class CredentialSlot:
    """A credential the connector uses by reference: the host injects the secret
    into requests to the slot's hosts; the connector never sees it."""

    def __init__(self, name: str, description: str):
        self.name = name
        self.description = description
        self.hosts: List[str] = []
        self.is_optional = False

    def host(self, pattern: str) -> "CredentialSlot":
        """A host pattern the secret may be sent to (``*`` = whatever the tenant binds it to)."""
        self.hosts.append(pattern)
        return self

    def optional(self, optional: bool = True) -> "CredentialSlot":
        """Whether actions can run without this credential bound."""
        self.is_optional = optional
        return self
