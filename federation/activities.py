"""Builders of the activities we send, as plain AS2 dicts (ActivityStreams 2.0, FEP-1b12 for groups)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from federation.context import AS2, PUBLIC

Document = dict[str, Any]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity(
    activity_id: str,
    kind: str,
    actor: str,
    obj: object,
    *,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    audience: str | None = None,
    published: datetime | None = None,
    **extra: Any,
) -> Document:
    doc: Document = {"@context": AS2, "id": activity_id, "type": kind, "actor": actor, "object": obj}
    if to:
        doc["to"] = to
    if cc:
        doc["cc"] = cc
    if audience:
        doc["audience"] = audience
    if published is not None:
        doc["published"] = iso(published)
    doc.update(extra)
    return doc


def strip_context(doc: Document) -> Document:
    """An activity embedded in another one carries no @context of its own."""
    return {key: value for key, value in doc.items() if key != "@context"}


def embedded(doc: Document) -> Document:
    """``doc`` as another document carries it (an Announce, a collection page): one signed with an FEP-8b32
    integrity ``proof`` exactly as signed, ``@context`` included (the proof covers the whole document:
    federation.proofs), others without ``@context`` (strip_context)."""
    return doc if "proof" in doc else strip_context(doc)


def group_announce(announce_id: str, group: str, followers: str, inner: object, *, public: bool) -> Document:
    """FEP-1b12: the group announces an activity (or, for Mastodon-family followers, an object id) to
    its followers. Private groups address their followers collection only, never Public."""
    to = [PUBLIC] if public else [followers]
    cc = [followers] if public else []
    return activity(announce_id, "Announce", group, inner, to=to, cc=cc, audience=group,
                    published=datetime.now(timezone.utc))


def addressing_of(doc: Document) -> set[str]:
    """Every id the document is addressed to (to, cc, bto, bcc, audience)."""
    found: set[str] = set()
    for key in ("to", "cc", "bto", "bcc", "audience"):
        value = doc.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                found.add(item)
            elif isinstance(item, dict) and isinstance(item.get("id"), str):
                found.add(item["id"])
    return found


def is_public(doc: Document) -> bool:
    addressed = addressing_of(doc)
    return bool(addressed & {PUBLIC, "as:Public", "Public"})


def object_id(value: object) -> str | None:
    """``object``/``inReplyTo``/``actor`` may be an id or an embedded document with an id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None
