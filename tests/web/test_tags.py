"""Hashtags (issue #16, #15 tag feeds): `#tag` in a local post links to /tags/<tag>; the tag page lists
public posts with it (ours and a remote Mastodon status's Hashtag tag) and people with that skill; its
Atom/RSS feeds parse; the post federates Hashtag tags."""

from __future__ import annotations

import feedparser

from actors import local
from madeopen.app import Services
from people import profiles
from tests.inbox_outbox.content_support import (
    ContentPeer, create, group, join_local, mastodon_note, published, receive,
)
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)
from tests.web.threads_support import BASE, peer, settings  # noqa: F401  (fixtures: the content peer on 127.0.0.1)


async def test_hashtags_link_list_federate_and_feed(ui: UI, services: Services, peer: ContentPeer) -> None:
    await create_person(services, "ada")
    await create_person(services, "bea")
    await group(services, "garden", owner="ada")
    await group(services, "secret", owner="ada", private=True)
    await join_local(services, "garden", "bea")
    await join_local(services, "secret", "bea")
    async with services.sessions.begin() as session:
        ada = await local.find_person(session, "ada")
        await profiles.update_profile(session, services.urls, ada.id, profiles.ProfileChange(
            skills="leeks, pruning", discoverable=True))
    await ui.log_in("bea")
    response = await ui.post("/groups/garden/new", {"title": "Leek day", "body": "Planting #Leeks today"})
    assert response.status == 303
    page = await ui.page(response.headers["Location"])
    assert f'<a href="{BASE}/tags/leeks" class="mention hashtag" rel="nofollow noopener">#<span>Leeks</span></a>' in page
    await ui.post("/groups/secret/new", {"title": "Hidden", "body": "secret #leeks plan"})

    sent = [doc for doc in await published(services, kind="Create") if doc["object"].get("name") == "Leek day"]
    assert {"type": "Hashtag", "name": "#leeks", "href": f"{BASE}/tags/leeks"} in sent[0]["object"]["tag"]

    bob = peer.add_actor("bob", name="Bob")
    note = mastodon_note(bob, f"{BASE}/users/ada", handle="@ada@node.test",
                         content='<p>My <a href="https://peer/tags/leeks" class="mention hashtag">#<span>leeks</span></a></p>')
    note["tag"].append({"type": "Hashtag", "name": "#Leeks", "href": f"{peer.base_url}/tags/leeks"})
    assert (await receive(services, bob, create(bob, note))).state == "done"

    page = await ui.page("/tags/leeks")
    assert "<h1>#leeks</h1>" in page
    assert "Leek day" in page and "My" in page and "Hidden" not in page  # private groups' posts never
    assert 'href="/feeds/tags/leeks.atom"' in page and 'rel="alternate" type="application/atom+xml"' in page
    assert "ada@node.test" in page  # a person with the skill
    assert (await ui.get("/tags/LEEKS")).headers["Location"] == "/tags/leeks"
    assert (await ui.get("/tags/no%20such")).headers["Location"] == "/people?tag=no+such"  # a profile tag

    for fmt in ("atom", "rss"):
        response = await ui.client.get(f"/feeds/tags/leeks.{fmt}")
        assert response.status == 200
        parsed = feedparser.parse(await response.text())
        assert not parsed.bozo, parsed.bozo_exception
        titles = [entry.title for entry in parsed.entries]
        assert "Leek day" in titles and "Hidden" not in titles and len(titles) == 2
