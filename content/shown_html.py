"""The HTML of a post as pages and feeds show it, without sanitising it again on every view (issue #13).

Local posts hold what our Markdown renderer made and sanitised when they were written or edited
(inbox_outbox.services.posts). Remote posts were sanitised when they arrived and record the policy
version that did it; one with the current version is shown as stored, an older one is sanitised again
here until content.resanitise has rewritten it.
"""

from __future__ import annotations

from federation.html import stored_html
from storage.models import Object


def shown_html(row: Object) -> str:
    if row.local:
        return row.content or ""
    return stored_html(row.content or "", row.sanitised_version)
