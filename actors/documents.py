"""Local actors as AS2 documents and their (for now mostly empty) collections."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts, media
from actors.local import MODERATOR_ROLES
from actors.urls import Urls
from federation import keys
from federation.actor_document import ActorDocument, render_actor
from people import documents as people_documents
from storage.models import LocalActor, Membership, RemoteActor

_AS2_TYPES = {"person": "Person", "group": "Group", "application": "Application"}


def actor_document(actor: LocalActor, urls: Urls) -> dict[str, object]:
    """The actor as peers fetch it (and as ``Update{actor}`` carries it).

    A suspended person (actors.accounts, "Standing") keeps a document at its id, with its keys, inbox and
    collection ids, but no profile: the name is the username, no summary, avatar, profile fields or tags,
    not discoverable, and ``suspended: true`` (Mastodon's ``toot:suspended``; Mastodon's ActorSerializer
    blanks the same fields). A Mastodon peer that reads it marks its copy suspended and lifts that when
    the flag is gone, so an unsuspension restores the person there too.
    """
    actor_id = urls.actor(actor.actor_type, actor.username)
    is_group = actor.actor_type == "group"
    group = actor.group if is_group else None
    suspended = accounts.standing(actor) is accounts.Standing.SUSPENDED
    ed_public = keys.load_public_pem(actor.ed25519_public_pem)
    doc = ActorDocument(
        id=actor_id,
        type=_AS2_TYPES[actor.actor_type],
        # Mastodon names its instance actor after the domain; peers show that instead of "actor".
        preferred_username=urls.domain if actor.actor_type == "application" else actor.username,
        name=actor.username if suspended else actor.display_name or actor.username,
        summary=_summary(actor, suspended),
        url=actor_id,
        inbox=f"{actor_id}/inbox",
        outbox=f"{actor_id}/outbox",
        followers=f"{actor_id}/followers",
        following=f"{actor_id}/following",
        featured=f"{actor_id}/featured",
        shared_inbox=urls.shared_inbox(),
        rsa_key_id=urls.main_key(actor_id),
        rsa_public_pem=actor.rsa_public_pem,
        ed25519_key_id=urls.ed25519_key(actor_id),
        ed25519_multibase=keys.ed25519_multibase(ed_public),  # type: ignore[arg-type]
        published=actor.created_at,
        manually_approves_followers=bool(group and group.visibility == "private"),
        discoverable=actor.discoverable and actor.actor_type != "application" and not suspended,
        moderators=f"{actor_id}/moderators" if is_group else None,
        posting_restricted_to_mods=group.posting_restricted_to_mods if group else None,
    )
    document = render_actor(doc)
    if suspended:
        return {**document, "suspended": True}  # a term of our extension context (federation.context)
    document.update(people_documents.actor_properties(actor, urls))  # skills, interests, place, links
    if actor.avatar:
        url = media.media_url(urls, actor.avatar)
        document["icon"] = {"type": "Image", "mediaType": media.media_type(actor.avatar), "url": url}
    if group is not None and group.banner:
        # The banner as Mastodon's header and Lemmy's community banner read it: the actor's ``image``.
        url = media.media_url(urls, group.banner)
        document["image"] = {"type": "Image", "mediaType": media.media_type(group.banner), "url": url}
    return document


def _summary(actor: LocalActor, suspended: bool) -> str:
    if suspended:
        return ""
    # A person's summary is what they typed (plain text or Markdown); AS2 wants HTML.
    return accounts.bio_html(actor.summary) if actor.actor_type == "person" else actor.summary


_MINIMAL_FIELDS = (
    "@context", "id", "type", "preferredUsername", "inbox", "outbox", "endpoints", "publicKey", "assertionMethod",
)


def minimal_actor_document(document: dict[str, object]) -> dict[str, object]:
    """What an unsigned fetch gets in authorized-fetch mode: enough to verify our signatures, no profile."""
    return {key: document[key] for key in _MINIMAL_FIELDS if key in document}


async def moderator_ids(session: AsyncSession, group: LocalActor, urls: Urls) -> list[str]:
    """Actor ids of the group's owners, admins and moderators (local and remote)."""
    query = (
        select(LocalActor.actor_type, LocalActor.username, RemoteActor.uri)
        .select_from(Membership)
        .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
        .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
        .where(
            Membership.group_id == group.id,
            Membership.state == "accepted",
            Membership.role.in_(MODERATOR_ROLES),
        )
        .order_by(Membership.id)
    )
    rows = await session.execute(query)
    return [uri or urls.actor(kind, name) for kind, name, uri in rows]
