"""Classifying an inbox's answer and reading Retry-After (federation.delivery_result).

Real POSTs to a peer, and the results the client builds from them, are tested in test_http.py.
"""

from __future__ import annotations

from datetime import datetime, timezone

from federation.delivery_result import DeliveryOutcome, classify_delivery, parse_retry_after


def test_parse_retry_after_forms() -> None:
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("0", now=now) == 0
    assert parse_retry_after(" 45 ", now=now) == 45
    assert parse_retry_after("Fri, 01 Mar 2024 12:10:00 GMT", now=now) == 600
    assert parse_retry_after("Fri, 01 Mar 2024 11:00:00 GMT", now=now) == 0  # in the past
    assert parse_retry_after("Sun, 01 Mar 2099 12:00:00 GMT", now=now) == 86400
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after(None) is None


def test_classify_delivery_unusual_statuses() -> None:
    assert classify_delivery("u", 429, retry_after=5).retry_after == 5
    assert classify_delivery("u", 301, location="https://x/").detail.startswith("HTTP 301 redirect to https://x/")
    assert classify_delivery("u", 499).outcome is DeliveryOutcome.PERMANENT
