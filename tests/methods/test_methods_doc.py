"""docs/methods.md and the packaged official list are what ``make docs`` writes (tools/methods_doc.py)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from b24local.methods.families import load_all
from b24local.methods.official import official_methods
from tests.scripts import load_tool

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_TSV = ROOT.parent / "shared" / "b24-docs" / "methods.tsv"
REGENERATE = "run `make docs`"


def test_methods_doc_is_current() -> None:
    expected = load_tool("methods_doc").render(load_all(), official_methods())
    actual = (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    assert actual == expected, f"docs/methods.md is stale: {REGENERATE}"


def test_official_list_is_current() -> None:
    assert OFFICIAL_TSV.is_file(), f"{OFFICIAL_TSV} is missing (../shared beside the clone)"
    tool = load_tool("methods_doc")
    expected = tool.official_file(tool.official_names(OFFICIAL_TSV.read_text(encoding="utf-8")))
    packaged = (
        resources.files("b24local.methods").joinpath("official_methods.txt").read_text(encoding="utf-8")
    )
    assert packaged == expected, f"src/b24local/methods/official_methods.txt is stale: {REGENERATE}"


def test_official_list_content() -> None:
    names = official_methods()
    assert len(names) == 1659
    assert {"crm.lead.add", "tasks.task.add", "im.message.add", "booking.v1.resourcetype.add"} <= names
    assert not {"batch", "crm.lead.addd"} & names


def test_areas() -> None:
    area = load_tool("methods_doc").area
    assert [area(n) for n in ("crm.lead.contact.add", "crm.deal.list", "tasks.task.add", "batch")] == [
        "crm.lead",
        "crm.deal",
        "tasks",
        "batch",
    ]


def test_coverage_table() -> None:
    lines = load_tool("methods_doc").coverage(
        ["crm.lead.add", "batch"], ["crm.lead.add", "crm.lead.get", "im.message.add"]
    )
    assert lines[2:] == [
        "1 of the 3 methods on the official list are implemented. Per area (the first segment of the name; "
        "for CRM the first two):",
        "",
        "| area | implemented | listed |",
        "|---|---:|---:|",
        "| `crm.lead` | 1 | 2 |",
        "| `im` | 0 | 1 |",
        "| **total** | **1** | **3** |",
        "",
        "Implemented, not on the official list: `batch`.",
    ]
