"""The one line that stands for all skipped tests at the end of a run (tests.support.summary)."""

from __future__ import annotations

import pytest

from tests.support.summary import skipped_line

NO_POSTGRES = "PostgreSQL not configured: set MADEOPEN_TEST_DATABASE_URL (CI does)"


def _report(outcome: str, reason: str | None = None) -> pytest.TestReport:
    longrepr = ("tests/x.py", 1, f"Skipped: {reason}") if reason is not None else None
    return pytest.TestReport("tests/x.py::t", ("tests/x.py", 1, "t"), {}, outcome, longrepr, "setup")


def test_skips_are_counted_and_grouped_by_reason_most_frequent_first() -> None:
    reports = [_report("skipped", NO_POSTGRES)] * 3 + [_report("skipped", "Chromium is missing")]

    assert skipped_line(reports) == f"4 skipped: {NO_POSTGRES} (3); Chromium is missing (1)"


def test_no_line_without_skips() -> None:
    assert skipped_line([]) is None
    assert skipped_line([_report("passed")]) is None
