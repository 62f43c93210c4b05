"""Attachments and hashtags of posts, ours and received (storage/models/post_extras.py; issue #16).

Local images are stored by us (``local``: their URL is on our /media/ and pages show them inline);
a remote post's attachments are only linked to, never loaded by our pages (no hot-linking, and the CSP
allows images from this site alone). Hashtags are stored lower-case without '#', from our Markdown
(federation.markdown) or from a remote post's AS2 ``Hashtag`` tags, so the tag page finds both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.post_files import LABELS as FILE_LABELS, size_text
from federation.html import plain_text
from federation.object_fields import Attachment, Hashtag
from federation.object_render import LocalAttachment
from storage.models import Object, PostAttachment, PostHashtag

MAX_ATTACHMENTS = 4
MAX_ALT = 1500
_TAG = re.compile(r"^\w[\w-]{0,98}$", re.UNICODE)


@dataclass(frozen=True)
class ShownAttachment:
    kind: str  # Image | Document
    url: str
    media_type: str
    alt: str
    width: int | None
    height: int | None
    local: bool
    size: int | None = None  # bytes, known for our files

    @property
    def type_label(self) -> str:
        """What kind of file, for the link: PDF, Text, or the received media type."""
        return FILE_LABELS.get(self.media_type, self.media_type or "file")

    @property
    def size_label(self) -> str:
        return size_text(self.size) if self.size is not None else ""

    @property
    def inline(self) -> bool:
        """Shown as an image on our pages (ours only); everything else is a link."""
        return self.local and self.media_type.startswith("image/")

    @property
    def server(self) -> str:
        return urlsplit(self.url).netloc


def normal_tag(name: str) -> str | None:
    """``#Garden`` -> ``garden``; None for what is not a usable tag."""
    tag = name.strip().lstrip("#").lower()
    return tag if _TAG.match(tag) and not tag.isdigit() else None


async def set_hashtags(session: AsyncSession, obj: Object, tags: Iterable[str], *, new: bool = False) -> None:
    """Replace the post's hashtags (normalised; bad ones skipped; ``new``: it has none yet)."""
    if not new:
        await session.execute(delete(PostHashtag).where(PostHashtag.object_id == obj.id))
    kept = dict.fromkeys(tag for tag in (normal_tag(name) for name in tags) if tag)
    session.add_all(PostHashtag(object_id=obj.id, tag=tag) for tag in list(kept)[:30])


async def set_local_attachments(session: AsyncSession, obj: Object, attachments: Sequence[LocalAttachment]) -> None:
    await session.execute(delete(PostAttachment).where(PostAttachment.object_id == obj.id))
    session.add_all(
        PostAttachment(object_id=obj.id, position=index, kind=a.type, url=a.url, media_type=a.media_type,
                       name=a.name[:MAX_ALT], width=a.width, height=a.height, size=a.size, local=True)
        for index, a in enumerate(attachments[:MAX_ATTACHMENTS])
    )


async def index_remote(session: AsyncSession, obj: Object, hashtags: Sequence[Hashtag],
                       attachments: Sequence[Attachment], *, new: bool = False) -> None:
    """A received post's hashtags and attachments (federation.objects parsed and checked them: http(s)
    URLs only), replacing what an earlier version had (``new``: there is none, nothing to delete)."""
    await session.flush()  # the new row's id
    await set_hashtags(session, obj, (tag.name for tag in hashtags), new=new)
    if not new:
        await session.execute(delete(PostAttachment).where(PostAttachment.object_id == obj.id))
    session.add_all(
        PostAttachment(object_id=obj.id, position=index,
                       kind="Image" if (a.media_type or "").startswith("image/") else "Document",
                       url=a.url[:2048], media_type=(a.media_type or "")[:100] or None,
                       name=plain_text(a.name)[:MAX_ALT], local=False)
        for index, a in enumerate(attachments[:MAX_ATTACHMENTS])
    )


async def attachments_of(session: AsyncSession, object_ids: Iterable[int]) -> dict[int, list[ShownAttachment]]:
    ids = list(object_ids)
    found: dict[int, list[ShownAttachment]] = {}
    if not ids:
        return found
    rows = await session.scalars(
        select(PostAttachment).where(PostAttachment.object_id.in_(ids))
        .order_by(PostAttachment.object_id, PostAttachment.position)
    )
    for row in rows:
        found.setdefault(row.object_id, []).append(ShownAttachment(
            kind=row.kind, url=row.url, media_type=row.media_type or "", alt=row.name, width=row.width,
            height=row.height, local=row.local, size=row.size,
        ))
    return found
