"""The one dispatch table: activity type -> handler (and, for Undo, the undone type -> handler),
with the handlers' modules imported on first use."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from inbox_outbox.drop import Drop
from inbox_outbox.federation import Federation
from storage.models import RemoteActor

__all__ = ["Drop", "Handler", "Incoming", "TYPES", "UNDONE_TYPES", "handler_for", "undo_handler_for"]


@dataclass(frozen=True)
class Incoming:
    """A verified activity with its actor resolved, ready for a handler."""

    activity: dict[str, Any]
    type: str
    actor: RemoteActor
    recipient: str | None  # the inbox it came to (actor id), None for the shared inbox
    inbound_id: int

    @property
    def id(self) -> str | None:
        value = self.activity.get("id")
        return value if isinstance(value, str) else None


Handler = Callable[[Federation, Incoming], Awaitable[None]]

# Activity type -> (module of inbox_outbox.handlers, its function). A module is imported when the first
# activity of one of its types arrives, not at start-up: an idle node keeps none of them in memory (issue #13,
# bench/README.md; all of them with what they import were ~2-4 MB of resident memory).
_HANDLERS: dict[str, tuple[str, str]] = {
    "Accept": ("accept_reject", "on_answer"), "Reject": ("accept_reject", "on_answer"),  # membership
    "Follow": ("follow", "on_follow"), "Undo": ("undo", "on_undo"),
    "Announce": ("announce", "on_announce"), "Create": ("create", "on_create"),  # content
    "Delete": ("delete", "on_delete"), "Update": ("update", "on_update"),
    "Like": ("reaction", "on_reaction"), "Dislike": ("reaction", "on_reaction"),
    "Add": ("add_remove", "on_add_remove"), "Remove": ("add_remove", "on_add_remove"),  # moderation
    "Block": ("block", "on_block"), "Flag": ("flag", "on_flag"), "Lock": ("lock", "on_lock"),
    "Offer": ("offer", "on_offer"),  # docs (proposed edits)
    "Invite": ("projects", "on_invite"), "Resolve": ("projects", "on_resolve"),  # projects and tasks
    "EmojiReact": ("recognition", "on_emoji_reaction"),  # kudos and awards (issue #17)
}
# The undone activity's type -> the handler of ``Undo{<type>}`` (inbox_outbox.handlers.undo resolves the
# inner activity first and passes the Undo with it).
_UNDO_HANDLERS: dict[str, tuple[str, str]] = {
    "Follow": ("undo", "undo_follow"), "Block": ("undo", "undo_block"), "Lock": ("lock", "undo_lock"),
    "Like": ("reaction", "on_undo_reaction"), "Dislike": ("reaction", "on_undo_reaction"),
    "Announce": ("reaction", "on_undo_reaction"), "EmojiReact": ("recognition", "on_undo_emoji_reaction"),
}
TYPES = frozenset(_HANDLERS)
UNDONE_TYPES = frozenset(_UNDO_HANDLERS)


def handler_for(kind: str) -> Handler | None:
    """The handler of an activity of type ``kind``; None for a type we do not handle."""
    where = _HANDLERS.get(kind)
    return None if where is None else _load(*where)


def undo_handler_for(kind: str) -> Handler | None:
    """The handler of ``Undo`` of an activity of type ``kind``; None when undoing it is not handled."""
    where = _UNDO_HANDLERS.get(kind)
    return None if where is None else _load(*where)


@functools.cache
def _load(module: str, function: str) -> Handler:
    handler: Handler = getattr(importlib.import_module(f"inbox_outbox.handlers.{module}"), function)
    return handler
