"""JSON-LD contexts. Never fetched at run time: the few terms we use are known here (PROTOCOL.md)."""

from __future__ import annotations

AS2 = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS2_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

# Terms peers use that are outside AS2 (Mastodon's toot:, Lemmy's lemmy:) and our own (madeopen:).
EXTENSION_TERMS: dict[str, object] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "lemmy": "https://join-lemmy.org/ns#",
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    "moderators": {"@id": "lemmy:moderators", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}


def actor_context() -> list[object]:
    return [AS2, SECURITY_V1, MULTIKEY_V1, dict(EXTENSION_TERMS)]
