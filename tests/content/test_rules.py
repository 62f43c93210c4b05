"""The one check of a post's title and body, shared by the thread forms and the posting services."""

from __future__ import annotations

import pytest

from actors.node_settings import InvalidFields
from content.rules import MAX_BODY, MAX_TITLE, check_post_text


def test_title_is_one_line_as_typed_and_body_is_trimmed() -> None:
    assert check_post_text("  a <b>\n  title ", "\n body \n", title_required=True) == ("a <b> title", "body")


def test_a_thread_may_have_a_title_and_no_body() -> None:
    assert check_post_text("Only a title", "", title_required=True) == ("Only a title", "")


@pytest.mark.parametrize(
    ("title", "body", "required", "errors"),
    [
        ("", "text", True, {"title"}),
        ("t" * (MAX_TITLE + 1), "text", True, {"title"}),
        ("", "", False, {"body"}),
        ("", "b" * (MAX_BODY + 1), False, {"body"}),
        ("", "b" * (MAX_BODY + 1), True, {"title", "body"}),
    ],
)
def test_every_bad_field_is_named(title: str, body: str, required: bool, errors: set[str]) -> None:
    with pytest.raises(InvalidFields) as caught:
        check_post_text(title, body, title_required=required)
    assert set(caught.value.errors) == errors
