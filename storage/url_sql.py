"""URL parts computed by the database, for statements that write rows derived from stored URLs without
reading them into Python first (issue #13: a group's fan-out inserts its delivery rows with one
``INSERT … SELECT`` instead of reading every member's inbox and sending it back)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_URL_HOST = "madeopen_url_host"


def host_of(url: str) -> str:
    """The host (``netloc``, lower-cased) a delivery to ``url`` is counted against."""
    return urlsplit(url).netloc.lower()


def sqlite_functions(dbapi_connection: Any) -> None:
    """Registers :func:`host_of` with a SQLite connection (storage.engine.sqlite_pragmas): the very same
    function, so rows the database writes name the same hosts as rows written from Python. (An SQL
    expression of ``instr``/``substr`` doing the same cost ~30 µs per row in bench/inbox.py.)"""
    dbapi_connection.create_function(SQLITE_URL_HOST, 1, host_of, deterministic=True)


class url_host(FunctionElement[str]):
    """``host_of(url)`` in SQL. PostgreSQL: what follows ``scheme://`` up to the first ``/``, ``?`` or
    ``#``, lower-cased, '' when there is no ``scheme://`` (``urlsplit``'s netloc of an absolute URL)."""

    type = String()
    inherit_cache = True


@compiles(url_host)
def _url_host_postgresql(element: url_host, compiler: Any, **kw: Any) -> str:
    (url,) = list(element.clauses)
    return f"coalesce(lower(substring({compiler.process(url, **kw)} from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)')), '')"


@compiles(url_host, "sqlite")
def _url_host_sqlite(element: url_host, compiler: Any, **kw: Any) -> str:
    (url,) = list(element.clauses)
    return f"{SQLITE_URL_HOST}({compiler.process(url, **kw)})"
