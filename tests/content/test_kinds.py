"""Kinds of thread and statuses (content.kinds): what forms, JSON and peers may say."""

from __future__ import annotations

import pytest

from actors.errors import InvalidInput
from content.kinds import check_kind, check_status, first_status, status_line, stored_kind


def test_kinds() -> None:
    assert check_kind(" Idea ") == "idea" and stored_kind("discussion") is None and stored_kind("idea") == "idea"
    with pytest.raises(InvalidInput, match="unknown kind"):
        check_kind("wish")
    assert (first_status("idea"), first_status("question"), first_status(None)) == ("open", "unsolved", None)


def test_statuses() -> None:
    assert check_status("In progress", "concern") == "in_progress"
    assert check_status("under-review", "idea") == "under_review"
    for status, kind in (("shipped", "idea"), ("solved", "idea"), ("planned", "question"), ("planned", None)):
        with pytest.raises(InvalidInput):
            check_status(status, kind)
    assert status_line("planned") == "Status: Planned" and status_line(None) == ""
