"""Local actors as AS2 documents (actors/documents.py): what a suspended person's document keeps and drops."""

from __future__ import annotations

from actors import documents, local
from madeopen.app import Services

PASSWORD = "correct horse battery"


def suspended_definitions(context: object) -> list[object]:
    """Every definition of the term ``suspended`` in a JSON-LD ``@context`` (a list of strings and maps)."""
    items = context if isinstance(context, list) else [context]
    return [item["suspended"] for item in items if isinstance(item, dict) and "suspended" in item]


async def test_a_suspended_person_keeps_keys_and_ids_but_no_profile(services: Services) -> None:
    async with services.sessions.begin() as session:
        person = await local.create_person(
            session, local.NewPerson(username="dora", password=PASSWORD, display_name="Dora Sailor")
        )
        person.summary, person.avatar = "I *fix* nets", "0123456789abcdef.png"
        assert person.account is not None
        full = documents.actor_document(person, services.urls)
        person.account.suspended = True
        withheld = documents.actor_document(person, services.urls)
        person.account.suspended = False
        again = documents.actor_document(person, services.urls)

    assert "suspended" not in full and full["name"] == "Dora Sailor" and "icon" in full and "<em>fix</em>" in str(full)
    assert again == full  # lifting the suspension restores the very same document
    # Mastodon's ActorSerializer for a suspended account: the username as name, no summary, icon, fields
    # or tags, not discoverable; and `suspended: true` (toot:suspended, defined in the context).
    assert withheld["suspended"] is True
    assert suspended_definitions(withheld["@context"]) == ["toot:suspended"]  # defined once, as Mastodon does
    assert withheld["@context"] == full["@context"]  # the extension context defines it for every document
    assert withheld["name"] == "dora" and withheld["summary"] == "" and withheld["discoverable"] is False
    assert "icon" not in withheld and withheld["attachment"] == [] and withheld["tag"] == []
    # What peers need to keep verifying its signatures and to find it again stays the same.
    for key in ("id", "type", "preferredUsername", "url", "inbox", "outbox", "followers", "following", "featured",
                "endpoints", "publicKey", "assertionMethod", "published"):
        assert withheld[key] == full[key], key
