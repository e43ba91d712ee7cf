"""Compatibility records for the client tests (docs/compatibility.md, ``make compat``).

A test here that exercises one feature through one client carries
``@pytest.mark.compat(client="<client name>", feature="<feature>")`` with a feature from ``FEATURES``.
The marker is checked when the tests are collected (a misspelt feature stops the run with a usage
error), and every marked test's outcome is recorded: passed, failed, xfailed (with the reason),
xpassed, or skipped (with the reason). A module skipped while it is imported (``pytest.importorskip``,
``pytest.skip(..., allow_module_level=True)``) has no test items; its markers are read from its source
instead and recorded as skipped with the module's reason.

When ``B24LOCAL_COMPAT_OUT`` names a file, the records are written there as JSON at the end of the
session; ``tools/compat.py`` turns that file into docs/compatibility.md.

The markers must be written with string literals (or module-level string constants): the same
source reading, ``static_compat_markers``, is what ``test_compat_doc.py`` uses to check that the
document covers every client.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import b24local
from tests.conftest import LiveServer

#: The features of the matrix, in its column order.
FEATURES = (
    "items.set/get",
    "add/delete",
    "list all pages",
    "batch",
    "error surfaced",
    "deals",
    "companies",
    "deal bindings",
    "company bindings",
)
OUT_ENV = "B24LOCAL_COMPAT_OUT"
SCHEMA = 1
#: What a client name may not contain (it becomes a Markdown table cell).
_FORBIDDEN_IN_CLIENT = frozenset("|`\n\r[]")


@dataclass(frozen=True)
class StaticMarker:
    """A ``compat`` marker as read from a module's source."""

    path: Path
    line: int
    where: str  # the enclosing test ("test_x", "TestY::test_x"), or "" at module level
    client: str
    feature: str


def check_compat_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str]:
    """The (client, feature) of a ``compat`` marker, or ValueError saying what is wrong with it."""
    unknown = sorted(set(kwargs) - {"client", "feature"})
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(unknown)}; expected client=..., feature=...")
    if len(args) > 2:
        raise ValueError("expected two arguments: client=..., feature=...")
    named = dict(zip(("client", "feature"), args, strict=False))
    if set(named) & set(kwargs):
        raise ValueError("client or feature given twice")
    named.update(kwargs)
    client, feature = named.get("client"), named.get("feature")
    if not isinstance(client, str) or not client.strip() or client != client.strip():
        raise ValueError(f"client must be a non-empty string without surrounding spaces, not {client!r}")
    if _FORBIDDEN_IN_CLIENT & set(client):
        raise ValueError(f"client {client!r} may not contain any of | ` [ ] or a line break")
    if feature not in FEATURES:
        raise ValueError(f"feature must be one of {', '.join(map(repr, FEATURES))}, not {feature!r}")
    return client, feature


# Reading markers from source ---------------------------------------------------------------------


def _is_compat_marker(func: ast.expr) -> bool:
    """``pytest.mark.compat`` or ``mark.compat``."""
    if not (isinstance(func, ast.Attribute) and func.attr == "compat"):
        return False
    owner = func.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
        isinstance(owner, ast.Name) and owner.id == "mark"
    )


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments (so ``client=CLIENT`` can be read)."""
    constants: dict[str, str] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            for target in targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = value.value
    return constants


def static_compat_markers(path: Path) -> tuple[list[StaticMarker], list[str]]:
    """Every ``compat`` marker written in a Python file, and the errors found in them.

    An error is a marker whose arguments are not literal strings (or module-level string constants)
    or do not pass ``check_compat_args``; it is reported as ``path:line: message``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _string_constants(tree)
    markers: list[StaticMarker] = []
    errors: list[str] = []

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and node.id in constants:
            return constants[node.id]
        raise ValueError(f"argument {ast.unparse(node)} is not a string literal or a module-level constant")

    def visit(node: ast.AST, where: tuple[str, ...]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            where = (*where, node.name)  # its decorators are its children: they count as inside it
        if isinstance(node, ast.Call) and _is_compat_marker(node.func):
            try:
                if any(isinstance(a, ast.Starred) for a in node.args) or any(
                    k.arg is None for k in node.keywords
                ):
                    raise ValueError("*args/**kwargs cannot be read statically")
                args = tuple(value(a) for a in node.args)
                kwargs = {str(k.arg): value(k.value) for k in node.keywords}
                client, feature = check_compat_args(args, kwargs)
            except ValueError as error:
                errors.append(f"{path}:{node.lineno}: compat marker: {error}")
            else:
                markers.append(StaticMarker(path, node.lineno, "::".join(where), client, feature))
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, ())
    return markers, errors


# Recording outcomes ------------------------------------------------------------------------------


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return text.removeprefix("Skipped: ").strip()


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or report.longreprtext or "")
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:300]


class CompatRecorder:
    """Collects one record per (test, compat marker) and writes them out at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: dict[tuple[str, str, str], dict[str, str]] = {}
        self.static_errors: list[str] = []

    def _record(self, nodeid: str, client: str, feature: str, outcome: str, reason: str = "") -> None:
        key = (nodeid, client, feature)
        earlier = self.records.get(key)
        if earlier is not None and earlier["outcome"] == "failed":
            return  # a failure in any phase (setup, call, teardown) stands
        self.records[key] = {
            "nodeid": nodeid,
            "client": client,
            "feature": feature,
            "outcome": outcome,
            "reason": reason,
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        errors = list(self.static_errors)
        for item in items:
            for mark in item.iter_markers("compat"):
                try:
                    client, feature = check_compat_args(mark.args, dict(mark.kwargs))
                except ValueError as error:
                    errors.append(f"{item.nodeid}: compat marker: {error}")
                    continue
                item.user_properties.append(("compat", (client, feature)))
        if errors:
            raise pytest.UsageError("invalid compat marker(s):\n  " + "\n  ".join(errors))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module skipped at import: record its markers, read from the source, as skipped."""
        if not report.skipped or "::" in report.nodeid or not report.nodeid.endswith(".py"):
            return
        path = self.config.rootpath / report.nodeid
        if not path.is_file():
            return
        markers, errors = static_compat_markers(path)
        self.static_errors.extend(errors)
        reason = _skip_reason(report)
        for marker in markers:
            nodeid = f"{report.nodeid}::{marker.where}" if marker.where else report.nodeid
            self._record(nodeid, marker.client, marker.feature, "skipped", reason)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        marks = [value for name, value in report.user_properties if name == "compat"]
        if not marks:
            return
        wasxfail = getattr(report, "wasxfail", None)
        if report.failed:
            outcome, reason = "failed", f"{report.when}: {_failure_message(report)}"
        elif report.skipped and wasxfail is not None:
            outcome, reason = "xfailed", str(wasxfail).removeprefix("reason: ")
        elif report.skipped:
            outcome, reason = "skipped", _skip_reason(report)
        elif report.when != "call":
            return  # a passing setup or teardown says nothing about the test itself
        elif wasxfail is not None:
            outcome, reason = "xpassed", str(wasxfail).removeprefix("reason: ")
        else:
            outcome, reason = "passed", ""
        for client, feature in marks:
            self._record(report.nodeid, client, feature, outcome, reason)

    def pytest_sessionfinish(self) -> None:
        out = os.environ.get(OUT_ENV)
        if not out or hasattr(self.config, "workerinput"):  # xdist workers report to the controller
            return
        records = sorted(self.records.values(), key=lambda r: (r["client"], r["feature"], r["nodeid"]))
        document = {
            "schema": SCHEMA,
            "b24local_version": b24local.__version__,
            "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
            "features": list(FEATURES),
            "records": records,
        }
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("b24local-compat"):
        config.pluginmanager.register(CompatRecorder(config), "b24local-compat")


# Client libraries need a URL: here ``server`` and ``fresh_server`` are live servers (which marks every
# test using them ``live``, tests/conftest.py).
@pytest.fixture(scope="session")
def server(live_server: LiveServer) -> LiveServer:
    return live_server


@pytest.fixture
def fresh_server(fresh_live_server: LiveServer) -> LiveServer:
    return fresh_live_server
