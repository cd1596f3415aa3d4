"""Outbound HTTP under the host's egress policy.

The host performs the request: it checks the destination against the
connector's declared hosts and the tenant's policy, injects the credential named
by :meth:`Request.credential`, follows redirects and decompresses the body::

    from weft_sdk.http import Request
    response = (Request.get("https://api.example.com/v1/items")
                .query("q", "blue shoes")
                .credential("api-key")
                .send()                 # host refusals, timeouts -> classified HttpError
                .error_for_status())    # 401 -> auth, 429 -> rate-limited, ...
    items = response.json()
"""

from __future__ import annotations

import json as _json
from typing import Any, List, Optional, Tuple, Union
from urllib.parse import quote

from .errors import ErrorKind, WeftError, parse_retry_after_ms_header, retry_after_ms, snippet, SNIPPET_MAX


class HttpError(WeftError):
    """Why the host could not complete a request (the WIT ``http-error``),
    already classified: ``denied`` and ``too-many-redirects`` permanent,
    ``credential-not-found``/``-not-bound`` auth, ``invalid-request``
    invalid-input, ``timeout``/``connect``/``protocol`` transient.
    ``reason`` is the variant's name."""

    def __init__(self, reason: str, message: str, kind: ErrorKind):
        super().__init__(kind, message)
        self.reason = reason


_VARIANTS = {
    # WIT variant class suffix: (reason, message prefix, kind)
    "Denied": ("denied", "egress denied: {}", ErrorKind.PERMANENT),
    "CredentialNotFound": ("credential-not-found", "credential not found: {}", ErrorKind.AUTH),
    "CredentialNotBound": ("credential-not-bound", "credential not bound to this host: {}", ErrorKind.AUTH),
    "InvalidRequest": ("invalid-request", "invalid request: {}", ErrorKind.INVALID_INPUT),
    "Timeout": ("timeout", "request timed out", ErrorKind.TRANSIENT),
    "Connect": ("connect", "connection failed: {}", ErrorKind.TRANSIENT),
    "Protocol": ("protocol", "HTTP protocol error: {}", ErrorKind.TRANSIENT),
    "TooManyRedirects": ("too-many-redirects", "too many redirects (followed {})", ErrorKind.PERMANENT),
}


def _convert(err: Any) -> HttpError:
    variant = type(err).__name__.rsplit("_", 1)[-1]
    reason, template, kind = _VARIANTS.get(variant, ("protocol", "HTTP error: {}", ErrorKind.TRANSIENT))
    return HttpError(reason, template.format(getattr(err, "value", "")), kind)


def encode_query_component(s: str) -> str:
    """Percent-encode one query name or value (RFC 3986 unreserved characters
    are kept; a space becomes ``%20``)."""
    return quote(s, safe="-._~")


def append_query(url: str, params: List[Tuple[str, str]]) -> str:
    """``url`` with ``params`` appended to its query, before any fragment."""
    if not params:
        return url
    base, hash_, fragment = url.partition("#")
    if "?" not in base:
        base += "?"
    elif not base.endswith(("?", "&")):
        base += "&"
    base += "&".join(f"{encode_query_component(k)}={encode_query_component(v)}" for k, v in params)
    return base + hash_ + fragment


def redact_url(url: str) -> str:
    """``url`` without user info, query and fragment: safe to put in messages."""
    for cut in ("?", "#"):
        url = url.split(cut, 1)[0]
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rsplit('@', 1)[-1]}{slash}{path}"


class Request:
    """An outbound request, built with chained calls and sent with :meth:`send`."""

    def __init__(self, method: str, url: str):
        self.method = method
        self._url = url
        self._query: List[Tuple[str, str]] = []
        self.headers: List[Tuple[str, str]] = []
        self.body: Optional[bytes] = None
        self.credential_slot: Optional[str] = None
        self.timeout: Optional[int] = None
        self._invalid: Optional[str] = None

    @classmethod
    def get(cls, url: str) -> "Request":
        """A ``GET`` request."""
        return cls("GET", url)

    @classmethod
    def post(cls, url: str) -> "Request":
        """A ``POST`` request."""
        return cls("POST", url)

    @classmethod
    def put(cls, url: str) -> "Request":
        """A ``PUT`` request."""
        return cls("PUT", url)

    @classmethod
    def patch(cls, url: str) -> "Request":
        """A ``PATCH`` request."""
        return cls("PATCH", url)

    @classmethod
    def delete(cls, url: str) -> "Request":
        """A ``DELETE`` request."""
        return cls("DELETE", url)

    def header(self, name: str, value: str) -> "Request":
        """Add a header (repeatable; names are sent as given)."""
        self.headers.append((name, str(value)))
        return self

    def query(self, name: str, value: Any) -> "Request":
        """Append a query parameter; name and value are percent-encoded."""
        self._query.append((name, str(value)))
        return self

    def json(self, value: Any) -> "Request":
        """Serialize ``value`` as the JSON body and set ``content-type:
        application/json`` unless a content type was set."""
        try:
            self.body = _json.dumps(value, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as e:
            self._invalid = f"could not serialize the JSON body: {e}"
            return self
        if not self.has_header("content-type"):
            self.headers.append(("content-type", "application/json"))
        return self

    def data(self, body: Union[bytes, str]) -> "Request":
        """Set the raw body (text is sent as UTF-8)."""
        self.body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        return self

    def credential(self, slot: str) -> "Request":
        """Ask the host to inject the credential bound to slot ``slot``."""
        self.credential_slot = slot
        return self

    def timeout_ms(self, ms: int) -> "Request":
        """Per-request timeout; the step's deadline always applies too."""
        self.timeout = ms
        return self

    @property
    def url(self) -> str:
        """The full URL that will be requested, query parameters included."""
        return append_query(self._url, self._query)

    def has_header(self, name: str) -> bool:
        """Whether a header with this name (case-insensitive) was set."""
        return any(n.lower() == name.lower() for n, _ in self.headers)

    def send(self) -> "Response":
        """Send the request and read the whole response.

        Raises :class:`HttpError` (denied, timeout, ...). A 4xx/5xx status is not
        an error here: see :meth:`Response.error_for_status`.
        """
        if self._invalid is not None:
            raise HttpError("invalid-request", f"invalid request: {self._invalid}", ErrorKind.INVALID_INPUT)
        from componentize_py_types import Err
        from wit_world.imports import http as wit

        url = self.url
        request = wit.Request(method=self.method, url=url, headers=list(self.headers), body=self.body,
                              credential=self.credential_slot, timeout_ms=self.timeout)
        try:
            r = wit.send(request)
        except Err as e:
            raise _convert(e.value) from None
        return Response(r.status, list(r.headers), bytes(r.body), url)


class Response:
    """A complete response (the body already decompressed by the host)."""

    def __init__(self, status: int, headers: List[Tuple[str, str]], body: bytes, url: str = ""):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        """The URL that was requested (before redirects), query included."""

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    def header(self, name: str) -> Optional[str]:
        """The first header with this name (case-insensitive)."""
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def text(self) -> str:
        """The body as text; invalid UTF-8 is replaced with U+FFFD."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def is_json(self) -> bool:
        """Whether the ``content-type`` is JSON (``application/json`` or ``application/*+json``)."""
        return is_json_content_type(self.header("content-type") or "")

    def json(self) -> Any:
        """Parse the body as JSON. Raises a permanent :class:`WeftError` saying
        where the body stopped being JSON."""
        try:
            return _json.loads(self.body)
        except ValueError as e:
            raise WeftError.permanent(
                f"{redact_url(self.url)} answered HTTP {self.status} with a body that is not JSON: {e}"
            ) from None

    def retry_after_ms(self) -> Optional[int]:
        """How long the service asked us to wait: ``retry-after-ms`` if present,
        else ``Retry-After`` (seconds or HTTP-date)."""
        ms = self.header("retry-after-ms")
        parsed = parse_retry_after_ms_header(ms) if ms is not None else None
        if parsed is not None:
            return parsed
        ra = self.header("retry-after")
        return retry_after_ms(ra) if ra is not None else None

    def error_for_status(self) -> "Response":
        """``self`` for statuses below 400; otherwise raises the error
        :meth:`WeftError.from_status` classifies, with the body snippet, the
        retry hint and the URL (without its query)."""
        if self.status < 400:
            return self
        raise self.status_error()

    def status_error(self) -> WeftError:
        """The classified error for this response's status."""
        return (WeftError.from_status(self.status, snippet(self.text(), SNIPPET_MAX))
                .with_retry_after_ms(self.retry_after_ms())
                .context(redact_url(self.url)))


def is_json_content_type(value: str) -> bool:
    """Whether a ``content-type`` value denotes JSON."""
    mime = value.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))
