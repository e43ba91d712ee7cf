"""docs/testing.md's "Snapshots between tests" example, run as a user's suite runs it: a separate pytest
process with the plugin of src/b24local/testing.py (as tests/test_pytest_plugin.py runs the first one)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_pytest_plugin import run_as_a_users_suite

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live  # the fixtures start `b24local serve`

EXAMPLE = re.search(
    r"## Snapshots between tests\n.*?```python\n(.*?)```", (ROOT / "docs" / "testing.md").read_text(), re.S
)


def test_each_test_starts_from_the_snapshot(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, backend: str
) -> None:
    assert EXAMPLE is not None, "docs/testing.md has no snapshot example"
    run_as_a_users_suite(pytester, request, backend, EXAMPLE.group(1)).assert_outcomes(passed=2)
