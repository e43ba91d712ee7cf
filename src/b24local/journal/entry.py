"""A finished call as journal entries: what it was, who made it, how it ended, and why it was refused.

Secrets never enter an entry: parameters named like a credential are replaced by ``***`` at any depth
of the decoded parameters, and the webhook code in a path by ``***`` (``/rest/1/***/crm.lead.get``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from b24local.auth.context import AuthContext
from b24local.protocol.address import Address
from b24local.protocol.call_note import CommandNote

#: What replaces a secret.
MASK = "***"
#: Parameter names whose values are secrets wherever they appear (compared in lower case).
SECRETS = frozenset({"auth", "access_token", "refresh_token", "client_secret", "password"})
#: Under /oauth/ also the authorization code and the webhook URL that signs a user in.
OAUTH_SECRETS = SECRETS | {"code", "webhook"}
#: Shorter values are not searched for inside texts (``auth=1`` is no secret worth masking "1" for).
MIN_HIDDEN = 4


def redact(value: Any, secrets: frozenset[str] = SECRETS, hidden: tuple[str, ...] = ()) -> Any:
    """A copy of ``value`` with every item under a secret's name masked, at any depth, and every
    occurrence of a ``hidden`` value (a secret the request presented) masked inside any text."""
    if isinstance(value, dict):
        return {
            key: MASK if str(key).lower() in secrets else redact(item, secrets, hidden)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, secrets, hidden) for item in value]
    if isinstance(value, str):
        return _hide(value, hidden)
    return value


def presented(value: Any, secrets: frozenset[str], found: set[str]) -> None:
    """Add to ``found`` the texts under a secret's name in ``value``, at any depth (an ``auth`` token
    also shows inside the text of a batch command: it is masked there too)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in secrets and isinstance(item, str) and len(item) >= MIN_HIDDEN:
                found.add(item)
            else:
                presented(item, secrets, found)
    elif isinstance(value, list):
        for item in value:
            presented(item, secrets, found)


def _hide(text: str, hidden: tuple[str, ...]) -> str:
    for secret in hidden:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def masked_path(path: str, address: Address | None) -> str:
    """``path`` with its webhook code (the second segment after ``rest``) replaced by ``***``."""
    if address is None or address.webhook_code is None:
        return path
    segments = path.split("/")
    present = [i for i, s in enumerate(segments) if s]
    if len(present) >= 3:
        segments[present[2]] = MASK
    return "/".join(segments)


def credential_of(ctx: AuthContext) -> dict[str, Any]:
    """The credential as the journal shows it: the user and the webhook id or the app's client_id."""
    if ctx.credential_kind == "webhook":
        return {"user_id": ctx.user_id, "webhook_id": ctx.credential_id}
    return {"user_id": ctx.user_id, "client_id": ctx.client_id}


@dataclass(slots=True)
class Call:
    """One journaled request, as the HTTP layer saw it end. Cheap to make: the entries (redaction,
    JSON) are built later, off the request's path (:meth:`entries`)."""

    at: float  # Unix seconds, when it came in
    duration: float  # seconds
    http_method: str
    path: str  # masked already
    method: str
    params: Any
    status: int
    credential: dict[str, Any] | None = None
    error: str | None = None
    error_description: str | None = None
    why: str | None = None
    secrets: frozenset[str] = SECRETS
    commands: list[CommandNote] = field(default_factory=list)
    #: The webhook code of the path: masked wherever else it shows (a parameter, an error's text).
    code: str | None = None

    def refused(self, status: int, body: dict[str, Any], why: str | None) -> None:
        """The call answered the error ``body``; ``why`` None: its description says why."""
        error, description = body.get("error"), body.get("error_description")
        self.status = status
        self.error = None if error is None else str(error)
        self.error_description = None if description is None else str(description)
        self.why = why or self.error_description

    def entries(self) -> list[tuple[float, dict[str, Any]]]:
        """(Unix time, entry) of the call, then of each batch command (linked to it when stored)."""
        found: set[str] = set() if self.code is None else {self.code}
        presented(self.params, self.secrets, found)
        for command in self.commands:
            presented(command.params, self.secrets, found)
        hidden = tuple(sorted(found, key=len, reverse=True))
        own = self._entry(self.at, self.duration, self.method, self.params, None, hidden=hidden)
        own.update(status=self.status, error=self.error)
        own["error_description"] = _text(self.error_description, hidden)
        own["why"] = _text(self.why, hidden)
        out = [(self.at, own)]
        for command in self.commands:
            entry = self._entry(
                command.started, command.duration, command.method, command.params, command.key, hidden=hidden
            )
            entry.update(status=command.status, error=command.error)
            entry["error_description"] = _text(command.error_description, hidden)
            why = None if command.error is None else command.why or command.error_description
            entry["why"] = _text(why, hidden)
            out.append((command.started, entry))
        return out

    def _entry(
        self,
        at: float,
        duration: float,
        method: str,
        params: Any,
        key: str | None,
        *,
        hidden: tuple[str, ...],
    ) -> dict[str, Any]:
        # No time: the row's own column holds the moment, printed when the entry is read.
        return {
            "duration_ms": round(duration * 1000, 3),
            "http_method": self.http_method,
            "path": self.path,
            "credential": self.credential,
            "method": method,
            "command": key,
            "params": redact(params, self.secrets, hidden),
        }


def _text(text: str | None, hidden: tuple[str, ...]) -> str | None:
    return None if text is None else _hide(text, hidden)


def dumps(entry: dict[str, Any]) -> str:
    return orjson.dumps(entry, option=orjson.OPT_NON_STR_KEYS).decode()
