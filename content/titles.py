"""What a post is called where lists and pages name it (issue #10, item 5).

A thread started from Mastodon, GoToSocial, Akkoma or Misskey by mentioning a group is a ``Note``
without a ``name``. Lemmy and PieFed title such posts from their text; so do we, when shown: the first
line or sentence of the text, markup and leading mentions removed, cut at a word with an ellipsis
(federation.html.text_title, which notifications and search in the layers below use directly). The
stored ``name`` stays as the author sent it, so an edit of the text re-titles the thread too.
"""

from __future__ import annotations

from federation.html import TITLE_CHARS, text_title
from storage.models import Object

FALLBACK = "(untitled)"  # a post without name or text: only media, say


def display_title(name: str | None, content_html: str | None, limit: int = TITLE_CHARS) -> str:
    return name or text_title(content_html or "", limit) or FALLBACK


def title_of(obj: Object) -> str:
    """The title of ``obj`` as thread lists, thread pages and timelines show it; '' once deleted.

    Only a group thread's first post needs one; replies and profile posts keep their own ``name``
    (usually none), so their text is not repeated as a heading above itself."""
    if obj.deleted:
        return ""
    starts_group_thread = obj.in_reply_to_uri is None and (obj.group_id is not None or obj.audience_uri)
    return display_title(obj.name, obj.content) if starts_group_thread else obj.name
