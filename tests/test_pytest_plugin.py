"""The pytest plugin installed with b24local (src/b24local/testing.py), run as a user's suite runs it:
a separate pytest process that finds the plugin through its entry point, not through this conftest,
on the example of docs/testing.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import new_database

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live  # the fixtures start `b24local serve`

#: The pytest example of docs/testing.md, run as it is written there.
EXAMPLE = re.search(r"## pytest\n.*?```python\n(.*?)```", (ROOT / "docs" / "testing.md").read_text(), re.S)


def test_users_suite_gets_a_server_a_webhook_and_resets(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str
) -> None:
    """On SQLite the plugin's own temporary file; on PostgreSQL a database given by --b24local-database."""
    assert EXAMPLE is not None, "docs/testing.md has no pytest example"
    run_users_suite(pytester, request, backend, EXAMPLE.group(1)).assert_outcomes(passed=3)


def run_users_suite(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str, source: str
) -> pytest.RunResult:
    """``source`` as a user's test module, run by a pytest process of its own."""
    pytester.makepyfile(test_users=source)
    options = ["-p", "no:randomly", "-p", "no:cacheprovider"]
    if backend == "postgres":
        options += ["--b24local-database", str(new_database(request, backend, pytester.path))]
    return pytester.runpytest_subprocess(*options)
