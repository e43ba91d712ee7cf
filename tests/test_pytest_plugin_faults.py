"""The "Errors on demand" example of docs/testing.md, run as a user's suite runs it: a separate pytest
process with b24local's plugin (its ``b24local_faults`` fixture) found through the entry point."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import new_database

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live  # the fixtures start `b24local serve`

EXAMPLE = re.search(
    r"## Errors on demand\n.*?```python\n(.*?)```", (ROOT / "docs" / "testing.md").read_text(), re.S
)


def test_users_suite_injects_faults(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str
) -> None:
    assert EXAMPLE is not None, "docs/testing.md has no example under 'Errors on demand'"
    pytester.makepyfile(test_faults=EXAMPLE.group(1))
    options = ["-p", "no:randomly", "-p", "no:cacheprovider"]
    if backend == "postgres":
        options += ["--b24local-database", str(new_database(request, backend, pytester.path))]
    result = pytester.runpytest_subprocess(*options)
    result.assert_outcomes(passed=2)
