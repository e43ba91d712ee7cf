"""Call parameters from the query string and the body (contract protocol.md R1, R2, R4).

Form-urlencoded bodies, query strings and multipart field names use PHP bracket syntax and are decoded
as PHP's ``parse_str`` does; JSON bodies are taken as they are. All decoders produce the same shape:
``dict[str, Any]`` whose nested PHP arrays become ``list`` when their keys are exactly ``0..n-1`` in
order and ``dict`` (with ``str`` keys) otherwise.
"""

from __future__ import annotations

import binascii
import re
from functools import lru_cache
from typing import Any

import orjson
from python_multipart.multipart import MultipartParser, parse_options_header

from b24local.protocol.budget import MAX_NESTING, ParamBudget, too_deep
from b24local.protocol.errors import ApiError, invalid_request


class PhpArray(dict[int | str, Any]):
    """A PHP array under construction: insertion-ordered keys, ``int`` for canonical decimal integers.

    ``next_index`` is where ``[]`` appends, kept up to date on every integer key as PHP keeps
    ``nNextFreeElement``, so that an append costs O(1) and not a scan of the keys.
    """

    __slots__ = ("next_index",)

    def __init__(self) -> None:
        super().__init__()
        self.next_index: int | None = None  # None: no integer key yet, "[]" appends at 0


_CANONICAL_INT = re.compile(r"-?[1-9][0-9]*|0")
_C_SPACE = " \t\n\v\f\r"  # C isspace(): PHP skips one of these before testing for "[]"


def _php_key(index: str) -> int | str:
    """PHP turns canonical decimal integer strings into integer keys ("7" → 7, "07" stays "07")."""
    if len(index) <= 20 and _CANONICAL_INT.fullmatch(index):  # 20: "-9223372036854775808"
        value = int(index)
        if -(2**63) <= value < 2**63:
            return value
    return index


def _put(array: PhpArray, key: int | str, value: Any) -> None:
    """PHP ≥ 8.0: "[]" appends at the largest integer key + 1, negative ones included."""
    array[key] = value
    if isinstance(key, int) and (array.next_index is None or key >= array.next_index):
        array.next_index = key + 1


def _append_index(array: PhpArray) -> int:
    return 0 if array.next_index is None else array.next_index


def _split_name(name: str) -> tuple[str, list[str | None]] | None:
    """``a[b][]`` → ``("a", ["b", None])``; None where PHP would drop the variable."""
    name = name.split("\x00", 1)[0].lstrip(" ")  # PHP reads the name as a C string
    bracket = name.find("[")
    base = name if bracket < 0 else name[:bracket]
    indices: list[str | None] = []
    if bracket >= 0:
        rest = name[bracket:]
        pos = 0
        while pos < len(rest) and rest[pos] == "[":
            close = rest.find("]", pos + 1)
            if close < 0:
                if pos == 0:
                    # An unmatched first "[" is kept in the name as "_" (PHP mangling).
                    base = base + "_" + rest[1:].replace("[", "_")
                break
            inner = rest[pos + 1 : close]
            # "[]" and "[ ]" (one whitespace character) append; any other index is kept verbatim.
            indices.append(None if inner == "" or (len(inner) == 1 and inner in _C_SPACE) else inner)
            if len(indices) > MAX_NESTING:  # at once, not after collecting every index of a long name
                raise too_deep(base)
            pos = close + 1
    base = base.replace(".", "_").replace(" ", "_")
    if not base:
        return None
    return base, indices


def _assign(target: PhpArray, name: str, value: str, budget: ParamBudget) -> None:
    split = _split_name(name)
    if split is None:
        return
    base, indices = split
    key: int | str = _php_key(base)
    node = target
    for index in indices:
        child = node.get(key)
        if not isinstance(child, PhpArray):
            budget.spend(1)  # a new array is a key, as a JSON object or list is
            child = PhpArray()
            _put(node, key, child)
        node = child
        key = _append_index(node) if index is None else _php_key(index)
    _put(node, key, value)


def _finish(value: Any) -> Any:
    """PHP arrays → ``list`` when keyed 0..n-1 in order, else ``dict`` with ``str`` keys."""
    if not isinstance(value, dict):
        return value
    keys = list(value)
    if keys and all(isinstance(k, int) for k in keys) and keys == list(range(len(keys))):
        return [_finish(v) for v in value.values()]
    return {str(k): _finish(v) for k, v in value.items()}


#: A ``%`` not followed by two hex digits, which PHP keeps as it is.
_MALFORMED_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
#: Malformed escapes in one name or value: each costs a regex step, so their number is bounded.
MAX_MALFORMED_ESCAPES = 10_000
#: Bytes as classes, to count escapes in C: a hex digit is "h", "%" stays, anything else is "o".
_ESCAPE_CLASSES = bytes(
    ord("h") if chr(c) in "0123456789abcdefABCDEF" else c if c == ord("%") else ord("o") for c in range(256)
)


def _unquote(raw: bytes) -> bytes:
    """Percent-decoding as PHP's ``urldecode`` (after ``+``), in C: ``binascii.a2b_qp`` decodes
    ``=XX``, so ``%`` becomes ``=`` and a literal ``=`` becomes ``=3D``. ``urllib``'s decoder costs a
    Python step per escape, too slow for megabytes of them."""
    if b"%" not in raw:
        return raw
    classes = raw.translate(_ESCAPE_CLASSES)
    malformed = classes.count(b"%") - classes.count(b"%hh")
    if malformed > MAX_MALFORMED_ESCAPES:
        raise invalid_request(f"Too many malformed percent escapes: more than {MAX_MALFORMED_ESCAPES}")
    if malformed:  # as "=" they would not stay literal (a2b_qp drops "=" at the end, "=\n" and more)
        raw = _MALFORMED_ESCAPE.sub(b"%25", raw)
    return binascii.a2b_qp(raw.replace(b"=", b"=3D").replace(b"%", b"="))


def _decode_text(raw: bytes) -> str:
    try:
        return _unquote(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_request("Request parameters are not valid UTF-8") from None


def parse_str_into(target: PhpArray, data: bytes, budget: ParamBudget) -> None:
    """Add the pairs of a query string or form body to ``target`` (PHP ``parse_str``)."""
    if not data:
        return
    budget.spend(data.count(b"&") + 1)  # before splitting: a refused body is never cut into pieces
    for pair in data.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        _assign(target, _decode_text(raw_name), _decode_text(raw_value), budget)


def _finish_top(target: PhpArray) -> dict[str, Any]:
    """The top level always stays a map of parameter names."""
    return {str(k): _finish(v) for k, v in target.items()}


def parse_str(data: bytes, budget: ParamBudget | None = None) -> dict[str, Any]:
    target = PhpArray()
    parse_str_into(target, data, ParamBudget() if budget is None else budget)
    return _finish_top(target)


def _parse_multipart(body: bytes, boundary: bytes, target: PhpArray, budget: ParamBudget) -> None:
    parts: list[tuple[str | None, bool, bytearray]] = []
    header_field = bytearray()
    header_value = bytearray()
    state: dict[str, Any] = {}

    def on_part_begin() -> None:
        budget.spend(1)  # refuses as soon as the part past the budget begins
        state["name"], state["is_file"] = None, False
        parts.append((None, False, bytearray()))

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        if bytes(header_field).lower() == b"content-disposition":
            _, options = parse_options_header(bytes(header_value))
            raw_name = options.get(b"name")
            state["name"] = None if raw_name is None else raw_name.decode("utf-8", "strict")
            state["is_file"] = b"filename" in options
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        parts[-1] = (state["name"], state["is_file"], parts[-1][2])

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][2].extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except ApiError:
        raise
    except UnicodeDecodeError:
        raise invalid_request("Request parameters are not valid UTF-8") from None
    except Exception as exc:  # the library's own parse errors
        raise invalid_request(f"Malformed multipart body: {exc}") from None
    for name, is_file, data in parts:
        if name is None or is_file:
            continue  # file uploads are not used by any method yet
        try:
            _assign(target, name, data.decode("utf-8"), budget)
        except UnicodeDecodeError:
            raise invalid_request("Request parameters are not valid UTF-8") from None


#: A tuple, not ``dict | list``: isinstance with a union is several times slower (once per value here).
_CONTAINERS = (dict, list)


def _check_json(value: dict[str, Any], brackets: int, budget: ParamBudget) -> None:
    """Spend a key for every object key and list element; refuse containers nested too deep.

    Iterative, so that a deeply nested body (orjson takes ~1000 levels) cannot exhaust the stack, and
    each container is counted before its elements are looked at, so that a body past the budget is
    refused before it is walked whole. The keys are spent in one call at the end (a call per
    container cost more than the walk of an items.set's five bindings).
    """
    keys = len(value)
    if brackets > 1:  # else only the top object: nothing nested to walk
        left = budget.left
        stack = [(child, 1, name) for name, child in value.items() if isinstance(child, _CONTAINERS)]
        while stack and keys <= left:
            item, depth, name = stack.pop()
            keys += len(item)
            if keys > left:
                break  # refused below, unwalked
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, _CONTAINERS):
                    if depth >= MAX_NESTING:
                        raise too_deep(name)
                    stack.append((child, depth + 1, name))
    budget.spend(keys)


def _afford_containers(body: bytes, brackets: int, budget: ParamBudget) -> None:
    """Refuse, before parsing, a body with more nested objects and lists than keys left: each costs a
    key (an element or a value), and building millions of them is most of what parsing costs.

    Brackets inside strings do not count. Only a body with more brackets than keys left is looked at
    closer, and one with more strings than keys could hold (at most two per key) is refused unread."""
    if brackets - 1 <= budget.left:
        return
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    if unescaped.count(b'"') // 2 > 2 * budget.left:
        budget.spend(budget.left + 1)
    outside = b"".join(unescaped.split(b'"')[::2])
    nested = outside.count(b"[") + outside.count(b"{") - 1
    if nested > budget.left:
        budget.spend(nested)


def _parse_json(body: bytes, budget: ParamBudget) -> dict[str, Any]:
    brackets = body.count(b"[") + body.count(b"{")  # objects and lists, strings' brackets included
    _afford_containers(body, brackets, budget)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if not body.strip():
            return {}
        raise invalid_request(f"Request body is not valid JSON: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_request("Request body must be a JSON object")
    _check_json(value, brackets, budget)
    return value


@lru_cache(maxsize=64)
def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_params(
    query: bytes, content_type: str, body: bytes, budget: ParamBudget | None = None
) -> dict[str, Any]:
    """All parameters of one call; body values override query values of the same name (R1).

    ``budget`` is the request's: query and body spend from it, and ``batch`` goes on spending it.
    """
    if budget is None:
        budget = ParamBudget()
    from_query: dict[str, Any] = {}
    if query:
        target = PhpArray()
        parse_str_into(target, query, budget)
        from_query = _finish_top(target)
    if not body:
        return from_query
    kind = media_type(content_type)
    from_body: dict[str, Any]
    if kind == "application/json" or (kind in ("", "text/plain") and body.lstrip()[:1] == b"{"):
        from_body = _parse_json(body, budget)
    elif kind == "multipart/form-data":
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise invalid_request("Multipart body without a boundary")
        body_target = PhpArray()
        _parse_multipart(body, boundary, body_target, budget)
        from_body = _finish_top(body_target)
    elif kind in ("application/x-www-form-urlencoded", "", "text/plain"):
        body_target = PhpArray()
        parse_str_into(body_target, body, budget)
        from_body = _finish_top(body_target)
    else:
        return from_query  # a body of another type carries no parameters, as on a portal
    if not from_query:
        return from_body
    from_query.update(from_body)
    return from_query


__all__ = ["ApiError", "ParamBudget", "decode_params", "media_type", "parse_str"]
