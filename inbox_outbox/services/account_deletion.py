"""Deleting a local person's account, and telling every server that knew them: ``Delete{Person}``.

One call per way in (the settings page, the admin pages, ``madeopen user delete``), each in the caller's
transaction: the checks (actors.account_deletion), then the ``Delete`` and its deliveries, then the
content policy, then the tombstone. A refused deletion changes nothing; an accepted one commits all.

The activity is what Mastodon sends (``DeleteAccountService#delete_actor!``): ``actor`` and ``object``
are the person's id, addressed to Public, signed with the person's own key, which the tombstone keeps
until the delivery is done (Mastodon verifies it with the key it cached: our 410 actor document offers
none). Lemmy (``DeleteUser``) wants it public too, and reads ``removeData`` to drop the person's content.

Who receives it (shared inboxes preferred, deduplicated): everyone that keeps a copy of the person, as
for an ``Update{Person}`` (inbox_outbox.services.profiles: their remote followers, the remote groups they
joined, the remote members of our groups they belonged to), and also the remote people and groups they
followed and the remote groups they posted in. It is worked out before the follows and memberships go.

Content (``DeletedContent``, ``MADEOPEN_DELETED_ACCOUNT_CONTENT``):

- ``remove`` (the default, as Mastodon): every post and reply of theirs becomes a tombstone (threads stay
  whole: replies of others keep their place), and their votes go; the Delete says ``removeData: true``.
- ``anonymise``: posts and replies in groups stay where they are, shown as by "Deleted account" (no
  name, no picture; the author's id answers 410); those outside any group go as with ``remove``; votes
  go. For organisations whose group discussions must stay readable. Servers that delete an actor's
  content on ``Delete{Person}`` (Mastodon) still drop their copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import account_deletion
from actors.account_deletion import OwnDeletion
from actors.urls import Urls
from content.boosts import remove_boosts_of
from content.recognition import kudos
from content.store import tombstone as tombstone_object
from content.votes import remove_reactions_of
from federation.activities import activity
from federation.context import PUBLIC
from inbox_outbox.addressing import actor_inboxes, dedupe
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services.deleted_content import DeletedContent
from inbox_outbox.services.profiles import person_inboxes
from storage.models import Follow, LocalActor, Object, utcnow


@dataclass(frozen=True)
class Deletion:
    username: str
    posts_removed: int
    discard: list[str]  # media files to delete once the transaction is committed


async def delete_own_account(
    session: AsyncSession, urls: Urls, actor_id: int, request: OwnDeletion, policy: DeletedContent
) -> Deletion:
    """The logged-in member deletes their account (password and confirmation checked first)."""
    person = await account_deletion.check_own_deletion(session, actor_id, request)
    return await _delete(session, urls, person, policy)


async def delete_account(
    session: AsyncSession, urls: Urls, acting_id: int | None, username: str, policy: DeletedContent
) -> Deletion:
    """An admin (``acting_id``; None: the operator's command line) deletes ``username``."""
    person = await account_deletion.check_admin_deletion(session, acting_id, username)
    return await _delete(session, urls, person, policy)


async def _delete(session: AsyncSession, urls: Urls, person: LocalActor, policy: DeletedContent) -> Deletion:
    actor_uri = urls.person(person.username)
    inboxes = await _known_inboxes(session, urls, person, actor_uri)
    document = activity(
        new_activity_id(urls), "Delete", actor_uri, actor_uri, to=[PUBLIC], cc=[f"{actor_uri}/followers"],
        published=utcnow(), removeData=policy is DeletedContent.REMOVE,
    )
    await publish(session, urls, person, document, inboxes)
    removed = await _remove_posts(session, actor_uri, in_groups_too=policy is DeletedContent.REMOVE)
    await remove_reactions_of(session, actor_uri)
    await kudos.remove_of(session, actor_uri)  # their thanks go with their votes (issue #17)
    await remove_boosts_of(session, actor_uri)  # and their boosts (content.boosts)
    discard = await account_deletion.tombstone(session, urls, person)
    return Deletion(person.username, removed, discard)


async def _known_inboxes(session: AsyncSession, urls: Urls, person: LocalActor, actor_uri: str) -> list[str]:
    """Every remote inbox that may hold a copy of the person (see the module text)."""
    inboxes = await person_inboxes(session, urls, person, actor_uri)
    followed = await session.scalars(
        select(Follow.followee_uri).where(Follow.follower_uri == actor_uri).order_by(Follow.id)
    )
    posted_in = await session.scalars(
        select(Object.audience_uri)
        .where(Object.author_uri == actor_uri, Object.audience_uri.is_not(None), Object.group_id.is_(None))
        .distinct()
    )
    others = [uri for uri in [*followed, *posted_in] if uri]
    return dedupe([*inboxes, *await actor_inboxes(session, others)])


async def _remove_posts(session: AsyncSession, actor_uri: str, *, in_groups_too: bool) -> int:
    now = utcnow()
    query = select(Object).where(Object.author_uri == actor_uri, Object.local.is_(True), Object.deleted.is_(False))
    if not in_groups_too:
        query = query.where(Object.group_id.is_(None), Object.audience_uri.is_(None))
    posts = list(await session.scalars(query))
    for post in posts:
        tombstone_object(post, now)
    return len(posts)
