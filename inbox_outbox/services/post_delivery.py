"""Where a local person's post lives and who hears of it (DESIGN.md "How an outgoing activity flows").

The place decides the addressing and the deliveries of every activity about a post: its Create
(inbox_outbox.services.posts), votes (.votes), edits and deletes (.post_edits). See posts.py's docstring
for the rules per place and for why Mastodon-family members of our groups get the author's own copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import InvalidInput, NotFound
from actors.signing import with_proof
from actors.urls import Urls
from content.store import group_of, object_by_uri
from federation.activities import activity, strip_context
from federation.context import PUBLIC
from inbox_outbox.addressing import MemberRef, actor_inboxes, dedupe, follower_inboxes, group_members_by_inbox
from inbox_outbox.fanout import announce_to_members
from inbox_outbox.ids import is_local, new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services.common import uri_of
from storage.models import Activity, LocalActor, Object, RemoteActor, utcnow


VISIBILITIES = ("public", "followers", "mentioned")


@dataclass(frozen=True)
class Place:
    """A post's home: one of our groups, a remote group, or (both None) its author's profile, where
    ``visibility`` says who it is for, as Mastodon's: ``public``, ``followers`` (followers-only) or
    ``mentioned`` (the people it mentions alone, Mastodon's "direct")."""

    group: LocalActor | None = None
    remote_group: RemoteActor | None = None
    visibility: str = "public"

    def audience(self, urls: Urls) -> str | None:
        if self.group is not None:
            return urls.group(self.group.username)
        return self.remote_group.uri if self.remote_group is not None else None

    def addressing(self, urls: Urls, author_uri: str) -> tuple[list[str], list[str]]:
        if self.group is not None:
            assert self.group.group is not None
            group_id = urls.group(self.group.username)
            if self.group.group.visibility == "public":
                return [group_id, PUBLIC], []
            return [group_id], [f"{group_id}/followers"]  # private: never Public (PROTOCOL.md)
        if self.remote_group is not None:
            followers = self.remote_group.followers
            public = [PUBLIC] if self.public else []  # a private remote group: never Public either
            return [self.remote_group.uri], public + ([followers] if followers else [])
        if self.visibility == "followers":
            return [f"{author_uri}/followers"], []  # Mastodon "private": no Public anywhere
        if self.visibility == "mentioned":
            return [], []  # Mastodon "direct": the mentioned people are added to cc
        return [PUBLIC], [f"{author_uri}/followers"]

    @property
    def in_group(self) -> bool:
        return self.group is not None or self.remote_group is not None

    @property
    def public(self) -> bool:
        if self.remote_group is not None:
            # A group that approves its followers is a private group (PROTOCOL.md "Private groups").
            return (self.remote_group.document or {}).get("manuallyApprovesFollowers") is not True
        if self.group is None:
            return self.visibility == "public"
        return self.group.group is not None and self.group.group.visibility == "public"


async def place_of(session: AsyncSession, urls: Urls, obj: Object) -> Place:
    group = await group_of(session, obj)
    if group is not None:
        return Place(group=group)
    if obj.audience_uri and not is_local(urls, obj.audience_uri):
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == obj.audience_uri))
        if remote is not None and remote.actor_type == "Group":
            return Place(remote_group=remote)
    if obj.public:
        return Place()
    # A followers-only or mentioned-only post: its replies, edits and deletes reach no wider audience.
    followers_only = f"{obj.author_uri}/followers" in (obj.document or {}).get("to", [])
    return Place(visibility="followers" if followers_only else "mentioned")


async def live_post(
    session: AsyncSession, urls: Urls, object_uri: str, *, missing: str, deleted: str
) -> tuple[Object, Place]:
    """The post at ``object_uri`` and its place, for acting on it; NotFound (``missing``) when we have no
    such post, InvalidInput (``deleted``) when it is a tombstone."""
    obj = await object_by_uri(session, object_uri)
    if obj is None:
        raise NotFound(missing)
    if obj.deleted:
        raise InvalidInput(deleted)
    return obj, await place_of(session, urls, obj)


async def deliver(
    session: AsyncSession,
    urls: Urls,
    actor: LocalActor,
    place: Place,
    document: dict[str, Any],
    *,
    also: list[str] | None = None,
    post: dict[str, Any] | None = None,
    to_members: bool = False,
) -> Activity:
    """Store ``document`` with its deliveries; a group of ours then announces it to its members.

    ``to_members``: ``document`` is the author's own Create, Update or Delete of a post in our group, which
    Mastodon-family members must get from the author (module docstring): an Update or Delete also goes to
    every remote member inbox; in a private group a Create or Update of ``post`` (the unsigned post) goes
    to each member inbox as its own copy naming the members there, in place of ``document``.
    """
    actor_uri = uri_of(urls, actor)
    inboxes = await actor_inboxes(session, [uri for uri in also or [] if uri != actor_uri])
    if place.remote_group is not None:
        inboxes = [place.remote_group.inbox] + inboxes
    elif place.group is None and place.visibility != "mentioned":
        inboxes = await follower_inboxes(session, actor_uri) + inboxes
    copies: dict[str, list[MemberRef]] = {}
    if to_members and place.group is not None:
        members = await group_members_by_inbox(session, place.group.id)
        if post is not None and not place.public:
            copies = members
            inboxes = [inbox for inbox in inboxes if inbox not in copies]  # the copy there names them too
        elif document["type"] != "Create":  # a new post in a public group reaches them as the group's boost
            inboxes += list(members)
    stored = await publish(session, urls, actor, document, dedupe(inboxes))
    for inbox, named in copies.items():
        assert post is not None
        await publish(session, urls, actor, _naming(urls, actor, place, document, post, named), [inbox])
    if place.group is not None:
        await announce_to_members(session, urls, place.group, document)
    return stored


def _naming(
    urls: Urls, author: LocalActor, place: Place, document: dict[str, Any], post: dict[str, Any],
    members: list[MemberRef],
) -> dict[str, Any]:
    """The author's Create or Update of ``post`` once more, the post also addressed (``cc``) to ``members``
    and mentioning them. Mastodon reads the audience from the object, not the activity, makes a post
    naming nobody it knows a direct message to nobody, and shows a mentioned account what mentions it
    (app/lib/activitypub/parser/status_parser.rb ``visibility``, activity/create.rb ``process_audience``);
    GoToSocial shows a direct post only to the accounts it mentions (internal/ap/extract.go
    ``ExtractVisibility``, internal/filter/visibility/status.go). Signed anew: the proof covers the copy."""
    uris = [member.uri for member in members]
    mentioned = {tag.get("href") for tag in post.get("tag", []) if isinstance(tag, dict)}
    named = {
        **post,
        "cc": list(dict.fromkeys([*post.get("cc", []), *uris])),
        "tag": [*post.get("tag", []),
                *({"type": "Mention", "href": m.uri, "name": m.handle} for m in members if m.uri not in mentioned)],
    }
    return authored(urls, author, place, document["type"], named, to=list(named.get("to", [])), cc=named["cc"],
                     audience=document.get("audience"), published=utcnow())


async def deliver_in_group(
    session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor, document: dict[str, Any]
) -> Activity:
    """Store ``document`` by ``actor`` and have our ``group`` announce it to its members (the board's
    Update{Page}, inbox_outbox.services.board)."""
    return await deliver(session, urls, actor, Place(group=group), document)


def authored(
    urls: Urls, author: LocalActor, place: Place, kind: str, document: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """``kind`` (Create or Update) of the post ``document`` by ``author``; signed in a group, with the
    signed object embedded whole (see the module docstring). Elsewhere nobody relays it: as before."""
    author_uri = uri_of(urls, author)
    if not place.in_group:
        return activity(new_activity_id(urls), kind, author_uri, strip_context(document), **fields)
    signed_object = with_proof(author, urls, document)
    return with_proof(author, urls, activity(new_activity_id(urls), kind, author_uri, signed_object, **fields))
