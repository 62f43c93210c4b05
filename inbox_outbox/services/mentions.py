"""Who the handles in a new post name (content.mentions reads them from the text).

Resolved before the post's transaction opens (a WebFinger lookup must not hold a database transaction):
``@name`` and ``@name@<our domain>`` are our people (groups are not mentioned: a group is where a post
lives, not someone it speaks to); ``@name@host`` is found with the lookup code every other remote name
goes through (services.refs.resolve_actor: our cache first, else WebFinger and a signed fetch). A handle
that names nobody, a server that does not answer, a remote group: it stays plain text, and the post is
written anyway.

A mentioned person is linked in the text, named in a ``Mention`` tag and addressed (``cc``), and the post
is delivered to their inbox: Mastodon notifies an account of a post whose tags mention it and shows it
to them (``app/lib/activitypub/activity/create.rb``, ``process_tags``/``process_audience``), GoToSocial
likewise (PROTOCOL.md "Mentions"). In a private group only members are addressed: anyone else gets a
link, never the post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import DomainError
from actors.memberships import can_read
from actors.urls import Urls
from content.mentions import Mentioned, link_mentions, written_handles
from federation.object_fields import Mention
from inbox_outbox.federation import Federation
from inbox_outbox.services.refs import resolve_actor
from storage.models import LocalActor

log = logging.getLogger(__name__)

Resolved = dict[tuple[str, str | None], Mentioned]


async def resolve(fed: Federation, source: str) -> Resolved:
    """The handles ``source`` writes that name someone, keyed as content.mentions.link_mentions wants."""
    handles = written_handles(source, fed.urls.domain)
    found: Resolved = {}
    local_names = [h.user for h in handles if h.host is None]
    if local_names:
        async with fed.sessions() as session:
            people = await session.scalars(select(LocalActor).where(
                LocalActor.username.in_(local_names), LocalActor.actor_type == "person"))
            for person in people:
                uri = fed.urls.person(person.username)
                found[(person.username, None)] = Mentioned(
                    uri=uri, url=uri, handle=f"@{person.username}@{fed.urls.domain}", local=True)
    for handle in handles:
        if handle.host is None:
            continue
        try:
            ref = await resolve_actor(fed, f"{handle.user}@{handle.host}")
        except DomainError as exc:
            log.info("mention @%s@%s stays plain text: %s", handle.user, handle.host, exc.message)
            continue
        if ref.remote is None or ref.remote.actor_type == "Group":
            continue
        found[handle.key] = Mentioned(uri=ref.uri, url=ref.remote.url or ref.uri,
                                      handle=f"@{ref.remote.username}@{ref.remote.domain}", local=False)
    return found


@dataclass(frozen=True)
class Linked:
    """A post's HTML with its mentions linked; who is tagged and addressed; which of them are ours."""

    html: str
    tags: tuple[Mention, ...] = ()
    addressed: tuple[str, ...] = ()  # actor ids: cc, and the deliveries to their inboxes
    local: tuple[str, ...] = ()  # our people among them (actors.notifications tells them)


async def link(
    session: AsyncSession, urls: Urls, group: LocalActor | None, public: bool, html: str,
    mentioned: Resolved | None, author_uri: str, *, profile: bool,
) -> Linked:
    """Link the resolved handles in ``html`` and choose whom the post addresses: everyone mentioned in a
    public place or in an update on the author's own profile (``profile``: no group; a followers-only or
    "mentioned only" update is for the people it mentions as well, as Mastodon's private and direct
    statuses are, ``app/services/process_mentions_service.rb``), only the members (``can_read``) in a
    private group of ours, nobody in another server's private group (its members are not known here; the
    group relays to them)."""
    if not mentioned:
        return Linked(html=html)
    html, used = link_mentions(html, mentioned, urls.domain)
    chosen = []
    for person in used:
        if person.uri == author_uri:
            continue
        if not (public or profile) and (group is None or not await can_read(session, urls, group, person.uri)):
            continue
        chosen.append(person)
    return Linked(
        html=html,
        tags=tuple(Mention(href=p.uri, name=p.handle) for p in chosen),
        addressed=tuple(p.uri for p in chosen),
        local=tuple(p.uri for p in chosen if p.local),
    )
