"""One module per activity type; importing them fills the dispatch table in ``registry``."""

from inbox_outbox.handlers.registry import HANDLERS, UNDO_HANDLERS, Drop, Handler, Incoming
from inbox_outbox.handlers import announce, create, delete, reaction, update  # noqa: F401,E402  content
from inbox_outbox.handlers import follow  # noqa: F401,E402  membership
from inbox_outbox.handlers import accept_reject  # noqa: F401,E402  membership
from inbox_outbox.handlers import undo  # noqa: F401,E402  membership
from inbox_outbox.handlers import block  # noqa: F401,E402  moderation
from inbox_outbox.handlers import flag  # noqa: F401,E402  moderation
from inbox_outbox.handlers import add_remove  # noqa: F401,E402  moderation
from inbox_outbox.handlers import lock  # noqa: F401,E402  moderation
from inbox_outbox.handlers import offer  # noqa: F401,E402  docs (proposed edits)
from inbox_outbox.handlers import projects  # noqa: F401,E402  projects and tasks
from inbox_outbox.handlers import recognition  # noqa: F401,E402  kudos and awards (issue #17)

__all__ = ["HANDLERS", "UNDO_HANDLERS", "Drop", "Handler", "Incoming", "dispatch"]


def dispatch(kind: str) -> Handler | None:
    return HANDLERS.get(kind)
