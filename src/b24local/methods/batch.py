"""``batch``: up to 50 calls in one request (contract protocol.md B1–B5).

Each command is ``method?query`` (query in PHP bracket syntax), runs under the caller's
authentication in its own transaction, and may use earlier results through references such as
``$result[name][FIELD]`` or ``$result[name][0][ID]``.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from b24local.methods import decode, schemas
from b24local.methods.registry import Calls, Param, Result, calls_method
from b24local.model.page import ListPage
from b24local.protocol.budget import ParamBudget
from b24local.protocol.call_note import CURRENT_NOTE, CallNote, CommandNote
from b24local.protocol.envelope import CURRENT_TIMING, CallTiming
from b24local.protocol.errors import ApiError, internal_error, invalid_request, method_not_found
from b24local.protocol.params import parse_str

MAX_COMMANDS = 50
#: ``$result[cmd][a][0]``; also ``$total[cmd]``, ``$next``, ``$time``, ``$error`` (a portal's names)
#: and their long forms ``$result_total`` … naming the other result maps.
_REFERENCE = re.compile(
    r"\$(result_error|result_total|result_next|result_time|result|error|total|next|time)((?:\[[^\[\]]*\])+)"
)
_MAP_OF = {"error": "result_error", "total": "result_total", "next": "result_next", "time": "result_time"}

log = logging.getLogger("b24local")

#: The five maps of B4, each keyed like ``cmd``.
BATCH_RESULT = Result(
    schemas.strict_object(
        {
            "result": schemas.php_map({}),
            "result_error": schemas.php_map(schemas.ERROR),
            "result_total": schemas.php_map({"type": "integer"}),
            "result_next": schemas.php_map({"type": "integer"}),
            "result_time": schemas.php_map(schemas.TIME),
        },
        ("result", "result_error", "result_total", "result_next", "result_time"),
    )
)


def _commands(value: Any) -> list[tuple[str, Any]]:
    """``cmd`` as (key, command) pairs; an object keeps its keys, an array its indices."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(i), v) for i, v in enumerate(value)]
    return []


def php_map(entries: dict[str, Any]) -> Any:
    """A result map as a portal serialises the PHP array: ``[]`` when empty, a list when keyed 0..n-1."""
    if not entries:
        return []
    if list(entries) == [str(i) for i in range(len(entries))]:
        return list(entries.values())
    return entries


class Results:
    """The five maps a batch answers with, filled as commands finish."""

    def __init__(self) -> None:
        self.maps: dict[str, dict[str, Any]] = {
            "result": {},
            "result_error": {},
            "result_total": {},
            "result_next": {},
            "result_time": {},
        }

    def lookup(self, kind: str, path: list[str]) -> tuple[bool, Any]:
        node: Any = self.maps[_MAP_OF.get(kind, kind)]
        for step in path:
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and _is_index(step, len(node)):
                node = node[int(step)]
            else:
                return False, None
        return True, node

    def substitute(self, value: Any) -> Any:
        """Replace references in every string of a command's parameters (B3).

        A string that is exactly one reference takes the referenced value as it is (a list stays a
        list); references inside longer strings are replaced by their text. An unresolved reference
        is left as written.
        """
        if isinstance(value, dict):
            return {k: self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = _REFERENCE.fullmatch(value)
        if whole is not None:
            found, resolved = self.lookup(whole.group(1), _path(whole.group(2)))
            return resolved if found else value

        def text(match: re.Match[str]) -> str:
            found, resolved = self.lookup(match.group(1), _path(match.group(2)))
            if not found:
                return match.group(0)
            if isinstance(resolved, bool):
                return "1" if resolved else ""
            return "" if resolved is None else str(resolved)

        return _REFERENCE.sub(text, value)

    def body(self) -> dict[str, Any]:
        return {name: php_map(entries) for name, entries in self.maps.items()}


def _is_index(step: str, length: int) -> bool:
    """ASCII digits only ("²" is a digit to str.isdigit but not to int), and short enough for int()."""
    return step.isascii() and step.isdigit() and len(step) <= len(str(length)) and int(step) < length


def _path(brackets: str) -> list[str]:
    return brackets[1:-1].split("][")


def _split(command: str, budget: ParamBudget) -> tuple[str, dict[str, Any]]:
    name, _, query = command.partition("?")
    name = name.strip().strip("/").lower()
    if name.endswith(".json"):
        name = name[:-5]
    return name, parse_str(query.encode("utf-8"), budget)


#: A command ready to run (its method name and parameters), or the error it answers at its turn.
Prepared = tuple[str, dict[str, Any]] | ApiError


def _prepare(calls: Calls, command: Any) -> Prepared:
    """Decode and look up one command, from what the request left of the parameter budget.

    A command's own failure waits for its turn (``halt`` may stop the batch before it); a budget
    spent past its end is raised, refusing the whole batch before any command has run.
    """
    try:
        if not isinstance(command, str):
            raise invalid_request("A batch command is a string 'method?query'")
        name, command_params = _split(command, calls.budget)
        if not name:
            raise method_not_found()
        if not calls.find(name).batch:
            raise ApiError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
    except ApiError as error:
        if calls.budget.exhausted:
            raise
        return error
    return name, command_params


CMD = Param(
    "cmd",
    "object",
    True,
    "Commands 'method?query' by key (object) or position (array); at most 50",
    {"type": "object", "additionalProperties": {"type": "string"}},
    decode.exact_or_upper,
)
HALT = Param(
    "halt",
    "boolean",
    False,
    "Stop at the first failing command (true/false, 1/0, Y/N)",
    reader=decode.yes_no(decode.exact_or_upper),
)


@calls_method(
    "batch",
    scope="basic",
    params=(CMD, HALT),
    summary="Run up to 50 calls in one request.",
    result=BATCH_RESULT,
)
def batch(calls: Calls) -> dict[str, Any]:
    commands = _commands(CMD.read(calls.params))
    if len(commands) > MAX_COMMANDS:
        raise ApiError(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
    halt = HALT.read(calls.params)
    prepared = [(key, _prepare(calls, command)) for key, command in commands]  # all before any runs
    results = Results()
    note = CURRENT_NOTE.get()
    for (key, ready), (_, raw) in zip(prepared, commands, strict=True):
        timing = CallTiming(start=time.time())
        command = None if note is None else _noted(note, key, raw, ready, timing.start)
        try:
            if isinstance(ready, ApiError):
                raise ready
            name, command_params = ready
            token = CURRENT_TIMING.set(timing)  # the command's own operating time (B5)
            try:
                command_params = results.substitute(command_params)
                if command is not None:
                    command.params = command_params
                result, timing.processing = calls.run(name, command_params)
            finally:
                CURRENT_TIMING.reset(token)
        except Exception as failure:
            error = failure if isinstance(failure, ApiError) else internal_error()
            if error is not failure:
                log.exception("batch command %s: internal error", key)
            results.maps["result_error"][key] = error.body()
            if error.code == "insufficient_scope":
                # Inside batch a portal reports the scope failure without a description (batch.md).
                results.maps["result_error"][key]["error_description"] = ""
            if command is not None:
                _refused(command, error)
            if halt:
                break
            continue
        finally:
            if command is not None:
                command.duration = time.time() - command.started
        if isinstance(result, ListPage):
            results.maps["result"][key] = result.items
            results.maps["result_total"][key] = result.total
            if result.next is not None:
                results.maps["result_next"][key] = result.next
        else:
            results.maps["result"][key] = result
        results.maps["result_time"][key] = timing.as_dict()
    return results.body()


def _noted(note: CallNote, key: str, raw: Any, ready: Prepared, started: float) -> CommandNote:
    """The journal's record of a command (test-portal.md T7), filled in as it runs; a command refused
    before it ran is named as written."""
    params: dict[str, Any] = {}
    if isinstance(ready, ApiError):
        name = str(raw).partition("?")[0].strip().strip("/").lower()
    else:
        name, params = ready
    command = CommandNote(key, name, params, started, 0.0)
    note.commands.append(command)
    return command


def _refused(command: CommandNote, error: ApiError) -> None:
    command.status, command.error, command.error_description = error.status, error.code, error.description
    command.why = error.why
