"""One fuzz request, and the encodings a client may send its parameters in.

Paths name the caller by a placeholder (``<admin>``, ``<wrong>``, ...) that the runner replaces with a
real webhook of the run, so that a request's description stays the same from run to run.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tests.fuzz.values import Deep

#: Where the parameters go: JSON, a form body with PHP brackets, multipart, or the query string.
ENCODINGS = ("json", "form", "multipart", "query", "query_post", "text_json")
#: The method name's suffix: none, ``.json`` or ``.xml`` (an XML answer).
SUFFIXES = ("", ".json", ".xml")
#: Callers: webhooks of the run (admin, a plain user, one without the crm scope, one without CRM
#: access), a wrong code, a user that does not exist, a junk OAuth token, nothing at all.
CALLERS = ("admin", "user", "noscope", "noaccess", "wrong", "nouser", "oauth", "none")

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class FuzzRequest:
    kind: str  # the generator that made it
    verb: str  # HTTP method
    path: str  # may hold a caller placeholder such as "<admin>"
    method: str = ""  # the REST method it calls ("" when none)
    query: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def fmt(self) -> str:
        return "xml" if self.path.lower().endswith(".xml") else "json"

    def describe(self, limit: int = 300) -> str:
        """The request as text, long parts cut (regenerate it whole from the seed and index)."""
        return (
            f"[{self.kind}] {self.verb} {self.path}"
            f"{'?' + _cut(self.query, limit) if self.query else ''} headers={list(self.headers)} "
            f"body={_cut(self.body, limit)}"
        )


def _cut(data: bytes, limit: int) -> str:
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data):,} bytes in all)"


def rest_path(caller: str, method: str, suffix: str = "") -> str:
    if caller in ("oauth", "none"):
        return f"/rest/{method}{suffix}"
    return f"/rest/<{caller}>/{method}{suffix}"


def php_pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Flatten parameters to PHP bracket pairs: ``{"a": {"b": [1]}}`` → ``[("a[b][0]", "1")]``."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        _flatten(str(name), value, pairs)
    return pairs


def _flatten(name: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{name}[{key}]", item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(f"{name}[{index}]", item, out)
    else:
        out.append((name, _scalar_text(value)))


def _scalar_text(value: Any) -> str:
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    return str(value)


def urlencode(pairs: list[tuple[str, str]], rng: random.Random) -> bytes:
    """Pairs as ``a=b&c=d``; brackets in names are sometimes left bare, as most clients send them."""
    safe = "[]" if rng.random() < 0.5 else ""
    return "&".join(f"{quote(k, safe=safe)}={quote(v, safe='')}" for k, v in pairs).encode("utf-8")


def multipart(pairs: list[tuple[str, str]], boundary: str) -> bytes:
    parts = []
    for name, value in pairs:
        field = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def json_body(params: dict[str, Any], rng: random.Random) -> bytes:
    """The standard library's JSON (it writes integers beyond 64 bits, which orjson refuses), with
    :class:`Deep` values spliced in as text."""
    deep: list[Deep] = []

    def placeholder(value: Any) -> str:
        if not isinstance(value, Deep):
            raise TypeError(f"not JSON: {value!r}")
        deep.append(value)
        return f"\x00deep{len(deep) - 1}\x00"

    text = json.dumps(params, ensure_ascii=rng.random() < 0.5, default=placeholder)
    for index, value in enumerate(deep):
        text = text.replace(json.dumps(f"\x00deep{index}\x00"), value.json(), 1)
    return text.encode("utf-8")


def encoded(
    kind: str,
    method: str,
    params: dict[str, Any],
    encoding: str,
    rng: random.Random,
    *,
    caller: str = "admin",
) -> FuzzRequest:
    """``method`` called with ``params`` in ``encoding``, by ``caller``, with a random suffix."""
    path = rest_path(caller, method, rng.choice(SUFFIXES))
    if caller == "oauth":
        params = {**params, "auth": rng.choice(("x", "", "0" * 64, "Bearer abc"))}
    if encoding == "json":
        return FuzzRequest(
            kind, "POST", path, method, b"", (("content-type", "application/json"),), json_body(params, rng)
        )
    if encoding == "text_json":
        return FuzzRequest(
            kind, "POST", path, method, b"", (("content-type", "text/plain"),), json_body(params, rng)
        )
    pairs = php_pairs(params)
    if encoding == "form":
        return FuzzRequest(kind, "POST", path, method, b"", (("content-type", FORM),), urlencode(pairs, rng))
    if encoding == "multipart":
        boundary = f"fuzz{rng.randrange(10**8)}"
        headers = (("content-type", f"multipart/form-data; boundary={boundary}"),)
        return FuzzRequest(kind, "POST", path, method, b"", headers, multipart(pairs, boundary))
    verb = "GET" if encoding == "query" else "POST"
    return FuzzRequest(kind, verb, path, method, urlencode(pairs, rng))
