"""Recognition on the wire (issue #17; PROTOCOL.md "Recognition"): kudos in, awards out. Plain dicts.

Kudos: a ``Like`` with our extension term ``kudos: true``, or an emoji reaction with a thank-you emoji
(Misskey's ``Like`` with ``_misskey_reaction``, Pleroma/Akkoma's ``EmojiReact`` with ``content``). A plain
``Like`` stays a vote.

Awards: a group publishes ``Add{Award}`` to the member (``target``: the member's ``badges`` collection
when their actor names one, else their id). The Award borrows Open Badges 3.0's shape for what was
achieved (``achievement``: ``Achievement`` with ``name``, ``description``, ``criteria.narrative``), so an
Open Badges reader finds the parts it knows; the AS2 side (``name``, ``summary``, ``attributedTo``)
reads as an ordinary object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.context import AS2, MADEOPEN_NS
from federation.object_fields import id_of

THANKS_EMOJI = frozenset({"🙏", "👏", "🏅", "🎉", "💐", ":thanks:", ":kudos:"})
OPEN_BADGES = "https://purl.imsglobal.org/spec/ob/v3p0/vocab.html#"
RECOGNITION_CONTEXT: dict[str, object] = {
    "madeopen": MADEOPEN_NS,
    "kudos": "madeopen:kudos",
    "Award": "madeopen:Award",
    "recipient": {"@id": "madeopen:recipient", "@type": "@id"},
    "badges": {"@id": "madeopen:badges", "@type": "@id"},
    "achievement": {"@id": OPEN_BADGES + "achievement"},
    "Achievement": OPEN_BADGES + "Achievement",
    "criteria": {"@id": OPEN_BADGES + "criteria"},
    "narrative": {"@id": OPEN_BADGES + "narrative"},
}


class InvalidAward(ValueError):
    """An Award of the wrong shape; the message says what is missing."""


def is_kudos(activity: dict[str, Any]) -> bool:
    """Whether a Like or EmojiReact is a thank-you rather than a vote."""
    if activity.get("type") == "Like" and activity.get("kudos") is True:
        return True
    emoji = activity.get("_misskey_reaction") if activity.get("type") == "Like" else (
        activity.get("content") if activity.get("type") == "EmojiReact" else None)
    return isinstance(emoji, str) and emoji.strip().replace("\ufe0f", "") in THANKS_EMOJI


@dataclass(frozen=True)
class Award:
    id: str
    group: str
    recipient: str
    name: str
    description: str
    key: str


def render_award(award_id: str, group_uri: str, recipient: str, key: str, name: str, description: str,
                 published: datetime) -> dict[str, Any]:
    return {
        "id": award_id,
        "type": "Award",
        "attributedTo": group_uri,
        "recipient": recipient,
        "name": name,
        "summary": description,
        "published": published.isoformat().replace("+00:00", "Z"),
        "achievement": {"id": f"{group_uri}/badges#{key}", "type": "Achievement", "name": name,
                        "description": description, "criteria": {"narrative": description}},
    }


def add_award(activity_id: str, group_uri: str, award: dict[str, Any], target: str) -> dict[str, Any]:
    return {"@context": [AS2, RECOGNITION_CONTEXT], "id": activity_id, "type": "Add", "actor": group_uri,
            "object": award, "target": target, "to": [award["recipient"]]}


def parse_award(doc: Any) -> Award:
    if not isinstance(doc, dict) or doc.get("type") != "Award":
        raise InvalidAward("not an Award")
    award_id, group, recipient = id_of(doc.get("id")), id_of(doc.get("attributedTo")), id_of(doc.get("recipient"))
    name = doc.get("name")
    if award_id is None or group is None or recipient is None or not isinstance(name, str) or not name.strip():
        raise InvalidAward("an Award needs an id, attributedTo, recipient and name")
    summary = doc.get("summary")
    achievement = doc.get("achievement")
    key = id_of(achievement.get("id")) if isinstance(achievement, dict) else None
    return Award(id=award_id, group=group, recipient=recipient, name=name.strip()[:200],
                 description=summary.strip()[:2000] if isinstance(summary, str) else "",
                 key=(key or award_id).rsplit("#", 1)[-1][:80])


def speaks_made_open(actor_document: dict[str, Any]) -> bool:
    """A Made Open node's actor names our namespace in its context (it shows Awards itself)."""
    return MADEOPEN_NS in repr(actor_document.get("@context"))


def wants_badge_notes(actor_document: dict[str, Any]) -> bool:
    """The member opted in to a mention Note for each badge: ``#BadgeNotes`` in their profile (Mastodon
    lists a bio's hashtags in the actor's ``tag``)."""
    tags = actor_document.get("tag")
    return isinstance(tags, list) and any(
        isinstance(tag, dict) and str(tag.get("name", "")).lower() == "#badgenotes" for tag in tags)
