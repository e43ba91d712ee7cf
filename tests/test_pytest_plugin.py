"""The pytest plugin installed with b24local (src/b24local/testing.py), run as a user's suite runs it:
a separate pytest process that finds the plugin through its entry point, not through this conftest,
on each Python example of docs/testing.md, as it is written there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import new_database

DOC = (Path(__file__).resolve().parent.parent / "docs" / "testing.md").read_text()

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live  # the fixtures start `b24local serve`

#: Each section of docs/testing.md with a Python example, and how many tests its example holds.
EXAMPLES = {
    "pytest": 3,
    "Seed data": 3,
    "Asserting what the code sent: the journal": 2,
    "Snapshots between tests": 2,
    "Errors on demand": 2,
}


def example(section: str) -> str:
    found = re.search(rf"## {re.escape(section)}\n.*?```python\n(.*?)```", DOC, re.S)
    assert found is not None, f"docs/testing.md has no Python example under {section!r}"
    return found.group(1)


@pytest.mark.parametrize(("section", "tests"), EXAMPLES.items(), ids=list(EXAMPLES))
def test_the_example_passes_as_a_users_suite(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str, section: str, tests: int
) -> None:
    """On SQLite the plugin's own temporary file; on PostgreSQL a database given by --b24local-database."""
    pytester.makepyfile(test_users=example(section))
    options = ["-p", "no:randomly", "-p", "no:cacheprovider"]
    if backend == "postgres":
        options += ["--b24local-database", str(new_database(request, backend, pytester.path))]
    pytester.runpytest_subprocess(*options).assert_outcomes(passed=tests)


def test_every_python_example_is_run() -> None:
    sections = re.findall(r"^## (.+)\n(?:(?!^## ).*\n)*?```python\n", DOC, re.M)
    assert sorted(sections) == sorted(EXAMPLES)
