"""The one "drop this activity" error, in a module of its own: code that the handlers use (dereference,
backfill) raises it without importing the handlers package, whose import fills the dispatch table."""

from __future__ import annotations


class Drop(Exception):
    """The activity is not acceptable (unauthorised, contradictory, about nothing we know): log, don't retry."""
