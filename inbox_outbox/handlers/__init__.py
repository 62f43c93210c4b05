"""One module per activity type; importing them fills the dispatch table in ``registry``."""

from inbox_outbox.handlers.registry import HANDLERS, UNDO_HANDLERS, Drop, Handler, Incoming

__all__ = ["HANDLERS", "UNDO_HANDLERS", "Drop", "Handler", "Incoming", "dispatch"]


def dispatch(kind: str) -> Handler | None:
    return HANDLERS.get(kind)
