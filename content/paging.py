"""Numbered pages: which page links a list shows (the board, a group's threads, its members)."""

from __future__ import annotations


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
