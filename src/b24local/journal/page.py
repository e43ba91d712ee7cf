"""A page of the journal: the calls one process took together, kept by the database as one JSON text
(test-portal.md T7): a list of chunks, each made of the calls that ended one after another.

A chunk holds a row per call (Unix time, duration, HTTP method, path, credential, method, parameters,
status, error, error_description, why) and a row per batch command, with its batch's place. Making a
page is the journal's one piece of work per call besides keeping the call, so the rows are read off the
calls by C code (``operator.attrgetter``, orjson) with no Python step per call. Secrets are masked only
when the page's text may show one (a parameter named like a secret, or a webhook code of its calls),
which few chunks do: those are made again call by call, with each call's secrets masked. Texts are
not compressed: measured, compressing them saved nothing (a page is written four times a second).
"""

from __future__ import annotations

import operator
from typing import Any

import orjson

from b24local.journal.entry import SECRETS, Call

#: (entries, the newest entry's Unix time, text) of a chunk or a page.
Chunk = tuple[int, float, bytes]
#: An entry as :func:`unpack` gives it: its batch's place in the page (None: not a command), Unix
#: time, head (HTTP method, path, credential), and its fields in the order of entry.FIELDS.
Unpacked = tuple[int | None, float, list[Any], tuple[Any, ...]]

_JSON = orjson.OPT_NON_STR_KEYS
#: A call's row, read by C code.
_ROW = operator.attrgetter(
    "at",
    "duration",
    "http_method",
    "path",
    "credential",
    "method",
    "params",
    "status",
    "error",
    "error_description",
    "why",
)
_CODE = operator.attrgetter("code")
_COMMANDS = operator.attrgetter("commands")
#: A row's time, parameters and why (set for every refused call).
_ROW_AT, _ROW_PARAMS, _ROW_WHY = operator.itemgetter(0), operator.itemgetter(6), operator.itemgetter(10)
#: How a secret parameter's name shows in the JSON of parameters (searched in lower case).
_QUOTED_SECRETS = tuple(b'"' + name.encode() + b'"' for name in sorted(SECRETS))


def make_chunk(calls: list[Call]) -> Chunk:
    """The chunk of ``calls``, in the order given. An /oauth/ call is masked already (its secrets are
    not the ones a chunk looks for)."""
    batches = any(map(_COMMANDS, calls))
    rows, commands = _rows_with_commands(calls, masked=False) if batches else (list(map(_ROW, calls)), [])
    text = _text(rows, commands)
    if _may_show_secrets(calls, rows, commands, text):
        rows, commands = _rows_with_commands(calls, masked=True)
        text = _text(rows, commands)
    newest = max(map(_ROW_AT, rows), default=0.0)
    for command in commands:
        newest = max(newest, command[1])
    return len(rows) + len(commands), newest, text


def join_chunks(chunks: list[Chunk]) -> Chunk:
    """The page of ``chunks``, in the order given."""
    count = sum(chunk[0] for chunk in chunks)
    newest = max(chunk[1] for chunk in chunks)
    return count, newest, b"[" + b",".join(chunk[2] for chunk in chunks) + b"]"


def _text(rows: list[tuple[Any, ...]], commands: list[list[Any]]) -> bytes:
    return orjson.dumps({"calls": rows, "commands": commands}, option=_JSON)


def _may_show_secrets(
    calls: list[Call], rows: list[tuple[Any, ...]], commands: list[list[Any]], text: bytes
) -> bool:
    """Might masking change the chunk: a parameter named like a secret (at any depth, in any case),
    or a webhook code of its calls in a parameter or a text? Searched in bytes, which costs far less
    than walking every call's parameters; a chunk without refusals or commands has texts only in its
    parameters."""
    params = orjson.dumps([list(map(_ROW_PARAMS, rows)), [c[5] for c in commands]], option=_JSON)
    lowered = params.lower()
    if any(name in lowered for name in _QUOTED_SECRETS):
        return True
    codes = set(map(_CODE, calls))
    codes.discard(None)
    if not codes:
        return False
    where = text if commands or any(map(_ROW_WHY, rows)) else params
    return any(code.encode() in where for code in codes)


def _rows_with_commands(calls: list[Call], masked: bool) -> tuple[list[tuple[Any, ...]], list[list[Any]]]:
    """Call by call (a page with batches, or one to mask): each call's row and its commands'."""
    rows: list[tuple[Any, ...]] = []
    commands: list[list[Any]] = []
    for place, call in enumerate(calls):
        if not masked:
            rows.append(_ROW(call))
            commands.extend([place, *fields] for fields in call.command_fields())
            continue
        (at, head, fields), *own = call.rows()
        duration, method, _, params, status, error, description, why = fields
        rows.append((at, duration, *head, method, params, status, error, description, why))
        commands.extend([place, started, *command_fields] for started, _, command_fields in own)
    return rows, commands


def unpack(text: bytes) -> list[Unpacked]:
    """A page's entries in the order of their ids, each batch's commands right after it."""
    out: list[Unpacked] = []
    for chunk in orjson.loads(text):
        _unpack_chunk(chunk, out)
    return out


def _unpack_chunk(chunk: dict[str, Any], out: list[Unpacked]) -> None:
    commands = chunk["commands"]
    next_command = 0
    for row, (at, duration, http_method, path, credential, method, *rest) in enumerate(chunk["calls"]):
        params, status, error, description, why = rest
        head = [http_method, path, credential]
        place = len(out)
        out.append((None, at, head, (duration, method, None, params, status, error, description, why)))
        while next_command < len(commands) and commands[next_command][0] == row:
            command = commands[next_command]
            out.append((place, command[1], head, tuple(command[2:])))
            next_command += 1
