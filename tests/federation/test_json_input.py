"""The one bounded parser for JSON from outside (federation.json_input): what it takes and what it refuses,
without a RecursionError however deep the nesting."""

from __future__ import annotations

import pytest

from federation.json_input import MAX_JSON_DEPTH, JSONRejected, parse_json_object

DEEP_ARRAYS = b"[" * 20_000 + b"]" * 20_000
DEEP_OBJECTS = b'{"a":' * 20_000 + b"1" + b"}" * 20_000


def nested(levels: int) -> bytes:
    """An object whose innermost value sits ``levels`` objects/arrays deep."""
    return b'{"a":' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


def test_an_activity_is_parsed() -> None:
    body = '{"type": "Create", "actor": "https://a.example/u/x", "object": {"tag": [{"name": "#x"}]}}'
    assert parse_json_object(body.encode())["object"]["tag"][0]["name"] == "#x"
    assert parse_json_object("\ufeff" + body)["type"] == "Create"  # a BOM is tolerated (RFC 8259 §8.1)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    value = parse_json_object(nested(MAX_JSON_DEPTH))["a"]
    for _ in range(MAX_JSON_DEPTH - 2):
        [value] = value
    assert value == []


@pytest.mark.parametrize(
    "body",
    [nested(MAX_JSON_DEPTH + 1), DEEP_ARRAYS, DEEP_OBJECTS, b'{"a": ' + DEEP_ARRAYS + b"}", b"[" * 20_000],
    ids=["one-too-deep", "20000-arrays", "20000-objects", "deep-inside-an-object", "unterminated"],
)
def test_too_deep_is_refused_without_recursion_error(body: bytes) -> None:
    with pytest.raises(JSONRejected, match="nested deeper than 32 levels"):
        parse_json_object(body)


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        (b'{"type": ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"x": NaN}', "not valid JSON"),
        (b"[]", "expected a JSON object, got an array"),
        (b'"text"', "expected a JSON object, got a string"),
        (b"null", "expected a JSON object, got null"),
    ],
)
def test_malformed_json_is_refused_with_a_reason(body: bytes, wording: str) -> None:
    with pytest.raises(JSONRejected) as refused:
        parse_json_object(body)
    assert wording in refused.value.reason and "\n" not in refused.value.reason
