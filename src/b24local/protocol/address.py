"""REST addresses (contract protocol.md W1–W3): which credential and which method a path names."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

#: What a secret shows as wherever it would be shown (the journal, log lines).
MASK = "***"


@dataclass(frozen=True, slots=True)
class Address:
    method: str  # lower-cased, without the format suffix; "" when the path names none
    fmt: str  # "json" or "xml"
    webhook_user: int | None = None  # set for /rest/{user}/{code}/{method}
    webhook_code: str | None = None
    #: The path as it may be shown: its webhook code replaced by :data:`MASK`.
    shown_path: str = ""


#: A client calls the same few addresses again and again: parsing each once saves ~10 µs a request.
@lru_cache(maxsize=4096)
def parse_rest_path(path: str) -> Address | None:
    """``/rest/1/abc/crm.lead.get.json`` → Address; None when the path is not under ``/rest/``."""
    segments = [s for s in path.split("/") if s]
    if not segments or segments[0] != "rest":
        return None
    segments = segments[1:]
    user: int | None = None
    code: str | None = None
    if len(segments) >= 2 and segments[0].isascii() and segments[0].isdigit():
        # Clamped to the 64-bit range the database holds (no such user: 401, not a fault); the length
        # check keeps int() below Python's limit on digits.
        digits = segments[0].lstrip("0") or "0"
        user = min(int(digits), 2**63 - 1) if len(digits) <= 19 else 2**63 - 1
        code = segments[1]
        segments = segments[2:]
    method = ".".join(segments) if len(segments) > 1 else (segments[0] if segments else "")
    method = method.lower()
    fmt = "json"
    if method.endswith(".xml"):
        method, fmt = method[:-4], "xml"
    elif method.endswith(".json"):
        method = method[:-5]
    shown = path if code is None else _code_masked(path)
    return Address(method=method, fmt=fmt, webhook_user=user, webhook_code=code, shown_path=shown)


def _code_masked(path: str) -> str:
    """``path`` with its second segment after ``rest`` (the webhook code) masked, empty ones kept."""
    segments = path.split("/")
    present = [i for i, s in enumerate(segments) if s]
    segments[present[2]] = MASK
    return "/".join(segments)
