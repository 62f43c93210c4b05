"""Render a local actor (Person, Group, Application) as an ActivityStreams document."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from federation.context import actor_context


@dataclass(frozen=True)
class ActorDocument:
    id: str
    type: str  # Person | Group | Application
    preferred_username: str
    name: str
    summary: str
    url: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    shared_inbox: str
    rsa_key_id: str
    rsa_public_pem: str
    ed25519_key_id: str
    ed25519_multibase: str
    published: datetime
    manually_approves_followers: bool = False
    discoverable: bool = True
    moderators: str | None = None  # groups: collection of moderators (Lemmy's attributedTo/moderators)
    posting_restricted_to_mods: bool | None = None
    attachment: list[dict[str, object]] = field(default_factory=list)
    tag: list[dict[str, object]] = field(default_factory=list)


def render_actor(doc: ActorDocument) -> dict[str, object]:
    out: dict[str, object] = {
        "@context": actor_context(),
        "id": doc.id,
        "type": doc.type,
        "preferredUsername": doc.preferred_username,
        "name": doc.name,
        "summary": doc.summary,
        "url": doc.url,
        "inbox": doc.inbox,
        "outbox": doc.outbox,
        "followers": doc.followers,
        "following": doc.following,
        "featured": doc.featured,
        "endpoints": {"sharedInbox": doc.shared_inbox},
        "manuallyApprovesFollowers": doc.manually_approves_followers,
        "discoverable": doc.discoverable,
        "published": doc.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publicKey": {"id": doc.rsa_key_id, "owner": doc.id, "publicKeyPem": doc.rsa_public_pem},
        # FEP-521a: Ed25519 key as a Multikey verification method beside the RSA key.
        "assertionMethod": [
            {
                "id": doc.ed25519_key_id,
                "type": "Multikey",
                "controller": doc.id,
                "publicKeyMultibase": doc.ed25519_multibase,
            }
        ],
        "attachment": doc.attachment,
        "tag": doc.tag,
    }
    if doc.moderators is not None:
        # Lemmy reads moderators from attributedTo; others from `moderators`. Both name one collection.
        out["attributedTo"] = doc.moderators
        out["moderators"] = doc.moderators
    if doc.posting_restricted_to_mods is not None:
        out["postingRestrictedToMods"] = doc.posting_restricted_to_mods
    return out
