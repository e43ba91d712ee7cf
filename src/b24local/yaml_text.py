"""YAML in and out, with PyYAML's safe loader and dumper only (no tags, no objects).

The libyaml-backed classes are the same safe constructors in C, several times faster on large seed
documents; the pure-Python ones serve where PyYAML was built without libyaml.
"""

from __future__ import annotations

from typing import Any

import yaml

YAMLError = yaml.YAMLError
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader: CSafeLoader or SafeLoader)


def dump(value: Any) -> str:
    text: str = yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    return text
