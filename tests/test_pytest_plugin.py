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
#: The journal's example there.
JOURNAL_EXAMPLE = re.search(
    r"## Asserting what the code sent: the journal\n.*?```python\n(.*?)```",
    (ROOT / "docs" / "testing.md").read_text(),
    re.S,
)


def run_as_a_users_suite(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str, example: str
) -> pytest.RunResult:
    """On SQLite the plugin's own temporary file; on PostgreSQL a database given by --b24local-database."""
    pytester.makepyfile(test_users=example)
    options = ["-p", "no:randomly", "-p", "no:cacheprovider"]
    if backend == "postgres":
        options += ["--b24local-database", str(new_database(request, backend, pytester.path))]
    return pytester.runpytest_subprocess(*options)


def test_users_suite_gets_a_server_a_webhook_and_resets(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str
) -> None:
    assert EXAMPLE is not None, "docs/testing.md has no pytest example"
    run_as_a_users_suite(pytester, request, backend, EXAMPLE.group(1)).assert_outcomes(passed=3)


#: The seed example of docs/testing.md ("Seed data").
SEED_EXAMPLE = re.search(
    r"## Seed data\n.*?```python\n(.*?)```", (ROOT / "docs" / "testing.md").read_text(), re.S
)


def test_users_suite_seeds_from_a_dict_and_a_file(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str
) -> None:
    assert SEED_EXAMPLE is not None, "docs/testing.md has no seed example"
    run_as_a_users_suite(pytester, request, backend, SEED_EXAMPLE.group(1)).assert_outcomes(passed=3)


def test_users_suite_asserts_what_its_code_sent(pytester: pytest.Pytester) -> None:
    """The journal fixture (SQLite: the journal is the same on both backends, tests/journal)."""
    assert JOURNAL_EXAMPLE is not None, "docs/testing.md has no journal example"
    pytester.makepyfile(test_users=JOURNAL_EXAMPLE.group(1))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
