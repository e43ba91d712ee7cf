"""A finished call as journal entries: what it was, who made it, how it ended, and why it was refused.

Secrets never enter an entry: parameters named like a credential are replaced by ``***`` at any depth
of the decoded parameters, and so is every other occurrence of such a value and of the webhook code of
the path, in any text (``/rest/1/***/crm.lead.get``).

An entry travels as a :data:`Row` of tuples (the page a process appends stores them, the fields a
call's entries share once per page) and becomes an object when it is read (:func:`as_object`): tuples
cost a call less to make and the database less to store than objects with their keys.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from b24local.auth.context import AuthContext
from b24local.protocol.call_note import CommandNote

#: What replaces a secret.
MASK = "***"
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


@lru_cache(maxsize=1024)
def masked_path(path: str, has_code: bool) -> str:
    """``path`` with its webhook code (the second segment after ``rest``; ``has_code``: it has one)
    replaced by ``***`` (a client calls the same few paths again and again)."""
    if not has_code:
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


class Call:
    """One journaled request, as the HTTP layer saw it end. Cheap to make (every call makes one): its
    rows (redaction, the credential's form) are made later, off the request's path (:meth:`rows`)."""

    __slots__ = (
        "at",
        "code",
        "commands",
        "credential",
        "ctx",
        "duration",
        "error",
        "error_description",
        "http_method",
        "method",
        "params",
        "path",
        "secrets",
        "status",
        "why",
    )

    def __init__(self, at: float, http_method: str, path: str, method: str, code: str | None = None) -> None:
        self.at = at  # Unix seconds, when it came in
        self.duration = 0.0  # seconds
        self.http_method = http_method
        self.path = path  # masked already
        self.method = method
        #: The webhook code of the path: masked wherever else it shows (a parameter, an error's text).
        self.code = code
        self.params: Any = None
        self.status = 200
        #: Who called: the context a /rest/ call ran under, or the credential /oauth/ noted.
        self.ctx: AuthContext | None = None
        self.credential: dict[str, Any] | None = None
        self.error: str | None = None
        self.error_description: str | None = None
        self.why: str | None = None
        self.secrets = SECRETS
        self.commands: list[CommandNote] = _NO_COMMANDS

    def noted(self, ctx: AuthContext) -> AuthContext:
        """Keep the context the call authenticated as; returns it."""
        self.ctx = ctx
        return ctx

    def refused(self, status: int, body: dict[str, Any], why: str | None) -> None:
        """The call answered the error ``body``; ``why`` None: its description says why."""
        error, description = body.get("error"), body.get("error_description")
        self.status = status
        self.error = None if error is None else str(error)
        self.error_description = None if description is None else str(description)
        self.why = why or self.error_description

    def user_id(self) -> int | None:
        if self.ctx is not None:
            return self.ctx.user_id
        return None if self.credential is None else self.credential.get("user_id")

    def head_key(self) -> tuple[Any, ...]:
        """What tells one call's shared fields from another's in a page, cheaply (the server's
        login cache hands the same context to every call of a credential)."""
        return (self.http_method, self.path, id(self.ctx) if self.ctx is not None else id(self.credential))

    def head(self) -> tuple[Any, ...]:
        """The fields a call's entries share: HTTP method, path and credential."""
        credential = credential_of(self.ctx) if self.ctx is not None else self.credential
        return (self.http_method, self.path, credential)

    def unmasked_fields(self) -> tuple[Any, ...]:
        """The fields of a call without batch commands, as :meth:`rows` gives them unmasked."""
        return (
            self.duration,
            self.method,
            None,
            self.params,
            self.status,
            self.error,
            self.error_description,
            self.why,
        )

    def rows(self, masked: bool = True) -> list[Row]:
        """The call's row, then one per batch command (linked to it when they are stored).
        ``masked`` False: the parameters and texts as they are, for a page that :func:`shows_secrets`
        then finds nothing to mask in (the cheap way of most calls)."""
        values = [self.params, *(c.params for c in self.commands)]
        params, hidden = redact(values, self.secrets, self.code) if masked else (values, ())
        head = self.head()
        description, why = _hidden(self.error_description, hidden), _hidden(self.why, hidden)
        own = (self.duration, self.method, None, params[0], self.status, self.error, description, why)
        out: list[Row] = [(self.at, head, own)]
        for command, command_params in zip(self.commands, params[1:], strict=True):
            why = None if command.error is None else command.why or command.error_description
            fields = (
                command.duration,
                command.method,
                command.key,
                command_params,
                command.status,
                command.error,
                _hidden(command.error_description, hidden),
                _hidden(why, hidden),
            )
            out.append((command.started, head, fields))
        return out


def shows_secrets(text: bytes, calls: list[Call]) -> bool:
    """Might the JSON ``text`` of ``calls``' unmasked rows hold something to mask: a parameter named
    like a secret (as a key or any text, in any case), or a webhook code of the calls? False means
    masking would change nothing. Searched in the bytes, which is much cheaper than walking every
    call's parameters."""
    lowered = text.lower()
    names = set().union(*(call.secrets for call in calls)) if calls else SECRETS
    if any(b'"' + name.encode() + b'"' in lowered for name in names):
        return True
    codes = {call.code for call in calls if call.code is not None}
    return any(code.lower().encode() in lowered for code in codes)


def as_object(head: tuple[Any, ...] | list[Any], fields: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    """An entry's fields by name, in a stable order (its duration, kept in seconds, in milliseconds)."""
    entry = dict(zip(FIELDS, fields, strict=True))
    http_method, path, credential = head
    return {
        "duration_ms": round(entry["duration_ms"] * 1000, 3),
        "http_method": http_method,
        "path": path,
        "credential": credential,
        **entry,
    }


def _hidden(text: str | None, hidden: tuple[str, ...]) -> str | None:
    return text if text is None or not hidden else hide(text, hidden)
