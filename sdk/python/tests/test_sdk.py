"""Unit tests of the SDK's pure-Python parts (no component needed):
python3 -m unittest discover -s sdk/python/tests"""

import sys
import unittest
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Literal, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from weft_sdk import Call, ErrorKind, WeftError, snippet  # noqa: E402
from weft_sdk.errors import parse_retry_after_ms_header, retry_after_ms  # noqa: E402
from weft_sdk.http import Response, append_query, redact_url  # noqa: E402
from weft_sdk.build import BuildError, read_project  # noqa: E402


@dataclass
class Msg:
    role: str
    content: str = ""


@dataclass
class Chat:
    messages: List[Msg]
    temperature: float = 1.0
    mode: Literal["fast", "slow"] = "fast"
    tags: Optional[List[str]] = None


@dataclass
class Cfg:
    base_url: str = "https://x"

    def __post_init__(self):
        if not self.base_url.startswith("https://"):
            raise ValueError("base_url: must start with https://")


class Errors(unittest.TestCase):
    def test_status_mapping_classifies_each_family(self):
        kind = lambda s: WeftError.from_status(s).kind  # noqa: E731
        self.assertEqual(kind(401), ErrorKind.AUTH)
        self.assertEqual(kind(403), ErrorKind.AUTH)
        self.assertEqual(kind(408), ErrorKind.TRANSIENT)
        self.assertEqual(kind(429), ErrorKind.RATE_LIMITED)
        self.assertEqual(kind(404), ErrorKind.INVALID_INPUT)
        self.assertEqual(kind(503), ErrorKind.TRANSIENT)
        self.assertEqual(kind(501), ErrorKind.PERMANENT)
        self.assertEqual(kind(302), ErrorKind.PERMANENT)

    def test_status_message_and_snippet(self):
        self.assertEqual(WeftError.from_status(404, "  no such\nthing ").message, "HTTP 404 Not Found: no such thing")
        self.assertEqual(WeftError.from_status(599).message, "HTTP 599")
        self.assertEqual(snippet("é" * 10, 5), "éé…")

    def test_retry_after(self):
        now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
        self.assertEqual(retry_after_ms("120", now), 120_000)
        self.assertEqual(retry_after_ms("1.5", now), 1500)
        self.assertEqual(retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000)
        self.assertEqual(retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now), 0)
        self.assertIsNone(retry_after_ms("soon", now))
        self.assertIsNone(retry_after_ms("-3", now))
        self.assertEqual(parse_retry_after_ms_header("20.2"), 21)

    def test_display_and_context(self):
        e = WeftError.rate_limited("slow down", 1000).context("POST https://x/y")
        self.assertEqual(str(e), "rate-limited: POST https://x/y: slow down (retry after 1000 ms)")


class Reading(unittest.TestCase):
    def err(self, value, cls=Chat):
        with self.assertRaises(WeftError) as caught:
            Call("chat", value).input(cls)
        self.assertEqual(caught.exception.kind, ErrorKind.INVALID_INPUT)
        return caught.exception.message

    def test_errors_name_the_field_path(self):
        self.assertEqual(self.err({"messages": [{"content": "hi"}]}), "input.messages[0].role: missing")
        self.assertEqual(self.err({"messages": [{"role": 1}]}),
                         "input.messages[0].role: expected a string, got an integer 1")
        self.assertEqual(self.err({"messages": [], "mode": "x"}), 'input.mode: expected one of "fast", "slow", got a string "x"')
        self.assertEqual(self.err({"messages": [], "temperature": True}),
                         "input.temperature: expected a number, got a boolean true")
        self.assertEqual(self.err(3), "input: expected an object, got an integer 3")

    def test_reads_nested_values_and_defaults(self):
        chat = Call("chat", {"messages": [{"role": "user"}], "temperature": 1, "tags": None, "extra": 1}).input(Chat)
        self.assertEqual(chat, Chat([Msg("user")], 1.0, "fast", None))

    def test_config_defaults_and_post_init_errors_name_the_field(self):
        self.assertEqual(Call("a").config(Cfg), Cfg())
        with self.assertRaises(WeftError) as caught:
            Call("a", config={"base_url": "http://x"}).config(Cfg)
        self.assertEqual(caught.exception.message, "config.base_url: must start with https://")


class Http(unittest.TestCase):
    def test_query_and_redaction(self):
        self.assertEqual(append_query("https://h/p", [("q", "a b&c=d/é"), ("x y", "~-._")]),
                         "https://h/p?q=a%20b%26c%3Dd%2F%C3%A9&x%20y=~-._")
        self.assertEqual(append_query("https://h/p?a=1#top", [("b", "2")]), "https://h/p?a=1&b=2#top")
        self.assertEqual(redact_url("https://u:p@h.example/a?key=s#f"), "https://h.example/a")

    def test_error_for_status_carries_the_hint_and_the_url_without_query(self):
        r = Response(429, [("Retry-After", "3")], b'{"error":"slow"}', "https://h/p?token=secret")
        with self.assertRaises(WeftError) as caught:
            r.error_for_status()
        e = caught.exception
        self.assertEqual((e.kind, e.retry_after_ms), (ErrorKind.RATE_LIMITED, 3000))
        self.assertEqual(e.message, 'https://h/p: HTTP 429 Too Many Requests: {"error":"slow"}')


class Build(unittest.TestCase):
    def test_project_errors_say_what_and_where(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(BuildError, "pyproject.toml: not found"):
                read_project(Path(d))
            (Path(d) / "pyproject.toml").write_text('[project]\nname = "x"\n')
            with self.assertRaisesRegex(BuildError, "no module `app`"):
                read_project(Path(d))
            (Path(d) / "app.py").write_text("")
            self.assertEqual(read_project(Path(d))["module"], "app")


if __name__ == "__main__":
    unittest.main()
