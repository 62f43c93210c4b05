"""Remote threads on thread pages: remote HTML sanitised at arrival and shown as stored, the server a post
came from named, a Mastodon thread without a title named by its first sentence, and members' threads in a
group of another server shown pending until it announces them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from madeopen.app import Services
from storage.models import Activity, Delivery, Follow, Object
from tests.inbox_outbox.content_support import (
    PUBLIC, ContentPeer, create, join, lemmy_comment, lemmy_page, mastodon_note, receive,
)
from tests.support.web_ui import UI, second_ui, ui  # noqa: F401  (fixtures)
from tests.web.threads_support import (  # noqa: F401  (fixtures: settings, peer)
    BASE, HOSTILE_HTML, all_objects, assert_inert, object_by_uri, peer, settings, setup_garden, text_of,
)


async def test_remote_post_is_sanitised_and_names_its_server(
    ui: UI, services: Services, peer: ContentPeer
) -> None:
    await setup_garden(services)
    alice = peer.add_actor("alice", name="Alice <b>Remote</b>")
    await join(services, "garden", alice)
    page_doc = peer.serve(lemmy_page(alice, f"{BASE}/groups/garden", name="Remote <i>thread</i>", content=HOSTILE_HTML,
                                     url=peer.url("/post/remote-thread-pretty")))
    outcome = await receive(services, alice, create(alice, page_doc))
    assert outcome.state == "done", outcome.error
    async with services.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == page_doc["id"]))
    assert stored is not None
    comment = lemmy_comment(alice, f"{BASE}/groups/garden", page_doc["id"], content=HOSTILE_HTML)
    assert (await receive(services, alice, create(alice, comment))).state == "done"

    group_page = await ui.page("/groups/garden")
    assert f'href="/posts/{stored.id}"' in group_page
    assert f"by Alice Remote · {peer.host}" in text_of(group_page)
    page = await ui.page(f"/posts/{stored.id}")
    assert_inert(page)
    text = text_of(page)
    assert f"Alice Remote · {peer.host}" in text and "Remote bold words" in text and "fine link" in text
    assert "<b>bold</b>" in page and 'href="https://example.org/ok"' in page
    assert f'<a href="{peer.url("/post/remote-thread-pretty")}" rel="nofollow noopener">Original on {peer.host}</a>' in page
    comment_link = re.search(r'<a href="([^"]+)" rel="nofollow noopener">Original on', page[page.index("thread-replies"):])
    assert comment_link and comment_link.group(1) == comment["id"]  # no url: its id

    await ui.log_in("bea")  # a local member replies to the remote thread
    response = await ui.post(f"/posts/{stored.id}/reply", {"body": "Welcome, Alice!"})
    assert response.status == 303 and response.headers["Location"].startswith(f"/posts/{stored.id}#post-")
    assert "Welcome, Alice!" in await ui.page(f"/posts/{stored.id}")
    local_ids = [obj.id for obj in await all_objects(services) if obj.local]
    response = await ui.get(f"/posts/{local_ids[0]}")  # ours live at their ids
    assert response.status == 303 and response.headers["Location"].startswith("/objects/")


async def test_untitled_mastodon_thread_is_named_by_its_first_sentence(
    ui: UI, services: Services, peer: ContentPeer
) -> None:
    """Issue #10 item 5: a thread started by a Mastodon mention has no name; every list and page that
    names it uses its first sentence, without the group mention, as Lemmy and PieFed do."""
    await setup_garden(services)
    alice = peer.add_actor("alice", name="Alice")
    await join(services, "garden", alice)
    content = (f'<p><span class="h-card"><a href="{BASE}/groups/garden" class="u-url mention">@<span>garden</span>'
               f'</a></span> <a href="{BASE}/users/bea" class="u-url mention">@bea</a> Seed swap on Saturday? '
               "Bring jars.</p><p>More details later.</p>")
    note = mastodon_note(alice, f"{BASE}/groups/garden", content=content,
                         tag=[{"type": "Mention", "href": f"{BASE}/groups/garden", "name": "@garden@node.test"},
                              {"type": "Mention", "href": f"{BASE}/users/bea", "name": "@bea@node.test"}])
    assert (await receive(services, alice, create(alice, note))).state == "done"
    stored = await object_by_uri(services, note["id"])
    assert stored.name == ""  # stored as sent: the title is derived where it is shown

    title = "Seed swap on Saturday?"
    group_page = await ui.page("/groups/garden")
    assert f'href="/posts/{stored.id}">{title}</a>' in group_page and "(untitled)" not in group_page
    assert f"<h1>{title}</h1>" in await ui.page(f"/posts/{stored.id}")
    await ui.log_in("bea")
    assert f'<a href="/posts/{stored.id}">{title}</a>' in await ui.page("/home")
    assert f"<strong>{title}</strong>" in await ui.page("/search?q=jars")
    assert f">{title}</a>" in await ui.page("/notifications")  # bea was mentioned in it


# --- a thread in a group of another server (issue #10 items 9 and 10) -----------------------------------


async def test_members_start_threads_in_a_remote_group_shown_pending_until_announced(
    ui: UI, second_ui: UI, services: Services, peer: ContentPeer
) -> None:
    await setup_garden(services)
    lemmings = peer.add_actor("lemmings", actor_type="Group", name="Lemmings")
    assert services.remote is not None
    await services.remote.resolve(lemmings.id)
    async with services.sessions.begin() as session:
        for name in ("bea", "cy"):
            session.add(Follow(follower_uri=f"{BASE}/users/{name}", followee_uri=lemmings.id, state="accepted"))
    group_page, form = f"/remote-group?id={quote(lemmings.id, safe='')}", f"/remote-group/new?id={quote(lemmings.id, safe='')}"

    await ui.log_in("ada")  # not a member: no composer, and the form is refused
    assert "Start a thread" not in await ui.page(group_page)
    assert (await ui.get(form)).status == 403
    assert (await ui.post("/remote-group/new", {"id": lemmings.id, "title": "Hi", "body": "x"})).status == 403

    await ui.log_in("bea")
    assert 'href="/remote-group/new?id=' in await ui.page(group_page)
    composer = await ui.page(form)
    assert "Lemmings is a group on" in composer and 'action="/remote-group/new"' in composer
    bad = await ui.post("/remote-group/new", {"id": lemmings.id, "title": "", "body": "No title"})
    assert bad.status == 400 and "No title" in await bad.text()
    assert [obj for obj in await all_objects(services) if obj.local] == []
    assert (await ui.post("/remote-group/new", {"id": "https://nowhere.example/g", "title": "T", "body": "x"})).status == 404

    response = await ui.post("/remote-group/new", {"id": lemmings.id, "title": "Seed swap", "body": "Who has **seeds**?"})
    assert response.status == 303 and response.headers["Location"].startswith("/objects/")
    page = await ui.page(response.headers["Location"])
    assert "Your thread is sent to Lemmings" in page and "Pending:" in text_of(page)
    assert "Seed swap Pending: waiting for the group to accept it" in text_of(await ui.page(group_page))
    [post] = [obj for obj in await all_objects(services) if obj.local]
    async with services.sessions() as session:  # the Create{Page} goes to the group's inbox (FEP-1b12)
        inboxes = set(await session.scalars(select(Delivery.inbox).join(Activity, Activity.id == Delivery.activity_id)
                                            .where(Activity.type == "Create", Activity.object_uri == post.uri)))
        create = await session.scalar(select(Activity.document).where(Activity.object_uri == post.uri))
    assert inboxes == {lemmings.inbox} and create["object"]["type"] == "Page" and create["to"] == [lemmings.id]

    await second_ui.log_in("cy")  # another member here: nothing until the group accepts it
    assert "Seed swap" not in await second_ui.page(group_page)
    announce = {"@context": "https://www.w3.org/ns/activitystreams", "id": peer.url(f"/activities/announce/{post.id}"),
                "type": "Announce", "actor": lemmings.id, "object": create, "to": [PUBLIC]}
    assert (await receive(services, lemmings, announce)).state == "done"
    assert "Seed swap" in await second_ui.page(group_page)
    assert "Pending:" not in text_of(await ui.page(response.headers["Location"]))

    # cy replies: "sent", not "posted"; it counts once the group announces it (issue #10 item 10).
    thread = response.headers["Location"]
    answered = await second_ui.post(f"/posts/{post.id}/reply", {"body": "Me! Tomatoes."}, form_page=thread)
    assert answered.status == 303
    page = await second_ui.page(answered.headers["Location"].split("#")[0])
    assert "Your reply is sent to the group. It counts once the group accepts it." in page
    assert "Me! Tomatoes." in page and "Pending:" in text_of(page)
    assert "Me! Tomatoes." not in await ui.page(thread)  # bea (the thread's author) does not see it yet


async def test_members_start_an_idea_in_a_remote_group_with_its_kind(
    ui: UI, services: Services, peer: ContentPeer
) -> None:
    """The remote-group composer offers the kinds of the local one (issue #12); the kind travels as
    ``threadKind`` in the Create{Page} sent to the group; an unknown kind is a 400 and sends nothing."""
    await setup_garden(services)
    shop = peer.add_actor("shop", actor_type="Group", name="Shop")
    assert services.remote is not None
    await services.remote.resolve(shop.id)
    async with services.sessions.begin() as session:
        session.add(Follow(follower_uri=f"{BASE}/users/bea", followee_uri=shop.id, state="accepted"))
    await ui.log_in("bea")
    composer = await ui.page(f"/remote-group/new?id={quote(shop.id, safe='')}")
    for kind in ("discussion", "idea", "concern", "question"):
        assert f'value="{kind}"' in composer, kind
    bad = await ui.post("/remote-group/new", {"id": shop.id, "title": "Dark mode", "body": "x", "kind": "rant"})
    assert bad.status == 400 and "rant" in await bad.text()
    assert [obj for obj in await all_objects(services) if obj.local] == []

    sent = await ui.post("/remote-group/new", {"id": shop.id, "title": "Dark mode", "body": "Please.", "kind": "idea"})
    assert sent.status == 303
    [post] = [obj for obj in await all_objects(services) if obj.local]
    assert post.kind == "idea"
    async with services.sessions() as session:
        create = await session.scalar(select(Activity.document).where(Activity.object_uri == post.uri))
    assert create["object"]["type"] == "Page" and create["object"]["threadKind"] == "idea"
    assert create["object"]["threadStatus"] == "open"


# --- remote HTML sanitised once, at arrival (issue #13, speed) -----------------------------------------


async def _remote_thread(services: Services, peer: ContentPeer) -> Object:
    await setup_garden(services)
    alice = peer.add_actor("alice", name="Alice")
    await join(services, "garden", alice)
    page_doc = peer.serve(lemmy_page(alice, f"{BASE}/groups/garden", name="Remote thread", content=HOSTILE_HTML,
                                     url=peer.url("/post/remote-thread")))
    assert (await receive(services, alice, create(alice, page_doc))).state == "done"
    return await object_by_uri(services, page_doc["id"])


def _no_sanitising(monkeypatch: pytest.MonkeyPatch) -> None:
    from federation import html as sanitiser

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("sanitised again while showing a page")

    monkeypatch.setattr(sanitiser, "clean", refuse)


async def test_a_remote_post_is_shown_as_stored_without_sanitising_it_again(
    ui: UI, services: Services, peer: ContentPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot path of a member's thread page: remote HTML sanitised at arrival by the current policy is
    shown as stored; the sanitiser is not run per view."""
    from federation.html import SANITISE_POLICY_VERSION

    stored = await _remote_thread(services, peer)
    assert stored.sanitised_version == SANITISE_POLICY_VERSION and "<script" not in stored.content
    await ui.log_in("bea")
    _no_sanitising(monkeypatch)
    page = await ui.page(f"/posts/{stored.id}")
    assert_inert(page)
    assert "Remote bold words" in text_of(page) and "<b>bold</b>" in page


async def test_a_remote_post_stored_under_an_older_policy_is_sanitised_before_it_is_shown(
    ui: UI, services: Services, peer: ContentPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row an older, laxer policy let through (here: the hostile HTML as it came) never reaches a browser
    as stored: pages sanitise it again, and content.resanitise rewrites it under the current policy."""
    from content.resanitise import resanitise
    from federation.html import SANITISE_POLICY_VERSION

    stored = await _remote_thread(services, peer)
    for old in (None, SANITISE_POLICY_VERSION - 1):
        async with services.sessions.begin() as session:
            row = await session.get(Object, stored.id)
            assert row is not None
            row.content, row.sanitised_version = HOSTILE_HTML, old
        await ui.log_in("bea")
        page = await ui.page(f"/posts/{stored.id}")
        assert_inert(page)
        assert "Remote bold words" in text_of(page)
        feed = await (await ui.get("/feeds/groups/garden.atom")).text()
        assert "<script" not in html.unescape(feed) and "onerror" not in html.unescape(feed)

    assert await resanitise(services.sessions, batch=1) == 1
    row = await object_by_uri(services, stored.uri)
    assert row.sanitised_version == SANITISE_POLICY_VERSION
    assert "<script" not in row.content and "onerror" not in row.content and "javascript:" not in row.content
    assert "<b>bold</b>" in row.content
    assert await resanitise(services.sessions) == 0  # nothing older left
    _no_sanitising(monkeypatch)
    page = await ui.page(f"/posts/{stored.id}")
    assert_inert(page)
    assert "Remote bold words" in text_of(page)
