"""Parameters for any registered method, from its `Param` declarations and its family's fields.

Nothing here names a method: a method added to the registry is fuzzed as soon as it is registered.
A family is the prefix of a ``<prefix>.fields`` method (``crm.lead``, ``crm.lead.contact``); its field
names and types come from calling that method at the start of the run (:class:`Catalogue`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from b24local.methods.registry import AnyMethod, Param
from b24local.model.query import FILTER_PREFIXES
from tests.fuzz.encode import php_pairs, urlencode
from tests.fuzz.values import ODD_STRINGS, long_string, odd_key, odd_scalar, odd_value, small_id


@dataclass(slots=True)
class Catalogue:
    methods: dict[str, AnyMethod]
    #: family prefix → {field name: its description from ``<prefix>.fields``}
    fields: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(self.methods)

    def family(self, method: str) -> dict[str, dict[str, Any]]:
        """The fields of the longest family prefix of ``method`` ({} when it has none)."""
        best = ""
        for prefix in self.fields:
            if method.startswith(prefix + ".") and len(prefix) > len(best):
                best = prefix
        return self.fields.get(best, {})


def plausible(rng: random.Random, spec: dict[str, Any]) -> Any:
    """A value a client would send for a field of this description."""
    kind = str(spec.get("type", "string"))
    if spec.get("isMultiple") and kind != "crm_multifield":
        return [small_id(rng) for _ in range(rng.randint(0, 4))]
    if kind == "crm_multifield":
        return [
            {
                "VALUE": rng.choice(("+7 999 000", "a@b.c", "", "x" * 300)),
                "VALUE_TYPE": rng.choice(("WORK", "HOME", "?")),
            }
            for _ in range(rng.randint(0, 3))
        ]
    if kind in ("integer", "user") or kind.startswith("crm_"):
        return rng.choice((small_id(rng), str(small_id(rng))))
    if kind == "char":
        return rng.choice(("Y", "N", "y", ""))
    if kind == "double":
        return rng.choice((0, 12.5, "99.99", -1))
    if kind == "date":
        return rng.choice(("2024-05-03", "03.05.2024", "2024-13-40"))
    if kind == "datetime":
        return rng.choice(("2024-05-03T17:19:01+03:00", "2024-05-03 10:00:00", "yesterday"))
    return rng.choice(("Fuzz", "Фаззер", "", "x" * 100))


def field_value(rng: random.Random, spec: dict[str, Any]) -> Any:
    return plausible(rng, spec) if rng.random() < 0.6 else odd_value(rng)


def field_name(rng: random.Random, names: list[str]) -> str:
    if not names or rng.random() < 0.08:
        return odd_key(rng)
    name = rng.choice(names)
    return name.lower() if rng.random() < 0.1 else name


def fields_object(rng: random.Random, family: dict[str, dict[str, Any]]) -> dict[str, Any]:
    names = list(family)
    out: dict[str, Any] = {}
    for _ in range(rng.randint(0, 8)):
        name = field_name(rng, names)
        out[name] = field_value(rng, family.get(name, {}))
    return out


def filter_object(rng: random.Random, family: dict[str, dict[str, Any]]) -> dict[str, Any]:
    names = list(family)
    out: dict[str, Any] = {}
    for _ in range(rng.randint(0, 4)):
        prefix = rng.choice(("", "", *(p for p, _ in FILTER_PREFIXES)))
        name = field_name(rng, names)
        spec = family.get(name, {})
        roll = rng.random()
        if roll < 0.25:
            value: Any = [field_value(rng, spec) for _ in range(rng.randint(0, 6))]
        else:
            value = field_value(rng, spec)
        out[prefix + name] = value
    return out


def order_object(rng: random.Random, family: dict[str, dict[str, Any]]) -> dict[str, Any]:
    names = list(family)
    return {
        field_name(rng, names): rng.choice(("ASC", "DESC", "asc", "desc", " DESC ", *ODD_STRINGS[:6]))
        for _ in range(rng.randint(0, 4))
    }


def select_list(rng: random.Random, family: dict[str, dict[str, Any]]) -> Any:
    names = list(family)
    if rng.random() < 0.1:
        return odd_value(rng)
    return [rng.choice(("*", "UF_*", field_name(rng, names))) for _ in range(rng.randint(0, 6))]


def items_list(rng: random.Random, family: dict[str, dict[str, Any]]) -> Any:
    if rng.random() < 0.1:
        return odd_value(rng)
    items = [fields_object(rng, family) for _ in range(rng.randint(0, 6))]
    for item in items:
        if rng.random() < 0.8:
            item["CONTACT_ID"] = small_id(rng)  # the bound key of most families; others just ignore it
    if rng.random() < 0.2:
        return {str(i): item for i, item in enumerate(items)}
    return items


def batch_commands(rng: random.Random, cat: Catalogue, depth: int = 0) -> Any:
    """``cmd``: a map or a list of ``method?query`` strings, some using earlier results."""
    batchable = [n for n, m in cat.methods.items() if m.batch]
    commands: list[Any] = []
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.08:
            commands.append(odd_value(rng))
            continue
        name = rng.choice(batchable if roll < 0.95 else cat.names)
        params = method_params(rng, cat, name, depth + 1)
        if rng.random() < 0.2:
            params["id"] = rng.choice(("$result[0]", "$result[0][ID]", "$result[c0][0][ID]", "$next[x]"))
        commands.append(f"{name}?{urlencode(php_pairs(params), rng).decode()}")
    if rng.random() < 0.5:
        return commands
    return {f"c{i}": command for i, command in enumerate(commands)}


def param_value(rng: random.Random, cat: Catalogue, method: str, spec: Param[Any], depth: int) -> Any:
    family = cat.family(method)
    kind, name = spec.type, spec.name.lower()
    if rng.random() < 0.12:
        return odd_value(rng)
    if name == "cmd":
        return batch_commands(rng, cat, depth) if depth == 0 else odd_value(rng)
    if name in ("fields", "params") and kind == "object":
        return fields_object(rng, family)
    if name == "filter":
        return filter_object(rng, family)
    if name == "order":
        return order_object(rng, family)
    if kind == "object[]":
        return items_list(rng, family)
    if kind == "string[]":
        return select_list(rng, family)
    if kind == "integer":
        return rng.choice((small_id(rng), str(small_id(rng)), 0, 50, -1, odd_scalar(rng)))
    if kind == "boolean":
        return rng.choice((True, False, "Y", "N", 1, 0, "true", "0", odd_scalar(rng)))
    if kind == "string":
        return rng.choice((rng.choice(cat.names), rng.choice(cat.names).upper(), "crm", "", odd_scalar(rng)))
    return odd_value(rng)


def method_params(rng: random.Random, cat: Catalogue, method: str, depth: int = 0) -> dict[str, Any]:
    """Parameters for ``method``: its declared ones (each sometimes left out or renamed), and junk."""
    params: dict[str, Any] = {}
    for spec in cat.methods[method].params:
        if rng.random() < (0.95 if spec.required else 0.7):
            name = spec.name
            if rng.random() < 0.08:
                name = rng.choice((name.upper(), name.capitalize(), name + " ", name + "[]"))
            params[name] = param_value(rng, cat, method, spec, depth)
    for _ in range(rng.choice((0, 0, 0, 1, 3))):
        params[odd_key(rng) or "x"] = odd_value(rng)
    if rng.random() < 0.01:
        params["big"] = long_string(rng)
    return params
