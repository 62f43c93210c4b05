"""What becomes of a deleted account's posts (``MADEOPEN_DELETED_ACCOUNT_CONTENT``; the policy itself is
described and applied in inbox_outbox.services.account_deletion).

On its own so that the web context and the composition root can name the setting without importing the
deletion service and everything it needs (an idle ``madeopen run`` never deletes an account; issue #13).
"""

from __future__ import annotations

import enum


class DeletedContent(enum.Enum):
    REMOVE = "remove"
    ANONYMISE = "anonymise"
