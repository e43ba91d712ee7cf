"""Call parameters from the query string and the body (contract protocol.md R1, R2, R4).

Form-urlencoded bodies, query strings and multipart field names use PHP bracket syntax and are decoded
as PHP's ``parse_str`` does; JSON bodies are taken as they are. All decoders produce the same shape:
``dict[str, Any]`` whose nested PHP arrays become ``list`` when their keys are exactly ``0..n-1`` in
order and ``dict`` (with ``str`` keys) otherwise.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from python_multipart.multipart import MultipartParser, parse_options_header

from b24local.protocol.errors import ApiError, invalid_request

MAX_NESTING = 32
MAX_KEYS = 10_000

# A PHP array under construction: insertion-ordered keys, ``int`` for canonical decimal integers.
PhpArray = dict[int | str, Any]

_CANONICAL_INT = re.compile(r"-?[1-9][0-9]*|0")
_C_SPACE = " \t\n\v\f\r"  # C isspace(): PHP skips one of these before testing for "[]"


def _php_key(index: str) -> int | str:
    """PHP turns canonical decimal integer strings into integer keys ("7" → 7, "07" stays "07")."""
    if len(index) <= 20 and _CANONICAL_INT.fullmatch(index):  # 20: "-9223372036854775808"
        value = int(index)
        if -(2**63) <= value < 2**63:
            return value
    return index


def _next_index(array: PhpArray) -> int:
    """PHP ≥ 8.0: the largest integer key + 1, negative ones included; 0 without integer keys."""
    ints = [k for k in array if isinstance(k, int)]
    return max(ints) + 1 if ints else 0


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
            pos = close + 1
        if len(indices) > MAX_NESTING:
            raise invalid_request(f"Parameter '{base}' is nested deeper than {MAX_NESTING} levels")
    base = base.replace(".", "_").replace(" ", "_")
    if not base:
        return None
    return base, indices


def _assign(target: PhpArray, name: str, value: str) -> None:
    split = _split_name(name)
    if split is None:
        return
    base, indices = split
    key: int | str = _php_key(base)
    node = target
    for index in indices:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
        key = _next_index(node) if index is None else _php_key(index)
    node[key] = value


def _finish(value: Any) -> Any:
    """PHP arrays → ``list`` when keyed 0..n-1 in order, else ``dict`` with ``str`` keys."""
    if not isinstance(value, dict):
        return value
    keys = list(value)
    if keys and all(isinstance(k, int) for k in keys) and keys == list(range(len(keys))):
        return [_finish(v) for v in value.values()]
    return {str(k): _finish(v) for k, v in value.items()}


def _decode_text(raw: bytes) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_request("Request parameters are not valid UTF-8") from None


def _count(pairs: int) -> None:
    if pairs > MAX_KEYS:
        raise invalid_request(f"Too many parameters: more than {MAX_KEYS} keys")


def parse_str_into(target: PhpArray, data: bytes) -> None:
    """Add the pairs of a query string or form body to ``target`` (PHP ``parse_str``)."""
    if not data:
        return
    pairs = data.split(b"&")
    _count(len(pairs))
    for pair in pairs:
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        _assign(target, _decode_text(raw_name), _decode_text(raw_value))


def _finish_top(target: PhpArray) -> dict[str, Any]:
    """The top level always stays a map of parameter names."""
    return {str(k): _finish(v) for k, v in target.items()}


def parse_str(data: bytes) -> dict[str, Any]:
    target: PhpArray = {}
    parse_str_into(target, data)
    return _finish_top(target)


def _parse_multipart(body: bytes, boundary: bytes, target: PhpArray) -> None:
    parts: list[tuple[str | None, bool, bytearray]] = []
    header_field = bytearray()
    header_value = bytearray()
    state: dict[str, Any] = {}

    def on_part_begin() -> None:
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
    except UnicodeDecodeError:
        raise invalid_request("Request parameters are not valid UTF-8") from None
    except Exception as exc:  # the library's own parse errors
        raise invalid_request(f"Malformed multipart body: {exc}") from None
    _count(len(parts))
    for name, is_file, data in parts:
        if name is None or is_file:
            continue  # file uploads are not used by any method yet
        try:
            _assign(target, name, data.decode("utf-8"))
        except UnicodeDecodeError:
            raise invalid_request("Request parameters are not valid UTF-8") from None


#: The fewest bytes a key takes in a JSON body: its quotes, the colon and at least one byte of value
#: (``"":0`` four bytes; a comma or braces come on top).
MIN_KEY_BYTES = 4


def _count_json_keys(value: Any) -> None:
    """Iterative, so that a deeply nested body (orjson takes ~1000 levels) cannot exhaust the stack."""
    budget = MAX_KEYS
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            budget -= len(item)
            if budget < 0:
                raise invalid_request(f"Too many parameters: more than {MAX_KEYS} keys")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _parse_json(body: bytes) -> dict[str, Any]:
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
    if len(body) > MIN_KEY_BYTES * MAX_KEYS:  # a shorter body cannot hold too many keys
        _count_json_keys(value)
    return value


@lru_cache(maxsize=64)
def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def decode_params(query: bytes, content_type: str, body: bytes) -> dict[str, Any]:
    """All parameters of one call; body values override query values of the same name (R1)."""
    from_query: dict[str, Any] = {}
    if query:
        target: PhpArray = {}
        parse_str_into(target, query)
        from_query = _finish_top(target)
    if not body:
        return from_query
    kind = media_type(content_type)
    from_body: dict[str, Any]
    if kind == "application/json" or (kind in ("", "text/plain") and body.lstrip()[:1] == b"{"):
        from_body = _parse_json(body)
    elif kind == "multipart/form-data":
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise invalid_request("Multipart body without a boundary")
        body_target: PhpArray = {}
        _parse_multipart(body, boundary, body_target)
        from_body = _finish_top(body_target)
    elif kind in ("application/x-www-form-urlencoded", "", "text/plain"):
        body_target = {}
        parse_str_into(body_target, body)
        from_body = _finish_top(body_target)
    else:
        return from_query  # a body of another type carries no parameters, as on a portal
    if not from_query:
        return from_body
    from_query.update(from_body)
    return from_query


__all__ = ["ApiError", "decode_params", "media_type", "parse_str"]
