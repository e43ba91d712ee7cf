"""docs/compatibility.md agrees with the compat markers in tests/clients/ (regenerate: ``make compat``).

The markers are read from the source (``static_compat_markers``), so this needs no client library
installed: a client or a feature added to the tests without regenerating the document fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clients.conftest import FEATURES, StaticMarker, static_compat_markers
from tests.scripts import load_tool

CLIENTS_DIR = Path(__file__).resolve().parent
ROOT = CLIENTS_DIR.parents[1]
DOC = ROOT / "docs" / "compatibility.md"
REGENERATE = "regenerate docs/compatibility.md with `make compat`"


def source_files() -> list[Path]:
    return sorted(
        path
        for path in CLIENTS_DIR.rglob("*.py")
        if not any(part in {"node_modules", "vendor"} or part.startswith(".") for part in path.parts)
    )


def markers() -> list[StaticMarker]:
    found: list[StaticMarker] = []
    errors: list[str] = []
    for path in source_files():
        file_markers, file_errors = static_compat_markers(path)
        found += file_markers
        errors += file_errors
    assert not errors, "compat markers that cannot be read from the source:\n" + "\n".join(errors)
    return found


def doc_matrix() -> tuple[list[str], dict[str, dict[str, str]]]:
    """The matrix's feature columns and, per client, its cells."""
    assert DOC.is_file(), f"{DOC} is missing: {REGENERATE}"
    tool = load_tool("compat")
    text = DOC.read_text(encoding="utf-8")
    match = re.search(re.escape(tool.MATRIX_START) + r"\n(.*?)\n" + re.escape(tool.MATRIX_END), text, re.S)
    assert match, f"no matrix between {tool.MATRIX_START} and {tool.MATRIX_END}: {REGENERATE}"
    header, _rule, *rows = match.group(1).splitlines()

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    columns = cells(header)[1:]
    matrix: dict[str, dict[str, str]] = {}
    for line in rows:
        client, *values = cells(line)
        assert len(values) == len(columns), line
        matrix[client] = dict(zip(columns, values, strict=True))
    return columns, matrix


def test_markers_in_source_are_valid() -> None:
    found = markers()
    assert found, "no compat markers found under tests/clients"
    assert all(marker.feature in FEATURES for marker in found)


def test_tool_and_conftest_agree_on_features() -> None:
    assert list(load_tool("compat").FEATURES) == list(FEATURES)


def test_every_client_is_described_in_the_tool() -> None:
    described = set(load_tool("compat").CLIENTS)
    missing = sorted({marker.client for marker in markers()} - described)
    assert not missing, f"add {missing} to CLIENTS in tools/compat.py, then {REGENERATE}"


def test_matrix_columns_are_the_features() -> None:
    columns, _ = doc_matrix()
    assert columns == list(FEATURES), REGENERATE


def test_every_client_is_in_the_matrix() -> None:
    _, matrix = doc_matrix()
    in_code = {marker.client for marker in markers()}
    missing = sorted(in_code - set(matrix))
    assert not missing, f"clients with compat tests missing from the matrix: {missing}; {REGENERATE}"
    stale = sorted(set(matrix) - in_code)
    assert not stale, f"clients in the matrix without compat tests: {stale}; {REGENERATE}"


@pytest.mark.parametrize("feature", FEATURES)
def test_tested_features_are_not_blank_in_the_matrix(feature: str) -> None:
    """A plain "—" means "no test"; a cell with tests shows a result (or "—" with a note saying why not)."""
    _, matrix = doc_matrix()
    tested = {marker.client for marker in markers() if marker.feature == feature}
    for client, row in sorted(matrix.items()):
        blank = row[feature] == "—"
        if client in tested:
            assert not blank, f"{client} has {feature!r} tests but the matrix says not tested; {REGENERATE}"
        else:
            assert blank, (
                f"{client} has no {feature!r} test but the matrix shows {row[feature]}; {REGENERATE}"
            )
