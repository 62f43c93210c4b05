"""JSON-LD contexts. Never fetched at run time: the few terms we use are known here (PROTOCOL.md)."""

from __future__ import annotations

AS2 = "https://www.w3.org/ns/activitystreams"
SECURITY_V1 = "https://w3id.org/security/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS2_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

# Our own vocabulary (profiles: skills, soft skills, interests, headline; what groups need). The namespace
# is the same on every node; each node also serves the term definitions as a context document at /ns.
MADEOPEN_NS = "https://w3id.org/madeopen/ns#"
MADEOPEN_TERMS: dict[str, object] = {
    "madeopen": MADEOPEN_NS,
    "skills": {"@id": "madeopen:skills", "@container": "@set"},
    "softSkills": {"@id": "madeopen:softSkills", "@container": "@set"},
    "interests": {"@id": "madeopen:interests", "@container": "@set"},
    "skillsWanted": {"@id": "madeopen:skillsWanted", "@container": "@set"},
    "headline": "madeopen:headline",
    "locationPrecision": "madeopen:locationPrecision",
    # The board (federation.board_terms): a thread's kind and status, official responses, duplicates.
    "threadKind": "madeopen:threadKind",
    "threadStatus": "madeopen:threadStatus",
    "official": "madeopen:official",
    "duplicateOf": {"@id": "madeopen:duplicateOf", "@type": "@id"},
    # A group's docs (federation.doc_article): the revision an Article (or an offered edit of it) is.
    "docRevision": "madeopen:docRevision",
    # A comment on one section of a doc (a heading's anchor on the doc's page): content.docs.comments.
    "docSection": "madeopen:docSection",
    # Projects (federation.project_terms): a project group's origin thread, a task's state.
    "projectOrigin": {"@id": "madeopen:projectOrigin", "@type": "@id"},
    "taskState": "madeopen:taskState",
}

# Terms peers use that are outside AS2 (Mastodon's toot:, Lemmy's lemmy:) and our own (madeopen:).
EXTENSION_TERMS: dict[str, object] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "suspended": "toot:suspended",  # a suspended local person's document (actors.documents)
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "lemmy": "https://join-lemmy.org/ns#",
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    "moderators": {"@id": "lemmy:moderators", "@type": "@id"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "Hashtag": "as:Hashtag",
    **MADEOPEN_TERMS,
}


def actor_context() -> list[object]:
    return [AS2, SECURITY_V1, MULTIKEY_V1, dict(EXTENSION_TERMS)]


def madeopen_context_document() -> dict[str, object]:
    """The JSON-LD context a node serves at ``/ns``: our terms, for processors that want them by URL."""
    return {"@context": dict(MADEOPEN_TERMS)}
