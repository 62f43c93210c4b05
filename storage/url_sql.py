"""URL parts computed by the database, for statements that write rows derived from stored URLs without
reading them into Python first (issue #13: a group's fan-out inserts its delivery rows with one
``INSERT … SELECT`` instead of reading every member's inbox and sending it back)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, case, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class _position(FunctionElement[int]):
    """1-based position of the first ``needle`` in ``haystack``, 0 when absent (SQL's ``POSITION``)."""

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _position_default(element: _position, compiler: Any, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"strpos({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)})"


@compiles(_position, "sqlite")
def _position_sqlite(element: _position, compiler: Any, **kw: Any) -> str:
    haystack, needle = list(element.clauses)
    return f"instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)})"


def _before(text: ColumnElement[str], mark: str) -> ColumnElement[str]:
    """``text`` up to (not including) the first ``mark``, all of it when there is none."""
    quoted = literal_column(f"'{mark}'")
    return func.substr(text, 1, _position(text.concat(quoted), quoted) - 1, type_=String)


def url_host(url: ColumnElement[str]) -> ColumnElement[str]:
    """``urlsplit(url).netloc.lower()`` (what ``inbox_outbox.addressing.host_of`` says) for an absolute
    URL: what follows ``://`` up to the first ``/``, ``?`` or ``#``, lower-cased ('' without ``://``).
    Hosts are ASCII (IDNA) in stored inbox URLs, so SQLite's ASCII-only ``lower`` gives the same."""
    scheme_end = _position(url, literal_column("'://'"))
    rest = func.substr(url, scheme_end + 3, type_=String)
    return case((scheme_end == 0, literal_column("''")), else_=func.lower(_before(_before(_before(rest, "/"), "?"), "#")))
