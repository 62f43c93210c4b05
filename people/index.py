"""Profile rows and full-text indexes, kept current (storage/models/profiles.py describes the indexes).

- Remote actors: ``index_remote`` runs in the transaction that stores a fetched actor document
  (``actors.remote``), so a resolve or an ``Update{Person}`` refreshes what the finder knows at once.
- Local actors: ``refresh_local`` runs when a member saves their profile (``people.profiles``); changes
  made elsewhere (a new account, a new display name, a suspension, a group made private) are queued in
  ``search_pending`` by database triggers and applied by ``sync``, which every search calls first.
- Posts (SQLite only): the objects triggers queue changed ids; ``sync`` writes their plain text into
  ``objects_fts``. PostgreSQL computes its ``tsvector`` columns itself.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from sqlalchemy import delete, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from actors.accounts import bio_html
from actors.urls import Urls
from federation.html import plain_text
from federation.profile_fields import ProfileFields, parse_profile
from people import geo, tags
from storage import changes, memo
from storage.engine import SessionMaker
from storage.memo import Memo
from storage.models import LocalActor, Object, Profile, ProfileTag, RemoteActor, SearchPending, utcnow
from storage.upsert import UPSERT_DIALECTS, dialect_insert

PERSON_TYPES = frozenset({"Person"})
GROUP_TYPES = frozenset({"Group", "Organization"})
MAX_ABOUT = 5_000  # characters of a summary kept for search
MAX_LINKS = 8
MAX_HEADLINE = 150
MAX_LOCATION_NAME = 120
BATCH = 500
_TAG_COLUMNS = {"skill": "skills", "soft_skill": "soft_skills", "interest": "interests", "wanted": "skills_wanted"}


def html_text(value: str) -> str:
    """Sanitised HTML as searchable text: block and inline boundaries become spaces."""
    return plain_text(value.replace("<", " <")) if value else ""


def search_text(profile: Profile) -> str:
    """What the full-text index reads. A hidden location's name is never part of it."""
    parts: list[str] = [profile.name, profile.username, profile.headline]
    for column in _TAG_COLUMNS.values():
        parts.extend(getattr(profile, column) or [])
    if profile.location_precision != "hidden":
        parts.append(profile.location_name)
    parts.append(profile.about[:MAX_ABOUT])
    return "\n".join(part for part in parts if part)


def apply_location(profile: Profile) -> None:
    """Recompute what others may see and search of the location (geo.published)."""
    point = geo.published(profile.latitude, profile.longitude, profile.location_precision)
    profile.search_lat, profile.search_lon = point if point is not None else (None, None)


async def replace_tags(session: AsyncSession, profile: Profile) -> None:
    """One ``profile_tags`` row per tag of the profile's lists (they are already normal labels)."""
    await session.execute(delete(ProfileTag).where(ProfileTag.profile_id == profile.id))
    rows = []
    for kind, column in _TAG_COLUMNS.items():
        seen: set[str] = set()
        for label in getattr(profile, column) or []:
            key = tags.key(label)
            if key and key not in seen:
                seen.add(key)
                rows.append({"profile_id": profile.id, "kind": kind, "key": key[:64], "label": label[:64]})
    if rows:
        await session.execute(insert(ProfileTag), rows)


async def _profile_row(session: AsyncSession, column: Any, value: int, defaults: dict[str, Any]) -> Profile:
    """The profile row of one actor, inserted if missing (a concurrent insert is not an error)."""
    found = await session.scalar(select(Profile).where(column == value))
    if found is not None:
        return found
    values = {"updated_at": utcnow(), **defaults}
    dialect = session.get_bind().dialect.name
    if dialect in UPSERT_DIALECTS:
        await session.execute(dialect_insert(dialect, Profile).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        session.add(Profile(**values))
        await session.flush()
    found = await session.scalar(select(Profile).where(column == value))
    assert found is not None
    return found


# --------------------------------------------------------------------------------------------------
# Local actors


async def local_profile(session: AsyncSession, urls: Urls, actor: LocalActor) -> Profile:
    actor_uri = urls.actor(actor.actor_type, actor.username)
    profile = await _profile_row(
        session,
        Profile.local_actor_id,
        actor.id,
        {
            "actor_uri": actor_uri, "local_actor_id": actor.id, "kind": actor.actor_type,
            "username": actor.username, "domain": urls.domain, "url": actor_uri, "name": actor.display_name,
            "about": "", "headline": "", "skills": [], "soft_skills": [], "interests": [], "skills_wanted": [],
            "links": [], "location_name": "", "location_precision": "hidden", "discoverable": False,
            "private": False, "search_text": "",
        },
    )
    set_committed_value(actor, "profile", profile)  # the actor document reads it in this transaction
    return profile


def _local_discoverable(actor: LocalActor) -> bool:
    if not actor.discoverable:
        return False
    account = actor.account
    if actor.actor_type == "person":
        return account is not None and not account.suspended and not account.approval_pending
    return True


async def refresh_local(session: AsyncSession, urls: Urls, actor: LocalActor) -> Profile | None:
    """Bring the profile row of a local person or group in line with the actor (name, summary, flags)."""
    if actor.actor_type not in ("person", "group"):
        return None
    unloaded = [name for name in ("account", "group") if name in inspect(actor).unloaded]
    if unloaded:  # an actor created in this transaction: its relations were never loaded
        await session.refresh(actor, unloaded)
    if actor.account is not None and actor.account.deleted_at is not None:
        # A deleted account's tombstone has no profile: nothing of it stays findable (actors.account_deletion).
        await session.execute(delete(Profile).where(Profile.local_actor_id == actor.id))
        return None
    profile = await local_profile(session, urls, actor)
    profile.name = actor.display_name or actor.username
    if actor.actor_type == "person":  # the bio is Markdown: as text, the way its page renders it
        profile.about = html_text(bio_html(actor.summary))[:MAX_ABOUT]
    else:
        profile.about = html_text(actor.summary)[:MAX_ABOUT]
    profile.discoverable = _local_discoverable(actor)
    profile.private = bool(actor.group is not None and actor.group.visibility == "private")
    apply_location(profile)
    profile.search_text = search_text(profile)
    profile.updated_at = utcnow()
    await session.flush()
    await replace_tags(session, profile)
    return profile


# --------------------------------------------------------------------------------------------------
# Remote actors


def _kind(actor_type: str) -> str | None:
    if actor_type in PERSON_TYPES:
        return "person"
    if actor_type in GROUP_TYPES:
        return "group"
    return None


def _links(fields: ProfileFields) -> list[dict[str, str]]:
    return [{"label": link.label, "url": link.url} for link in fields.links[:MAX_LINKS]]


async def index_remote(session: AsyncSession, row: RemoteActor, document: dict[str, Any]) -> Profile | None:
    """Parse a remote actor's document (ours, or hashtags and PropertyValue fields) into its profile row.

    People are findable only when their server says ``discoverable: true`` (Mastodon's "suggest my
    account" switch; absent means no); groups unless it says ``false``.
    """
    kind = _kind(row.actor_type)
    if kind is None:
        await session.execute(delete(Profile).where(Profile.remote_actor_id == row.id))
        return None
    fields = parse_profile(document)
    profile = await _profile_row(
        session,
        Profile.remote_actor_id,
        row.id,
        {
            "actor_uri": row.uri, "remote_actor_id": row.id, "kind": kind, "username": row.username,
            "domain": row.domain, "name": row.display_name, "about": "", "headline": "", "skills": [],
            "soft_skills": [], "interests": [], "skills_wanted": [], "links": [], "location_name": "",
            "location_precision": "hidden", "discoverable": False, "private": False, "search_text": "",
        },
    )
    profile.kind = kind
    profile.username = row.username
    profile.domain = row.domain
    profile.url = row.url or row.uri
    profile.name = row.display_name or row.username
    profile.about = html_text(row.summary)[:MAX_ABOUT]
    profile.headline = fields.headline[:MAX_HEADLINE]
    profile.skills = tags.lenient(fields.skills)
    profile.soft_skills = tags.lenient(fields.soft_skills)
    profile.interests = tags.lenient(fields.interests)
    profile.skills_wanted = tags.lenient(fields.skills_wanted) if kind == "group" else []
    profile.links = _links(fields)
    place = fields.place
    profile.location_name = place.name[:MAX_LOCATION_NAME] if place is not None else ""
    profile.latitude = place.latitude if place is not None else None
    profile.longitude = place.longitude if place is not None else None
    # What another server published is public already: searchable as published ("city" when it says the
    # point is approximate: our own locationPrecision, or an AS2 radius).
    if place is None:
        profile.location_precision = "hidden"
    else:
        profile.location_precision = fields.precision or ("city" if place.radius_km else "exact")
    profile.search_lat, profile.search_lon = profile.latitude, profile.longitude
    if kind == "person":
        profile.discoverable = document.get("discoverable") is True
    else:
        profile.discoverable = document.get("discoverable") is not False
    profile.private = kind == "group" and document.get("manuallyApprovesFollowers") is True
    profile.search_text = search_text(profile)
    profile.updated_at = utcnow()
    await session.flush()
    await replace_tags(session, profile)
    return profile


# --------------------------------------------------------------------------------------------------
# The queue the triggers fill


async def _claim(session: AsyncSession, kind: str, limit: int) -> list[int]:
    ids = list(
        await session.scalars(
            select(SearchPending.ref_id).where(SearchPending.kind == kind).order_by(SearchPending.ref_id).limit(limit)
        )
    )
    if not ids:
        return []
    # Only what this transaction deleted is ours: a concurrent sync may have taken some of them.
    claimed = await session.scalars(
        delete(SearchPending)
        .where(SearchPending.kind == kind, SearchPending.ref_id.in_(ids))
        .returning(SearchPending.ref_id)
    )
    return list(claimed)


async def _index_objects(session: AsyncSession, ids: list[int]) -> None:
    """SQLite: the plain text of these posts in ``objects_fts`` (deleted ones leave it)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        marks = ", ".join(str(int(i)) for i in chunk)
        await session.execute(text(f"DELETE FROM objects_fts WHERE rowid IN ({marks})"))
        rows = await session.execute(
            select(Object.id, Object.name, Object.content).where(Object.id.in_(chunk), Object.deleted.is_(False))
        )
        values = [{"id": row.id, "title": row.name or "", "body": html_text(row.content or "")} for row in rows]
        if values:
            await session.execute(
                text("INSERT INTO objects_fts(rowid, title, body) VALUES (:id, :title, :body)"), values
            )


async def drain(session: AsyncSession, urls: Urls, limit: int = BATCH) -> int:
    """Apply up to ``limit`` queued changes of each kind; returns how many were applied."""
    done = 0
    local_ids = await _claim(session, "local", limit)
    if local_ids:
        actors = await session.scalars(select(LocalActor).where(LocalActor.id.in_(local_ids)))
        for actor in actors:
            await refresh_local(session, urls, actor)
    remote_ids = await _claim(session, "remote", limit)
    if remote_ids:
        for row in await session.scalars(select(RemoteActor).where(RemoteActor.id.in_(remote_ids))):
            await index_remote(session, row, row.document or {})
    object_ids = await _claim(session, "object", limit)
    await _index_objects(session, object_ids)
    done += len(local_ids) + len(remote_ids) + len(object_ids)
    return done


# Per session maker: the queue was seen empty, and nothing that could fill it was written since (any process
# of the node; storage/changes.py) nor for memo.TTL_SECONDS (another machine). Pages that show the finder's
# matches (a group, a post's "people who could help") then call ``sync`` without a query.
_seen_empty: weakref.WeakKeyDictionary[SessionMaker, Memo[bool]] = weakref.WeakKeyDictionary()


async def sync(sessions: SessionMaker, urls: Urls, *, batches: int = 40) -> None:
    """Apply what the triggers queued (searches call this first; free when nothing was queued since the
    last look)."""
    empty = _seen_empty.get(sessions)
    if empty is None:
        empty = _seen_empty[sessions] = Memo(changes.SEARCH_PENDING, memo.TTL_SECONDS, sessions)
    if empty.get("queue"):
        return
    counter = empty.counter()  # before reading: a write while we look makes what we saw stale
    async with sessions() as session:
        if await session.scalar(select(SearchPending.ref_id).limit(1)) is None:
            empty.put("queue", True, counter)
            return
    for _ in range(batches):
        async with sessions.begin() as session:
            done = await drain(session, urls)
        if done == 0:
            return


def query_words(text_value: str, limit: int = 12) -> list[str]:
    """The words of a search box, for a full-text query (punctuation and operators dropped)."""
    return re.findall(r"\w+", text_value.lower())[:limit]
