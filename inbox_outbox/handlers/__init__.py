"""One module per activity type, imported on first use through the dispatch table in ``registry``."""

from inbox_outbox.handlers.registry import Drop, Handler, Incoming, handler_for

__all__ = ["Drop", "Handler", "Incoming", "dispatch"]


def dispatch(kind: str) -> Handler | None:
    return handler_for(kind)
