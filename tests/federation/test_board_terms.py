"""The board's terms on AS2 posts (federation.board_terms): rendered with their context, parsed back,
unknown values refused, and the readable status paragraph taken off again."""

from __future__ import annotations

import pytest

from federation.board_terms import (
    BOARD_CONTEXT,
    BoardTerms,
    InvalidBoardTerm,
    parse_terms,
    status_paragraph,
    with_terms,
    without_status_paragraph,
)
from federation.objects import InvalidObject, parse_object

AS2 = "https://www.w3.org/ns/activitystreams"


def test_terms_round_trip_with_their_context() -> None:
    terms = BoardTerms(kind="question", status="solved", accepted_answer="https://a.example/objects/2")
    doc = with_terms({"@context": [AS2], "id": "https://a.example/objects/1", "type": "Page"}, terms)
    assert doc["@context"] == [AS2, BOARD_CONTEXT]
    assert doc["threadKind"] == "question" and doc["acceptedAnswer"] == "https://a.example/objects/2"
    assert parse_terms(doc) == terms
    cleared = with_terms(doc, BoardTerms())
    assert "threadKind" not in cleared and "acceptedAnswer" not in cleared


@pytest.mark.parametrize("doc", [{"threadKind": "wish"}, {"threadStatus": "shipped"}, {"threadKind": 3}])
def test_unknown_values_are_refused(doc: dict) -> None:
    with pytest.raises(InvalidBoardTerm):
        parse_terms(doc)


def test_a_post_with_an_unknown_kind_is_invalid_and_the_status_line_comes_off() -> None:
    base = {"id": "https://a.example/objects/1", "type": "Page", "attributedTo": "https://a.example/users/e",
            "name": "Dark mode", "content": status_paragraph("Status: Planned") + "<p>Please</p>"}
    with pytest.raises(InvalidObject, match="unknown threadKind"):
        parse_object({**base, "threadKind": "wish"})
    parsed = parse_object({**base, "threadKind": "idea", "threadStatus": "planned"})
    assert parsed.content == "<p>Please</p>" and parsed.board.status == "planned"
    assert parse_object(base).content.startswith("<p>Status: Planned</p>")  # no terms: the text as sent
    assert without_status_paragraph("<p>Status: <b>x</b></p>") == "<p>Status: <b>x</b></p>"
