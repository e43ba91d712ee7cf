"""``/_b24local/faults`` (test-portal.md T9) and ``serve --faults FILE``: set, show and clear the rules.

``PUT`` replaces the whole list (a JSON list of rules, admin/fault_rules.py) and starts every count at
0; ``GET`` shows the rules with, for each, ``hits`` (the calls it matched), ``faulted`` (those it
answered or delayed) and, for a ``times`` rule, ``remaining``; ``DELETE`` clears the list. A list that
is wrong anywhere is refused whole (400, the path of the first error) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from b24local import yaml_text
from b24local.admin.fault_rules import Rule, RuleError, parse_rules
from b24local.admin.http import ReadBody, Send, error_body, send_json
from b24local.storage.base import Storage, Transaction
from b24local.storage.errors import BusyPastDeadline
from b24local.storage.runner import run

PATH = "/_b24local/faults"
ALLOW = b"GET, HEAD, PUT, DELETE"


def listing(storage: Storage) -> dict[str, Any]:
    """What GET answers: ``{"rules": [{"rule": {...}, "hits": n, "faulted": n[, "remaining": n]}]}``."""
    with storage.read() as tx:
        _, rows = tx.fault_rules()
    shown = []
    for row in rows:
        entry: dict[str, Any] = {"rule": orjson.loads(row.rule), "hits": row.hits, "faulted": row.faulted}
        if row.remaining is not None:
            entry["remaining"] = row.remaining
        shown.append(entry)
    return {"rules": shown}


def replace_rules(storage: Storage, document: Any) -> None:
    """Check ``document`` whole and make it the rule list (one transaction); RuleError otherwise."""
    rules = parse_rules(document)

    def replace(tx: Transaction) -> int:
        _check_references(tx, rules)
        return tx.fault_rules_set([(orjson.dumps(rule.source).decode(), rule.times) for rule in rules])

    _announce(storage, run(storage, True, replace))


def clear_rules(storage: Storage) -> None:
    _announce(storage, run(storage, True, lambda tx: tx.fault_rules_set([])))


def _announce(storage: Storage, generation: int) -> None:
    """After the commit: the other processes' next call reads the new rules."""
    with storage.read(snapshot=False) as tx:
        tx.fault_announce(generation)


def _check_references(tx: Transaction, rules: list[Rule]) -> None:
    for index, rule in enumerate(rules):
        if rule.user is not None and tx.user_get(rule.user) is None:
            raise RuleError(f"[{index}].user: no user {rule.user}")
        if rule.app is not None and tx.oauth_app_by_client_id(rule.app) is None:
            raise RuleError(f"[{index}].app: no application with client_id {rule.app!r}")


def read_file(path: Path) -> Any:
    """The rule list of a JSON file (or YAML, ``.yaml``/``.yml``)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return yaml_text.load(text)
        except yaml_text.YAMLError as exc:
            raise RuleError(f"not valid YAML: {exc}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RuleError(f"not valid JSON: {exc}") from None


def faults_handler(storage: Storage) -> Callable[[str, str, ReadBody, Send], Awaitable[None]]:
    async def handle(http_method: str, path: str, read_body: ReadBody, send: Send) -> None:
        try:
            if http_method in ("GET", "HEAD"):
                await send_json(send, 200, listing(storage), http_method)
            elif http_method == "PUT":
                await _put(storage, await read_body(), send)
            elif http_method == "DELETE":
                clear_rules(storage)
                await send_json(send, 200, listing(storage), http_method)
            else:
                refusal = error_body("METHOD_NOT_ALLOWED", "Use GET, PUT or DELETE")
                await send_json(send, 405, refusal, http_method, [(b"allow", ALLOW)])
        except BusyPastDeadline:
            busy = error_body("QUERY_LIMIT_EXCEEDED", "The database stayed busy: nothing changed; try again")
            await send_json(send, 503, busy, http_method)

    return handle


async def _put(storage: Storage, body: bytes, send: Send) -> None:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        refusal = error_body("INVALID_REQUEST", "The body must be a JSON list of rules")
        await send_json(send, 400, refusal, "PUT")
        return
    try:
        replace_rules(storage, document)
    except RuleError as error:
        await send_json(send, 400, error_body("INVALID_REQUEST", str(error)), "PUT")
        return
    await send_json(send, 200, listing(storage), "PUT")
