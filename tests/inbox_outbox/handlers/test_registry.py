"""The dispatch table (inbox_outbox/handlers/registry.py): every type reaches its handler, and the handlers'
modules are imported on the first activity of their type, not when the server starts (issue #13)."""

from __future__ import annotations

import inspect

from inbox_outbox.handlers import dispatch
from inbox_outbox.handlers.registry import TYPES, UNDONE_TYPES, handler_for, undo_handler_for
from tests.support.server_imports import server_modules

# What peers send us and we act on (PROTOCOL.md); a type missing here would be ignored silently.
HANDLED = {"Accept", "Reject", "Follow", "Undo", "Announce", "Create", "Delete", "Update", "Like", "Dislike", "Add",
           "Remove", "Block", "Flag", "Lock", "Offer", "Invite", "Resolve", "EmojiReact"}
UNDONE = {"Follow", "Block", "Lock", "Like", "Dislike", "Announce", "EmojiReact"}


def test_every_handled_type_reaches_a_handler() -> None:
    assert TYPES == HANDLED and UNDONE_TYPES == UNDONE
    for kind in HANDLED:
        handler = dispatch(kind)
        assert handler is handler_for(kind) and inspect.iscoroutinefunction(handler), kind
        assert handler.__module__.startswith("inbox_outbox.handlers."), kind
    for kind in UNDONE:
        assert inspect.iscoroutinefunction(undo_handler_for(kind)), kind


def test_unhandled_types_have_no_handler() -> None:
    for kind in ("Move", "Question", "", "__class__", "Undo "):
        assert dispatch(kind) is None
        assert undo_handler_for(kind) is None


def test_the_server_imports_no_handler_module_before_an_activity_arrives() -> None:
    assert server_modules("inbox_outbox.handlers.") == ["inbox_outbox.handlers.registry"]
