"""Response envelopes (contract protocol.md V1–V5) and the ``time`` object."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson

from b24local.clock import iso_local
from b24local.model.page import ListPage
from b24local.protocol.xml import to_xml

JSON_TYPE = b"application/json; charset=utf-8"
XML_TYPE = b"text/xml; charset=utf-8"


@dataclass(slots=True)
class CallTiming:
    """When the request started and how long its method ran; filled by the dispatcher."""

    start: float
    processing: float = 0.0
    operating: float = 0.0
    operating_reset_at: int = 0

    def as_dict(self, finish: float | None = None) -> dict[str, Any]:
        finish = time.time() if finish is None else finish
        return {
            "start": self.start,
            "finish": finish,
            "duration": finish - self.start,
            "processing": self.processing,
            "date_start": iso_local(self.start),
            "date_finish": iso_local(finish),
            "operating_reset_at": self.operating_reset_at or int(self.start) + 600,
            "operating": self.operating,
        }


#: The timing of the call running now (a request, or one command of a batch): the limits' record step
#: writes ``operating`` and ``operating_reset_at`` into it.
CURRENT_TIMING: ContextVar[CallTiming | None] = ContextVar("CURRENT_TIMING", default=None)


def success_body(result: Any, timing: CallTiming) -> dict[str, Any]:
    if isinstance(result, ListPage):
        body: dict[str, Any] = {"result": result.items}
        if result.next is not None:
            body["next"] = result.next
        body["total"] = result.total
    else:
        body = {"result": result}
    body["time"] = timing.as_dict()
    return body


def render(body: dict[str, Any], fmt: str) -> tuple[bytes, bytes]:
    """Serialise a body as ``json`` or ``xml``; returns ``(content_type, payload)``."""
    if fmt == "xml":
        return XML_TYPE, to_xml(body)
    return JSON_TYPE, orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
