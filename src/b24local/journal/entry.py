"""A finished call as journal entries: what it was, who made it, how it ended, and why it was refused.

Secrets never enter an entry: parameters named like a credential are replaced by ``***`` at any depth
of the decoded parameters, and so is every other occurrence of such a value and of the webhook code of
the path, in any text (``/rest/1/***/crm.lead.get``).

A call's entries are kept as rows in a chunk of a page (page.py) and become objects when they are
read (:func:`as_object`); a log line takes them as :data:`Row` tuples (:meth:`Call.rows`).
"""

from __future__ import annotations

from typing import Any

from b24local.auth.context import AuthContext
from b24local.protocol.address import MASK
from b24local.protocol.call_note import CommandNote

#: Parameter names whose values are secrets wherever they appear (compared in lower case).
SECRETS = frozenset({"auth", "access_token", "refresh_token", "client_secret", "password"})
#: Under /oauth/ also the authorization code and the webhook URL that signs a user in.
OAUTH_SECRETS = SECRETS | {"code", "webhook"}
#: Shorter values are not searched for inside texts (``auth=1`` is no secret worth masking "1" for).
MIN_HIDDEN = 4
#: An entry's own fields, in the order of a stored row.
FIELDS = ("duration_ms", "method", "command", "params", "status", "error", "error_description", "why")
#: (Unix time, the fields a call's entries share: HTTP method, path and credential, the entry's own
#: fields in the order of FIELDS).
Row = tuple[float, tuple[Any, ...], tuple[Any, ...]]


#: Shared by every call that is not a batch (never changed: a batch's call gets a list of its own).
_NO_COMMANDS: list[CommandNote] = []


class _Redaction:
    """One walk over the parameters: secrets by name masked, and the values found under those names
    collected, so that a second walk (only when some were found) masks them inside other texts."""

    __slots__ = ("found", "hidden", "secrets")

    def __init__(self, secrets: frozenset[str], hidden: tuple[str, ...]) -> None:
        self.secrets = secrets
        self.hidden = hidden
        self.found: set[str] = set()

    def copy(self, value: Any) -> Any:
        """``value`` with its secrets masked: a new container only where something is masked (the
        call is over, so nothing changes its parameters any more)."""
        kind = type(value)
        if kind is dict:
            out = None
            for key, item in value.items():
                if (key if type(key) is str else str(key)).lower() in self.secrets:
                    if type(item) is str and len(item) >= MIN_HIDDEN and item not in self.hidden:
                        self.found.add(item)
                    masked: Any = MASK
                elif type(item) in _PLAIN or (masked := self.copy(item)) is item:
                    continue
                if out is None:
                    out = dict(value)
                out[key] = masked
            return value if out is None else out
        if kind is list:
            copies = [item if type(item) in _PLAIN else self.copy(item) for item in value]
            return value if all(a is b for a, b in zip(copies, value, strict=True)) else copies
        if kind is str and self.hidden:
            return hide(value, self.hidden)
        return value


#: Values with nothing inside to mask (checked by exact type: the hot path of every call's copy).
_PLAIN = frozenset({int, float, bool, type(None)})


def redact(values: list[Any], secrets: frozenset[str], code: str | None) -> tuple[list[Any], tuple[str, ...]]:
    """Copies of ``values`` (a call's parameters and its commands') with their secrets masked, and the
    texts masked in them (the code, the secrets' values), for the call's other texts."""
    hidden = () if code is None else (code,)
    walk = _Redaction(secrets, hidden)
    copies = [walk.copy(value) for value in values]
    if walk.found:  # a token given as a parameter also shows inside a batch command's text
        hidden = tuple(sorted({*hidden, *walk.found}, key=len, reverse=True))
        copies = [_Redaction(secrets, hidden).copy(value) for value in values]
    return copies, hidden


def hide(text: str, hidden: tuple[str, ...]) -> str:
    for secret in hidden:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class Call:
    """One journaled request, as the HTTP layer saw it end. Cheap to make (every call makes one): what
    most calls leave as it is stays a class attribute, and the page takes its values when it ends
    (page.py)."""

    #: Microseconds it took (whole: as precise as an entry shows it, and short in a page's text).
    duration = 0
    #: The decoded parameters (None: not decoded, as when a fault answered first).
    params: Any = None
    status = 200
    error: str | None = None
    error_description: str | None = None
    why: str | None = None
    #: Who called, as the journal shows it (AuthContext.shown), once the call knows.
    credential: dict[str, Any] | None = None
    #: Parameter names whose values are secrets in this call.
    secrets = SECRETS
    #: A batch's commands (every other call shares this empty list, never changed).
    commands: list[CommandNote] = _NO_COMMANDS

    def __init__(self, at: float, http_method: str, path: str, method: str, code: str | None = None) -> None:
        self.at = at  # Unix seconds, when it came in
        self.http_method = http_method
        self.path = path  # masked already
        self.method = method
        #: The webhook code of the path: masked wherever else it shows (a parameter, an error's text).
        self.code = code

    def noted(self, ctx: AuthContext) -> AuthContext:
        """Keep who the call authenticated as; returns the context."""
        self.credential = ctx.shown
        return ctx

    def refused(self, status: int, body: dict[str, Any], why: str | None) -> None:
        """The call answered the error ``body``; ``why`` None: its description says why."""
        error, description = body.get("error"), body.get("error_description")
        self.status = status
        self.error = None if error is None else str(error)
        self.error_description = None if description is None else str(description)
        self.why = why or self.error_description

    def head(self) -> tuple[Any, ...]:
        """The fields a call's entries share: HTTP method, path and credential."""
        return (self.http_method, self.path, self.credential)

    def mask(self) -> None:
        """Mask the call's secrets in place (a call without batch commands, as /oauth/ calls are)."""
        (self.params,), hidden = redact([self.params], self.secrets, self.code)
        self.error_description = _hidden(self.error_description, hidden)
        self.why = _hidden(self.why, hidden)

    def rows(self) -> list[Row]:
        """The call's row, then one per batch command, with the secrets masked (for log lines, and
        for a page that may show a secret)."""
        values = [self.params, *(c.params for c in self.commands)]
        params, hidden = redact(values, self.secrets, self.code)
        head = self.head()
        description, why = _hidden(self.error_description, hidden), _hidden(self.why, hidden)
        own = (self.duration, self.method, None, params[0], self.status, self.error, description, why)
        out: list[Row] = [(self.at, head, own)]
        for (started, *fields), command_params in zip(self.command_fields(), params[1:], strict=True):
            fields[3] = command_params
            fields[6], fields[7] = _hidden(fields[6], hidden), _hidden(fields[7], hidden)
            out.append((started, head, tuple(fields)))
        return out

    def command_fields(self) -> list[list[Any]]:
        """Per batch command: when it started, then its fields in the order of FIELDS, unmasked."""
        out = []
        for c in self.commands:
            why = None if c.error is None else c.why or c.error_description
            out.append(
                [
                    c.started,
                    c.duration,
                    c.method,
                    c.key,
                    c.params,
                    c.status,
                    c.error,
                    c.error_description,
                    why,
                ]
            )
        return out


def as_object(head: tuple[Any, ...] | list[Any], fields: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    """An entry's fields by name, in a stable order (its duration, kept in microseconds, in
    milliseconds)."""
    entry = dict(zip(FIELDS, fields, strict=True))
    http_method, path, credential = head
    return {
        "duration_ms": entry["duration_ms"] / 1000,
        "http_method": http_method,
        "path": path,
        "credential": credential,
        **entry,
    }


def _hidden(text: str | None, hidden: tuple[str, ...]) -> str | None:
    return text if text is None or not hidden else hide(text, hidden)
