"""The one way JSON from outside is parsed: bounded nesting, strict syntax, a typed error, never a 500.

Every JSON body that comes from another party goes through :func:`parse_json_object`: inbox payloads
(before their signature is checked, so anyone can send one), the JSON API's request bodies, and every
document the federation client fetches (actors, keys, objects, WebFinger, NodeInfo). PROTOCOL.md
"Validation": JSON depth is bounded and too deep is a 400 wherever JSON comes from outside.

Why a bound at all: CPython's ``json`` decoder recurses once per nesting level, so ``[[[[...`` 20,000
deep (40 KB, well under any size cap) raises ``RecursionError`` -- not a ``ValueError`` -- and code that
then walks the value recursively would fail the same way. Real ActivityPub documents nest a handful
of levels (an ``Announce{Create{Note{tag[{...}]}}}`` is five); 32 leaves room for any of them.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 32


class JSONRejected(ValueError):
    """The body is not acceptable JSON; ``reason`` is one line for the 400 answer or the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON (RFC 8259 §6); peers never mean them.
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every parse: json.loads with an argument builds a new decoder (and its scanner) per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _type_name(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def nesting_exceeds(value: object, limit: int) -> bool:
    """True if ``value`` nests objects/arrays more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def parse_json_object(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """``body`` as a JSON object nested at most ``max_depth`` levels, or raise :class:`JSONRejected`.

    Bytes must be UTF-8 (RFC 8259 §8.1; a leading BOM is tolerated)."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRejected("not valid JSON: the body is not UTF-8") from None
    too_deep = f"JSON is nested deeper than {max_depth} levels"
    try:
        value = _DECODER.decode(body.removeprefix("\ufeff"))
    except RecursionError:  # the decoder's own recursion gave up first: deeper than any bound of ours
        raise JSONRejected(too_deep) from None
    except ValueError as exc:
        raise JSONRejected(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise JSONRejected(f"expected a JSON object, got {_type_name(value)}")
    if nesting_exceeds(value, max_depth):
        raise JSONRejected(too_deep)
    return value
