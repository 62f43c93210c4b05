"""Media files nothing refers to any more are removed a day after they were written.

The composer stores an image or a file as soon as a form sends it (web/composer.py), so a preview or an
error round keeps it; a form that is never posted leaves it behind, and so do an edit that drops an
attachment and the deletion of a post ("the content is gone for good", content.store.tombstone).
Mastodon removes media no status took within a day (its media-attachments vacuum); we do the same: a
file of ours older than :data:`GRACE` that no row names — a live local post's attachment, an account's
avatar, a group's banner, the node's logo or favicon — is removed by the pruner (madeopen.workers), and
so is the ``.part`` file of a write that never finished. A form still open after a day loses its upload
and asks for it again (its ``*_pending`` name no longer resolves: web/composer.py).

Avatars, banners and branding replaced or removed are discarded at once by their own forms
(actors.media.discard); this catches what nobody discarded.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import media, node_settings
from storage.engine import SessionMaker
from storage.models import Group, LocalActor, NodeSetting, Object, PostAttachment, utcnow

log = logging.getLogger(__name__)
GRACE = timedelta(days=1)


async def referenced(session: AsyncSession) -> set[str]:
    """The media names some row uses now."""
    names: set[str] = set()
    names.update(await session.scalars(select(LocalActor.avatar).where(LocalActor.avatar.is_not(None))))
    names.update(await session.scalars(select(Group.banner).where(Group.banner.is_not(None))))
    names.update(await session.scalars(
        select(NodeSetting.value).where(NodeSetting.key.in_((node_settings.LOGO, node_settings.FAVICON)))
    ))
    attachments = await session.scalars(
        select(PostAttachment.url).join(Object, Object.id == PostAttachment.object_id)
        # A post hidden by its author's suspension keeps its files (actors.suspensions: nothing is deleted).
        .where(PostAttachment.local.is_(True), or_(Object.deleted.is_(False), Object.suspended.is_(True)))
    )
    names.update(url.rsplit("/", 1)[-1] for url in attachments)
    return names


async def vacuum(sessions: SessionMaker, media_dir: Path, *, now: datetime | None = None,
                 grace: timedelta = GRACE) -> int:
    """Remove the files of ``media_dir`` older than ``grace`` that no row names; returns how many."""
    cutoff = ((now or utcnow()) - grace).timestamp()
    candidates = [entry for entry in _entries(media_dir) if entry.stat().st_mtime < cutoff]
    if not candidates:
        return 0
    # Read after listing, so whatever was posted before the listing is kept. Posting a day-old upload
    # between this read and the unlink would lose it: the grace makes that a form left open for a day.
    async with sessions() as session:
        keep = await referenced(session)
    removed = 0
    for entry in candidates:
        if entry.name not in keep:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("prune: %d media files nothing refers to removed", removed)
    return removed


def _entries(media_dir: Path) -> list[os.DirEntry[str]]:
    """Our files (by name: anything else an operator put there is left alone) and unfinished writes."""
    try:
        with os.scandir(media_dir) as scan:
            return [entry for entry in scan if entry.is_file(follow_symlinks=False) and _ours(entry.name)]
    except FileNotFoundError:
        return []


def _ours(name: str) -> bool:
    if name.startswith(".") and name.endswith(".part"):
        return media.valid_name(name[1:-len(".part")])
    return media.valid_name(name)
