"""The end of a test run's report: one line for all skipped tests, grouped by reason.

pyproject.toml asks for per-test summary lines only for failures and errors (``-rfE``); a run without
PostgreSQL skips ~430 tests, and a line each would bury the result.
"""

from __future__ import annotations

from collections import Counter

import pytest


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


def skipped_line(reports: list[pytest.TestReport]) -> str | None:
    """``"430 skipped: PostgreSQL not configured: ... (425); Debian's Chromium is missing: ... (5)"``,
    or None when nothing was skipped."""
    reasons = Counter(skip_reason(report) for report in reports if report.skipped)
    if not reasons:
        return None
    total = sum(reasons.values())
    grouped = "; ".join(f"{reason} ({count})" for reason, count in reasons.most_common())
    return f"{total} skipped: {grouped}"
