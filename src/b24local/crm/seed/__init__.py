"""Seed and export of the whole state in one JSON or YAML document (contract test-portal.md T5).

document.py: the format (lists, parsing, writing); apply.py: a seed, checked whole then written in
bulk (items.py, state.py, records.py, bindings.py read its lists); export.py: the state as a document.
No HTTP here: admin/seed.py and cli/seed.py are the surfaces.
"""

from b24local.crm.seed.apply import is_empty, record_count, seed
from b24local.crm.seed.document import FORMATS, Format, SeedError, dump, format_of, parse
from b24local.crm.seed.export import export, export_count

__all__ = [
    "FORMATS",
    "Format",
    "SeedError",
    "dump",
    "export",
    "export_count",
    "format_of",
    "is_empty",
    "parse",
    "record_count",
    "seed",
]
