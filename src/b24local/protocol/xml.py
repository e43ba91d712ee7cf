"""The ``.xml`` response format (contract protocol.md V4)."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

_NAME_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
#: Characters XML 1.0 cannot hold, not even as a reference: most C0 controls, surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _tag(name: str) -> str:
    # Map keys that are not valid XML names (numeric keys, filter prefixes) are written as <item>.
    return name if _NAME_OK.fullmatch(name) else "item"


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            tag = _tag(str(key))
            out.append(f"<{tag}>")
            _write(item, out)
            out.append(f"</{tag}>")
    elif isinstance(value, (list, tuple)):
        for item in value:
            out.append("<item>")
            _write(item, out)
            out.append("</item>")
    else:
        out.append(_scalar(value))


def to_xml(body: dict[str, Any]) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?><response>']
    _write(body, out)
    out.append("</response>")
    return "".join(out).encode("utf-8")
