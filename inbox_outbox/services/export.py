"""A member's own data as a zip file, in the spirit of Mastodon's archive (``BackupService``).

The archive holds, for the logged-in member only:

- ``actor.json``: their actor document, as peers fetch it (with ``@context``);
- ``outbox.json``: an AS2 ``OrderedCollection`` of every activity they published here, newest first,
  each as it was sent (posts are inside their ``Create``; edits, deletes, votes, follows as they went);
- ``profile.json``: what the profile form holds (display name, bio as typed, headline, skills, soft
  skills, interests, place with the coordinates they entered, links, whether to be found);
- ``follows.json``: whom they follow (and whether it was accepted) and who follows them;
- ``memberships.json``: the groups they belong to here (role, state) and the remote groups they joined;
- ``recognition.json``: kudos they gave, their badges, their redemptions (content.recognition.export);
- their avatar, when they have one (``avatar.<ext>``), as Mastodon includes it.

It is written into a temporary file (spooled to disk past a few MiB), never held whole in memory, and the
outbox is read in pages. The caller streams it out and closes it.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import media
from actors.documents import actor_document
from actors.errors import Forbidden
from actors.urls import Urls
from content.recognition.export import member_data as recognition_data
from content.store import aware
from federation.activities import iso
from federation.context import AS2
from people import profiles
from storage.models import Activity, Follow, LocalActor, Membership, PersonBlock, RemoteActor

PAGE = 500
SPOOL_BYTES = 4 * 1024 * 1024


def _write_json(archive: zipfile.ZipFile, name: str, document: Any) -> None:
    archive.writestr(name, json.dumps(document, ensure_ascii=False, indent=2))


async def build_archive(session: AsyncSession, urls: Urls, actor_id: int, media_dir: Path) -> IO[bytes]:
    """The member's archive, as a temporary file positioned at its start (the caller closes it)."""
    person = await session.get(LocalActor, actor_id)
    if person is None or person.actor_type != "person" or person.account is None or person.account.deleted_at:
        raise Forbidden("log in to download your data")
    actor_uri = urls.person(person.username)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_json(archive, "actor.json", actor_document(person, urls))
            await _write_outbox(session, archive, actor_uri)
            _write_json(archive, "profile.json", await _profile(session, urls, person))
            _write_json(archive, "follows.json", await _follows(session, actor_uri, person.id))
            _write_json(archive, "memberships.json", await _memberships(session, urls, person, actor_uri))
            _write_json(archive, "recognition.json", await recognition_data(session, urls, actor_uri, person.id))
            avatar = media.path_of(media_dir, person.avatar) if person.avatar else None
            if avatar is not None:
                archive.write(avatar, f"avatar{avatar.suffix}")
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


async def _write_outbox(session: AsyncSession, archive: zipfile.ZipFile, actor_uri: str) -> None:
    """``outbox.json``, written item by item (a long-time member may have many thousand activities)."""
    total = 0
    with archive.open("outbox.json", "w") as raw:
        raw.write(json.dumps({"@context": AS2, "id": f"{actor_uri}/outbox", "type": "OrderedCollection"})[:-1].encode())
        raw.write(b', "orderedItems": [\n')
        last_id: int | None = None
        while True:
            query = select(Activity.id, Activity.document).where(Activity.actor_uri == actor_uri)
            if last_id is not None:
                query = query.where(Activity.id < last_id)
            rows = (await session.execute(query.order_by(Activity.id.desc()).limit(PAGE))).all()
            for row in rows:
                raw.write((",\n" if total else "").encode() + json.dumps(row.document, ensure_ascii=False).encode())
                total += 1
            if len(rows) < PAGE:
                break
            last_id = rows[-1].id
        raw.write(f'\n], "totalItems": {total}}}\n'.encode())


async def _profile(session: AsyncSession, urls: Urls, person: LocalActor) -> dict[str, Any]:
    view = await profiles.own_profile(session, urls, person.id)
    return {
        "id": urls.person(person.username),
        "username": person.username,
        "display_name": person.display_name,
        "bio": person.summary,
        "created_at": iso(aware(person.created_at)),
        **view.as_json(),
    }


async def _follows(session: AsyncSession, actor_uri: str, person_id: int) -> dict[str, Any]:
    following = await session.execute(
        select(Follow.followee_uri, Follow.state).where(Follow.follower_uri == actor_uri).order_by(Follow.id)
    )
    followers = await session.scalars(
        select(Follow.follower_uri)
        .where(Follow.followee_uri == actor_uri, Follow.state == "accepted")
        .order_by(Follow.id)
    )
    blocked = await session.scalars(
        select(PersonBlock.blocked_uri).where(PersonBlock.blocker_id == person_id).order_by(PersonBlock.id)
    )
    return {
        "following": [{"id": uri, "state": state} for uri, state in following],
        "followers": list(followers),
        "blocking": list(blocked),
    }


async def _memberships(session: AsyncSession, urls: Urls, person: LocalActor, actor_uri: str) -> dict[str, Any]:
    local_groups = await session.execute(
        select(LocalActor.username, LocalActor.display_name, Membership.role, Membership.state)
        .join(Membership, Membership.group_id == LocalActor.id)
        .where(Membership.local_actor_id == person.id)
        .order_by(LocalActor.username)
    )
    remote_groups = await session.execute(
        select(RemoteActor.uri, RemoteActor.display_name, Follow.state)
        .join(Follow, Follow.followee_uri == RemoteActor.uri)
        .where(Follow.follower_uri == actor_uri, RemoteActor.actor_type == "Group")
        .order_by(RemoteActor.uri)
    )
    groups = [
        {"id": urls.group(name), "name": title or name, "role": role, "state": state}
        for name, title, role, state in local_groups
    ]
    groups += [{"id": uri, "name": title, "role": "member", "state": state} for uri, title, state in remote_groups]
    return {"groups": groups}
