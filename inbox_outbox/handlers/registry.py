"""The one dispatch table: activity type -> handler (and, for Undo, the undone type -> handler)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from inbox_outbox.drop import Drop
from inbox_outbox.federation import Federation
from storage.models import RemoteActor

__all__ = ["Drop", "HANDLERS", "UNDO_HANDLERS", "Handler", "Incoming", "handles", "undoes"]


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
HANDLERS: dict[str, Handler] = {}
UNDO_HANDLERS: dict[str, Handler] = {}


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for kind in types:
            assert kind not in HANDLERS, f"two handlers for {kind}"
            HANDLERS[kind] = handler
        return handler

    return register


def undoes(*types: str) -> Callable[[Handler], Handler]:
    """Register the handler of ``Undo{<type>}``; it receives the Undo with the inner activity resolved."""

    def register(handler: Handler) -> Handler:
        for kind in types:
            assert kind not in UNDO_HANDLERS, f"two undo handlers for {kind}"
            UNDO_HANDLERS[kind] = handler
        return handler

    return register
