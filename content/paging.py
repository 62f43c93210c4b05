"""Paging: which numbered page links a list shows (the board, a group's threads, its members), and the
cursor of the lists paged by "older" links (timelines, notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from actors.errors import InvalidInput


def parse_cursor(raw: str | None, name: str = "before") -> int | None:
    """``before=<id>`` of an "older" link (or another id named ``name``); anything else is a clear 400."""
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise InvalidInput(f"{name} must be a positive whole number, got {raw[:20]!r}")
    return int(raw)


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The first, the last, and two either side of ``page`` (None: a gap, shown as "…")."""
    shown: list[int | None] = []
    for number in range(1, pages + 1):
        if number in (1, pages) or abs(number - page) <= 2:
            shown.append(number)
        elif shown and shown[-1] is not None:
            shown.append(None)
    return shown


def older_than(at: Any, row_id: Any, cursor_at: datetime, cursor_id: int) -> ColumnElement[bool]:
    """Rows after the cursor's in a newest-first list ordered by ``at`` then ``row_id`` (keyset paging:
    rows that arrive meanwhile neither shift nor repeat what the next page shows)."""
    return or_(at < cursor_at, and_(at == cursor_at, row_id < cursor_id))
