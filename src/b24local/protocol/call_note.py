"""What the layers below the HTTP layer tell the journal about the call running now (test-portal.md T7).

The HTTP layer sets a :class:`CallNote` for each ``/rest/`` or ``/oauth/`` request it journals; a
``batch`` adds one :class:`CommandNote` per command it ran, and the OAuth token endpoint its reason
for a refusal and the credential it established. Nothing is noted when no note is set (journal off).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CommandNote:
    """One command of a batch as it ran: its key in ``cmd``, its parameters after substitution."""

    key: str
    method: str
    params: dict[str, Any]
    started: float  # Unix seconds
    duration: float  # seconds
    status: int = 200
    error: str | None = None
    error_description: str | None = None
    why: str | None = None


@dataclass(slots=True)
class CallNote:
    why: str | None = None
    #: The credential in journal form ({"user_id": …, "client_id": …}), when the layer below knows it.
    credential: dict[str, Any] | None = None
    commands: list[CommandNote] = field(default_factory=list)


CURRENT_NOTE: ContextVar[CallNote | None] = ContextVar("CURRENT_NOTE", default=None)
