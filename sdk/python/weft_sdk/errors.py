"""The classified failure a connector raises, and helpers that classify HTTP answers."""

from __future__ import annotations

import enum
import math
import time
from email.utils import parsedate_to_datetime
from typing import Optional


class ErrorKind(str, enum.Enum):
    """How a failure is classified. The engine decides retries from it."""

    INVALID_INPUT = "invalid-input"
    """The input or config is wrong; retrying the same call cannot help."""
    AUTH = "auth"
    """The credential was refused by the remote service."""
    RATE_LIMITED = "rate-limited"
    """The remote service asked us to slow down; see ``retry_after_ms``."""
    TRANSIENT = "transient"
    """A passing fault (timeout, 5xx, connection reset); worth retrying."""
    PERMANENT = "permanent"
    """Any other failure that retrying cannot fix."""

    def __str__(self) -> str:
        return self.value


class WeftError(Exception):
    """A failure the connector reports to the host (the WIT ``plugin-error``).

    Raise it from ``invoke``. The message is shown to the workflow's author: say
    what failed and where, and never include a secret.
    """

    def __init__(self, kind: ErrorKind, message: str, retry_after_ms: Optional[int] = None):
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.retry_after_ms = retry_after_ms

    @classmethod
    def invalid_input(cls, message: str) -> "WeftError":
        """The input or config is wrong."""
        return cls(ErrorKind.INVALID_INPUT, message)

    @classmethod
    def auth(cls, message: str) -> "WeftError":
        """The remote service refused the credential."""
        return cls(ErrorKind.AUTH, message)

    @classmethod
    def rate_limited(cls, message: str, retry_after_ms: Optional[int] = None) -> "WeftError":
        """The remote service asked to slow down, optionally saying for how long."""
        return cls(ErrorKind.RATE_LIMITED, message, retry_after_ms)

    @classmethod
    def transient(cls, message: str) -> "WeftError":
        """A passing fault that is worth retrying."""
        return cls(ErrorKind.TRANSIENT, message)

    @classmethod
    def permanent(cls, message: str) -> "WeftError":
        """A failure that retrying cannot fix."""
        return cls(ErrorKind.PERMANENT, message)

    @classmethod
    def unknown_action(cls, name: str) -> "WeftError":
        """The host asked for an action this connector does not offer."""
        return cls.invalid_input(f"unknown action `{name}`")

    @classmethod
    def from_status(cls, status: int, body_snippet: str = "") -> "WeftError":
        """Classify an HTTP status the remote service answered with.

        401, 403, 407 -> auth; 408, 425 -> transient; 429 -> rate-limited;
        other 4xx -> invalid-input; 501, 505 -> permanent; other 5xx ->
        transient; anything else -> permanent. ``body_snippet`` is shortened
        and appended to the message.
        """
        if status in (401, 403, 407):
            kind = ErrorKind.AUTH
        elif status in (408, 425):
            kind = ErrorKind.TRANSIENT
        elif status == 429:
            kind = ErrorKind.RATE_LIMITED
        elif 400 <= status <= 499:
            kind = ErrorKind.INVALID_INPUT
        elif status in (501, 505):
            kind = ErrorKind.PERMANENT
        elif 500 <= status <= 599:
            kind = ErrorKind.TRANSIENT
        else:
            kind = ErrorKind.PERMANENT
        return cls(kind, _status_message(status, body_snippet))

    def with_retry_after_ms(self, retry_after_ms: Optional[int]) -> "WeftError":
        """Set the retry hint; returns ``self``."""
        self.retry_after_ms = retry_after_ms
        return self

    def context(self, where: object) -> "WeftError":
        """Prefix the message with where the failure happened; returns ``self``."""
        self.message = f"{where}: {self.message}"
        self.args = (self.message,)
        return self

    def __str__(self) -> str:
        text = f"{self.kind}: {self.message}"
        if self.retry_after_ms is not None:
            text += f" (retry after {self.retry_after_ms} ms)"
        return text

    def __repr__(self) -> str:
        return f"WeftError({self.kind.value!r}, {self.message!r}, retry_after_ms={self.retry_after_ms!r})"


SNIPPET_MAX = 300
"""The longest body excerpt :meth:`WeftError.from_status` puts into a message, in bytes."""


def snippet(text: str, max_bytes: int = SNIPPET_MAX) -> str:
    """Trim ``text``, collapse it to one line and cut it to at most ``max_bytes``
    UTF-8 bytes (on a character boundary), marking a cut with ``…``."""
    one_line = "".join(" " if (ord(c) < 32 or 127 <= ord(c) < 160) else c for c in text.strip())
    encoded = one_line.encode("utf-8")
    if len(encoded) <= max_bytes:
        return one_line
    return encoded[:max_bytes].decode("utf-8", errors="ignore") + "…"


def _status_message(status: int, body_snippet: str) -> str:
    reason = _REASONS.get(status, "")
    message = f"HTTP {status} {reason}" if reason else f"HTTP {status}"
    cut = snippet(body_snippet, SNIPPET_MAX)
    if cut:
        message += f": {cut}"
    return message


def retry_after_ms(value: str, now: Optional[float] = None) -> Optional[int]:
    """Parse a ``Retry-After`` header value (seconds, or an HTTP-date) into
    milliseconds from ``now`` (default: the clock). A past date gives 0,
    garbage gives ``None``."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return int(value) * 1000
    try:
        secs = float(value)
    except ValueError:
        secs = None
    if secs is not None:
        if math.isfinite(secs) and secs >= 0:
            return int(min(secs, 1e12) * 1000)
        return None
    try:
        at = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    now = time.time() if now is None else now
    return max(0, int((at - now) * 1000))


def parse_retry_after_ms_header(value: str) -> Optional[int]:
    """Parse a ``retry-after-ms`` header value (integer or fractional milliseconds)."""
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        ms = float(value)
    except ValueError:
        return None
    return math.ceil(ms) if math.isfinite(ms) and ms >= 0 else None


_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    422: "Unprocessable Content", 425: "Too Early", 429: "Too Many Requests",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}
