"""Thread pages as a browser uses them (without one): starting a thread, replies nested by inReplyTo,
likes and dislikes, editing and deleting, the moderators' pin, lock and remove, private groups' threads
(members only, logged in), and hostile content, local Markdown and remote HTML, never reaching the page
as markup. Permissions: 403 branded page (or 404 where existence must not leak) and nothing changed.
"""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from sqlalchemy import select

from actors import local
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import Activity, Delivery, Featured, Follow, Membership, Object, Reaction
from tests.inbox_outbox.content_support import (
    PUBLIC, ContentPeer, create, join, lemmy_comment, lemmy_page, mastodon_note, receive,
)
from tests.support.web_ui import (  # noqa: F401  (fixtures)
    UI, create_person, second_ui, ui,
)

BASE = "https://node.test"
AS2 = "application/activity+json"
HOSTILE_MARKDOWN = (
    "Hello <script>window.pwned=1</script> there\n\n"
    "[click me](javascript:window.pwned=2) and <img src=x onerror=\"window.pwned=3\">\n\n"
    "<a href=\"javascript:alert(1)\" onclick=\"alert(2)\">raw link</a>"
)
HOSTILE_HTML = (
    '<p>Remote <b>bold</b> words<script>window.pwned=4</script></p>'
    '<img src="x" onerror="window.pwned=5"><a href="javascript:window.pwned=6">js link</a>'
    '<a href="https://example.org/ok" onclick="window.pwned=7" style="color:red">fine link</a>'
    '<iframe src="https://evil.example/"></iframe><svg onload="window.pwned=8"></svg>'
    '<form action="/logout" method="post"><button>Log out</button></form>'
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, allow_private_addresses=True)  # the peer is on 127.0.0.1


@pytest.fixture
async def peer() -> AsyncIterator[ContentPeer]:
    async with ContentPeer() as running:
        yield running


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _setup(services: Services, *, private: bool = False) -> None:
    for name in ("ada", "bea", "cy"):
        await create_person(services, name)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", private=private,
                                                         title="Community Garden"))
        group = await local.find_group(session, "garden")
        bea = await local.find_person(session, "bea")
        session.add(Membership(group_id=group.id, local_actor_id=bea.id, role="member", state="accepted"))


async def _object(services: Services, path: str) -> Object:
    async with services.sessions() as session:
        found = await session.scalar(select(Object).where(Object.uri == BASE + path.split("#")[0]))
    assert found is not None, path
    return found


async def _objects(services: Services) -> list[Object]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Object).order_by(Object.id)))


async def _start(ui: UI, title: str = "Tomato blight", body: str = "Leaves **turn brown**.") -> str:
    response = await ui.post("/groups/garden/new", {"title": title, "body": body})
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location.startswith("/objects/")
    return location


# --- starting a thread -----------------------------------------------------------------------------------


async def test_start_a_thread(ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("bea")
    form = await ui.page("/groups/garden/new")
    assert "New thread in Community Garden" in form and '<label for="title">Title</label>' in form

    response = await ui.post("/groups/garden/new", {"title": "  ", "body": "kept *text*"})
    page = await response.text()
    assert response.status == 400 and 'id="title-error"' in page and "give the thread a title" in page
    assert "kept *text*" in page
    response = await ui.post("/groups/garden/new", {"title": "t" * 201, "body": "b" * 50_001})
    page = await response.text()
    assert response.status == 400 and 'id="title-error"' in page and 'id="body-error"' in page
    assert await _objects(services) == []

    path = await _start(ui)
    page = await ui.page(path)
    assert "<h1>Tomato blight</h1>" in page and "<strong>turn brown</strong>" in page
    assert "Your thread is posted" in _text(page)
    group_page = await ui.page("/groups/garden")
    assert f'href="{path}">Tomato blight</a>' in group_page
    assert "by bea" in _text(group_page)


async def test_outsiders_cannot_start_threads(ui: UI, services: Services) -> None:
    await _setup(services, private=True)
    response = await ui.get("/groups/garden/new")
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    await ui.log_in("cy")  # not a member of the private group
    response = await ui.get("/groups/garden/new")
    assert response.status == 403 and "only its members can start threads" in await response.text()
    response = await ui.post("/groups/garden/new", {"title": "Hi", "body": "let me in"})
    assert response.status == 403
    response = await ui.post("/groups/garden/new", {"title": "Hi", "body": "no token"}, with_token=False)
    assert response.status == 403
    assert await _objects(services) == []


# --- replies ---------------------------------------------------------------------------------------------


async def test_replies_are_nested_by_in_reply_to(ui: UI, second_ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("ada")
    path = await _start(ui)
    thread = await _object(services, path)
    await second_ui.log_in("bea")
    response = await second_ui.post(f"/posts/{thread.id}/reply", {"body": "Same here, *again*."})
    assert response.status == 303
    first = response.headers["Location"]
    assert first.startswith(path + "#post-")
    first_id = int(first.rsplit("-", 1)[1])
    response = await ui.post(f"/posts/{first_id}/reply", {"body": "Try copper spray."})
    assert response.status == 303
    nested_id = int(response.headers["Location"].rsplit("-", 1)[1])

    page = await ui.page(path)
    assert "2 replies" in _text(page)
    # The nested reply sits in a list inside the first reply's list item.
    first_at = page.index(f'id="post-{first_id}"')
    nested_at = page.index(f'id="post-{nested_id}"')
    between = page[first_at:nested_at]
    assert '<ol class="replies">' in between and "<em>again</em>" in between
    assert f'<label for="reply-{first_id}">Your reply to bea</label>' in page  # each reply has its own form

    # The reply's own page shows it with its replies, and where it belongs.
    reply = await _object(services, "/objects/" + (await _objects(services))[1].uri.rsplit("/", 1)[1])
    reply_page = _text(await ui.page(reply.uri[len(BASE):]))
    assert "A reply in Tomato blight" in reply_page and "Try copper spray." in reply_page



class _Lists(HTMLParser):
    """Which list of replies each post sits in: post id -> the id of the post whose replies list holds it
    (None: the thread's top list)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []  # per open <li>/<ol>: the post in that <li>, "ol" for a list
        self.parent_of: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("ol", "li"):
            self.stack.append("ol" if tag == "ol" else None)
        elif tag == "article" and self.stack and (found.get("id") or "").startswith("post-"):
            post = (found["id"] or "")[len("post-"):]
            self.stack[-1] = post
            outer = [entry for entry in self.stack[:-1] if entry not in (None, "ol")]
            self.parent_of[post] = outer[-1] if outer else None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ol", "li") and self.stack:
            self.stack.pop()


async def test_reply_forms_and_lists_of_a_deep_thread(ui: UI, second_ui: UI, services: Services) -> None:
    """Every reply has its own reply form, named after its author (escaped), and the lists close where
    the tree says: a later reply to the thread sits in the top list, not under the deep one before it."""
    await _setup(services)
    async with services.sessions.begin() as session:
        (await local.find_person(session, "bea")).display_name = 'Bea <b>"&"</b>'
    await ui.log_in("ada")
    path = await _start(ui)
    thread = await _object(services, path)
    await second_ui.log_in("bea")

    async def reply(client: UI, to: int, body: str) -> int:
        response = await client.post(f"/posts/{to}/reply", {"body": body})
        assert response.status == 303
        return int(response.headers["Location"].rsplit("-", 1)[1])

    first = await reply(second_ui, thread.id, "First.")
    second = await reply(ui, first, "Under the first.")
    third = await reply(second_ui, second, "Under that.")
    last = await reply(ui, thread.id, "A new reply to the thread.")
    page = await ui.page(path)

    lists = _Lists()
    lists.feed(page[page.index('id="replies-heading"'):])
    assert lists.parent_of == {str(first): None, str(second): str(first), str(third): str(second), str(last): None}
    for post, author in ((first, 'Bea &lt;b&gt;&#34;&amp;&#34;&lt;/b&gt;'), (second, "ada"), (third, 'Bea &lt;b&gt;&#34;&amp;&#34;&lt;/b&gt;'), (last, "ada")):
        assert f'<form method="post" action="/posts/{post}/reply"' in page
        assert f'<label for="reply-{post}">Your reply to {author}</label>' in page
        assert f'<textarea id="reply-{post}" name="body"' in page
    assert "<b>\"&\"</b>" not in page

async def test_reply_errors_keep_the_text_and_change_nothing(ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("ada")
    path = await _start(ui)
    thread = await _object(services, path)
    response = await ui.post(f"/posts/{thread.id}/reply", {"body": "   "})
    page = await response.text()
    assert response.status == 400
    assert f'id="reply-{thread.id}-error"' in page and "write something" in page
    response = await ui.post(f"/posts/{thread.id}/reply", {"body": "x" * 50_001})
    page = await response.text()
    assert response.status == 400 and "at most 50000 characters" in page and "x" * 100 in page
    assert len(await _objects(services)) == 1
    response = await ui.post(f"/posts/{thread.id}/reply", {"body": "no token"}, with_token=False)
    assert response.status == 403
    response = await ui.post("/posts/999999/reply", {"body": "to nothing"})
    assert response.status == 404
    for path in ("/posts/999999999", "/posts/99999999999999999999", "/posts/abc"):
        response = await ui.get(path)
        assert response.status == 404 and "<h1>Not found</h1>" in await response.text(), path
    assert len(await _objects(services)) == 1


# --- votes -----------------------------------------------------------------------------------------------


async def test_like_dislike_and_take_back(ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("ada")
    path = await _start(ui)
    thread = await _object(services, path)
    page = await ui.page(path)
    assert re.search(r'value="like"[^>]*aria-pressed="false">Like <span class="count">0</span>', page)

    response = await ui.post(f"/posts/{thread.id}/vote", {"vote": "like"})
    assert response.status == 303 and response.headers["Location"] == f"{path}#post-{thread.id}"
    page = await ui.page(path)
    assert re.search(r'value="undo"[^>]*aria-pressed="true">Like <span class="count">1</span>', page)
    await ui.post(f"/posts/{thread.id}/vote", {"vote": "dislike"})
    page = await ui.page(path)
    assert re.search(r'aria-pressed="false">Like <span class="count">0</span>', page)
    assert re.search(r'aria-pressed="true">Dislike <span class="count">1</span>', page)
    await ui.post(f"/posts/{thread.id}/vote", {"vote": "undo"})
    assert (await _object(services, path)).dislike_count == 0
    response = await ui.post(f"/posts/{thread.id}/vote", {"vote": "love"})
    assert response.status == 400
    response = await ui.post(f"/posts/{thread.id}/vote", {"vote": "like"}, with_token=False)
    assert response.status == 403
    async with services.sessions() as session:
        assert list(await session.scalars(select(Reaction))) == []


# --- editing and deleting --------------------------------------------------------------------------------


async def test_author_edits_and_deletes_others_cannot(ui: UI, second_ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("bea")
    path = await _start(ui)
    thread = await _object(services, path)
    page = await ui.page(path)
    assert f'href="/posts/{thread.id}/edit"' in page and f'href="/posts/{thread.id}/delete"' in page

    form = await ui.page(f"/posts/{thread.id}/edit")
    assert "Leaves **turn brown**." in form and 'value="Tomato blight"' in form
    response = await ui.post(f"/posts/{thread.id}/edit", {"title": "", "body": "changed"})
    assert response.status == 400 and 'id="title-error"' in await response.text()
    response = await ui.post(f"/posts/{thread.id}/edit", {"title": "Blight, solved", "body": "Copper *works*."})
    assert response.status == 303
    page = await ui.page(path)
    assert "<h1>Blight, solved</h1>" in page and "<em>works</em>" in page and "edited" in _text(page)

    await second_ui.log_in("cy")  # not the author, not a moderator
    page = await second_ui.page(path)
    assert f'href="/posts/{thread.id}/edit"' not in page and f'href="/posts/{thread.id}/delete"' not in page
    for method, target in (("get", "edit"), ("post", "edit"), ("get", "delete"), ("post", "delete")):
        if method == "get":
            response = await second_ui.get(f"/posts/{thread.id}/{target}")
        else:
            response = await second_ui.post(f"/posts/{thread.id}/{target}", {"title": "Hacked", "body": "x"})
        assert response.status == 403, (method, target)
        assert "<h1>Forbidden</h1>" in await response.text()
    assert (await _object(services, path)).name == "Blight, solved"

    confirm = await ui.page(f"/posts/{thread.id}/delete")
    assert "Delete this post?" in confirm and "This cannot be undone" in confirm
    response = await ui.post(f"/posts/{thread.id}/delete", {})
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    assert (await _object(services, path)).deleted
    response = await ui.get(path)
    assert response.status == 410 and "This post was deleted." in await response.text()


# --- private groups --------------------------------------------------------------------------------------


async def test_private_threads_are_for_logged_in_members(ui: UI, second_ui: UI, services: Services) -> None:
    await _setup(services, private=True)
    await ui.log_in("bea")  # a member
    path = await _start(ui, title="Budget 2027", body="Numbers inside.")
    thread = await _object(services, path)
    assert "Budget 2027" in await ui.page(path)
    assert "Budget 2027" in await ui.page("/groups/garden")

    response = await second_ui.get(path)  # nobody logged in
    assert response.status == 404 and "Budget" not in await response.text()
    response = await second_ui.client.get(path, headers={"Accept": AS2})
    assert response.status == 404
    assert "its threads are for its members" in _text(await second_ui.page("/groups/garden"))
    await second_ui.log_in("cy")  # logged in, not a member
    for target in (path, f"/posts/{thread.id}"):
        response = await second_ui.get(target)
        assert response.status == 404 and "Budget" not in await response.text()
    assert "Budget" not in await second_ui.page("/groups/garden")
    for action, fields in (("reply", {"body": "let me in"}), ("vote", {"vote": "like"}), ("delete", {}),
                           ("moderate", {"action": "pin"})):
        response = await second_ui.post(f"/posts/{thread.id}/{action}", fields)
        assert response.status == 404, action
    assert len(await _objects(services)) == 1 and (await _object(services, path)).like_count == 0


# --- moderators ------------------------------------------------------------------------------------------


async def test_moderators_pin_lock_and_remove_others_cannot(ui: UI, second_ui: UI, services: Services) -> None:
    await _setup(services)
    await second_ui.log_in("bea")
    older = await _start(second_ui, title="Older thread", body="first")
    path = await _start(second_ui, title="Pin me", body="important")
    thread = await _object(services, path)
    response = await second_ui.post(f"/posts/{thread.id}/reply", {"body": "a reply by bea"})
    reply_id = int(response.headers["Location"].rsplit("-", 1)[1])

    # bea is a member, not a moderator: no moderation buttons, and posting them anyway is refused.
    page = await second_ui.page(path)
    assert 'value="pin"' not in page and "Ban the author" not in page
    for action in ("pin", "lock"):
        response = await second_ui.post(f"/posts/{thread.id}/moderate", {"action": action})
        assert response.status == 403 and "not a moderator" in await response.text()
    async with services.sessions() as session:
        assert list(await session.scalars(select(Featured))) == []
    assert not (await _object(services, path)).locked

    await ui.log_in("ada")  # the owner
    older_thread = await _object(services, older)
    response = await ui.post(f"/posts/{older_thread.id}/moderate", {"action": "pin"})
    assert response.status == 303
    group_page = await ui.page("/groups/garden?sort=new")
    assert group_page.index("Older thread") < group_page.index("Pin me")  # pinned first
    assert re.search(r'Older thread</a>\s*<span class="badge badge--pinned">Pinned</span>', group_page)
    page = await ui.page(path)
    assert 'value="pin"' in page and 'href="/groups/garden/moderation?ban=https%3A//node.test/users/bea"' in page

    await ui.post(f"/posts/{thread.id}/moderate", {"action": "lock"})
    page = await second_ui.page(path)
    assert "This thread is locked: no new replies." in _text(page) and 'action="/posts/' + str(thread.id) + '/reply"' not in page
    response = await second_ui.post(f"/posts/{thread.id}/reply", {"body": "sneaky"})
    assert response.status == 403 and "locked" in await response.text()
    response = await ui.post(f"/posts/{thread.id}/moderate", {"action": "explode"})
    assert response.status == 400

    # A moderator removes bea's reply, with a reason.
    confirm = await ui.page(f"/posts/{reply_id}/delete")
    assert "You are removing it as a moderator" in confirm
    response = await ui.post(f"/posts/{reply_id}/delete", {"reason": "off topic"})
    assert response.status == 303 and response.headers["Location"] == path
    async with services.sessions() as session:
        assert (await session.get(Object, reply_id)).deleted  # type: ignore[union-attr]
    assert "a reply by bea" not in await ui.page(path)


# --- hostile content -------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _assert_inert(page: str) -> None:
    """No element of the page can run script or restyle or submit on the attacker's behalf: no script,
    iframe, svg or object element, no image but ours, no on* handler, no javascript: URL, no style
    attribute; the only form to /logout is the header's. (Escaped text such as ``&lt;script&gt;`` is fine: it is text.)"""
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        if tag == "script":  # ours only, by address (web/static): never one the content brought
            assert (dict(attrs).get("src") or "").startswith("/static/"), attrs
            continue
        assert tag not in ("iframe", "svg", "object", "embed"), tag
        if tag == "img":  # ours only (avatars, the logo, images uploaded here)
            assert (dict(attrs).get("src") or "").startswith(("/", f"{BASE}/media/")), attrs
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (tag, name, value)
    # The header's (twice: the wide row and the phone menu, base.html), never one the content brought.
    logout_forms = [attrs for tag, attrs in parser.tags if tag == "form" and ("action", "/logout") in attrs]
    assert len(logout_forms) <= 2 and all(("class", "inline-form") in attrs for attrs in logout_forms), logout_forms


async def test_hostile_markdown_is_inert(ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("bea")
    path = await _start(ui, title="<script>window.pwned=9</script>", body=HOSTILE_MARKDOWN)
    thread = await _object(services, path)
    await ui.post(f"/posts/{thread.id}/reply", {"body": HOSTILE_MARKDOWN})
    for target in (path, "/groups/garden", f"/posts/{thread.id}/delete", f"/posts/{thread.id}/edit"):
        page = await ui.page(target)
        assert "<script>window.pwned" not in page, target
        if target != f"/posts/{thread.id}/edit":  # the edit form shows the Markdown, escaped, in a textarea
            _assert_inert(page)
    page = await ui.page(path)
    assert "&lt;script&gt;window.pwned=9&lt;/script&gt;" in page  # the title, as text
    assert "click me" in page


async def test_remote_post_is_sanitised_and_names_its_server(
    ui: UI, services: Services, peer: ContentPeer
) -> None:
    await _setup(services)
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
    assert f"by Alice Remote · {peer.host}" in _text(group_page)
    page = await ui.page(f"/posts/{stored.id}")
    _assert_inert(page)
    text = _text(page)
    assert f"Alice Remote · {peer.host}" in text and "Remote bold words" in text and "fine link" in text
    assert "<b>bold</b>" in page and 'href="https://example.org/ok"' in page
    assert f'<a href="{peer.url("/post/remote-thread-pretty")}" rel="nofollow noopener">Original on {peer.host}</a>' in page
    comment_link = re.search(r'<a href="([^"]+)" rel="nofollow noopener">Original on', page[page.index("thread-replies"):])
    assert comment_link and comment_link.group(1) == comment["id"]  # no url: its id

    await ui.log_in("bea")  # a local member replies to the remote thread
    response = await ui.post(f"/posts/{stored.id}/reply", {"body": "Welcome, Alice!"})
    assert response.status == 303 and response.headers["Location"].startswith(f"/posts/{stored.id}#post-")
    assert "Welcome, Alice!" in await ui.page(f"/posts/{stored.id}")
    local_ids = [obj.id for obj in await _objects(services) if obj.local]
    response = await ui.get(f"/posts/{local_ids[0]}")  # ours live at their ids
    assert response.status == 303 and response.headers["Location"].startswith("/objects/")


async def test_untitled_mastodon_thread_is_named_by_its_first_sentence(
    ui: UI, services: Services, peer: ContentPeer
) -> None:
    """Issue #10 item 5: a thread started by a Mastodon mention has no name; every list and page that
    names it uses its first sentence, without the group mention, as Lemmy and PieFed do."""
    await _setup(services)
    alice = peer.add_actor("alice", name="Alice")
    await join(services, "garden", alice)
    content = (f'<p><span class="h-card"><a href="{BASE}/groups/garden" class="u-url mention">@<span>garden</span>'
               f'</a></span> <a href="{BASE}/users/bea" class="u-url mention">@bea</a> Seed swap on Saturday? '
               "Bring jars.</p><p>More details later.</p>")
    note = mastodon_note(alice, f"{BASE}/groups/garden", content=content,
                         tag=[{"type": "Mention", "href": f"{BASE}/groups/garden", "name": "@garden@node.test"},
                              {"type": "Mention", "href": f"{BASE}/users/bea", "name": "@bea@node.test"}])
    assert (await receive(services, alice, create(alice, note))).state == "done"
    stored = await _object_by_uri(services, note["id"])
    assert stored.name == ""  # stored as sent: the title is derived where it is shown

    title = "Seed swap on Saturday?"
    group_page = await ui.page("/groups/garden")
    assert f'href="/posts/{stored.id}">{title}</a>' in group_page and "(untitled)" not in group_page
    assert f"<h1>{title}</h1>" in await ui.page(f"/posts/{stored.id}")
    await ui.log_in("bea")
    assert f'<a href="/posts/{stored.id}">{title}</a>' in await ui.page("/home")
    assert f"<strong>{title}</strong>" in await ui.page("/search?q=jars")
    assert f">{title}</a>" in await ui.page("/notifications")  # bea was mentioned in it


async def _object_by_uri(services: Services, uri: str) -> Object:
    async with services.sessions() as session:
        found = await session.scalar(select(Object).where(Object.uri == uri))
    assert found is not None, uri
    return found


# --- a thread in a group of another server (issue #10 items 9 and 10) -----------------------------------


async def test_members_start_threads_in_a_remote_group_shown_pending_until_announced(
    ui: UI, second_ui: UI, services: Services, peer: ContentPeer
) -> None:
    await _setup(services)
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
    assert f'href="/remote-group/new?id=' in await ui.page(group_page)
    composer = await ui.page(form)
    assert "Lemmings is a group on" in composer and 'action="/remote-group/new"' in composer
    bad = await ui.post("/remote-group/new", {"id": lemmings.id, "title": "", "body": "No title"})
    assert bad.status == 400 and "No title" in await bad.text()
    assert [obj for obj in await _objects(services) if obj.local] == []
    assert (await ui.post("/remote-group/new", {"id": "https://nowhere.example/g", "title": "T", "body": "x"})).status == 404

    response = await ui.post("/remote-group/new", {"id": lemmings.id, "title": "Seed swap", "body": "Who has **seeds**?"})
    assert response.status == 303 and response.headers["Location"].startswith("/objects/")
    page = await ui.page(response.headers["Location"])
    assert "Your thread is sent to Lemmings" in page and "Pending:" in _text(page)
    assert "Seed swap Pending: waiting for the group to accept it" in _text(await ui.page(group_page))
    [post] = [obj for obj in await _objects(services) if obj.local]
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
    assert "Pending:" not in _text(await ui.page(response.headers["Location"]))

    # cy replies: "sent", not "posted"; it counts once the group announces it (issue #10 item 10).
    thread = response.headers["Location"]
    answered = await second_ui.post(f"/posts/{post.id}/reply", {"body": "Me! Tomatoes."}, form_page=thread)
    assert answered.status == 303
    page = await second_ui.page(answered.headers["Location"].split("#")[0])
    assert "Your reply is sent to the group. It counts once the group accepts it." in page
    assert "Me! Tomatoes." in page and "Pending:" in _text(page)
    assert "Me! Tomatoes." not in await ui.page(thread)  # bea (the thread's author) does not see it yet


async def test_members_start_an_idea_in_a_remote_group_with_its_kind(
    ui: UI, services: Services, peer: ContentPeer
) -> None:
    """The remote-group composer offers the kinds of the local one (issue #12); the kind travels as
    ``threadKind`` in the Create{Page} sent to the group; an unknown kind is a 400 and sends nothing."""
    await _setup(services)
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
    assert [obj for obj in await _objects(services) if obj.local] == []

    sent = await ui.post("/remote-group/new", {"id": shop.id, "title": "Dark mode", "body": "Please.", "kind": "idea"})
    assert sent.status == 303
    [post] = [obj for obj in await _objects(services) if obj.local]
    assert post.kind == "idea"
    async with services.sessions() as session:
        create = await session.scalar(select(Activity.document).where(Activity.object_uri == post.uri))
    assert create["object"]["type"] == "Page" and create["object"]["threadKind"] == "idea"
    assert create["object"]["threadStatus"] == "open"


# --- remote HTML sanitised once, at arrival (issue #13, speed) -----------------------------------------


async def _remote_thread(services: Services, peer: ContentPeer) -> Object:
    await _setup(services)
    alice = peer.add_actor("alice", name="Alice")
    await join(services, "garden", alice)
    page_doc = peer.serve(lemmy_page(alice, f"{BASE}/groups/garden", name="Remote thread", content=HOSTILE_HTML,
                                     url=peer.url("/post/remote-thread")))
    assert (await receive(services, alice, create(alice, page_doc))).state == "done"
    return await _object_by_uri(services, page_doc["id"])


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
    _assert_inert(page)
    assert "Remote bold words" in _text(page) and "<b>bold</b>" in page


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
        _assert_inert(page)
        assert "Remote bold words" in _text(page)
        feed = await (await ui.get("/feeds/groups/garden.atom")).text()
        assert "<script" not in html.unescape(feed) and "onerror" not in html.unescape(feed)

    assert await resanitise(services.sessions, batch=1) == 1
    row = await _object_by_uri(services, stored.uri)
    assert row.sanitised_version == SANITISE_POLICY_VERSION
    assert "<script" not in row.content and "onerror" not in row.content and "javascript:" not in row.content
    assert "<b>bold</b>" in row.content
    assert await resanitise(services.sessions) == 0  # nothing older left
    _no_sanitising(monkeypatch)
    page = await ui.page(f"/posts/{stored.id}")
    _assert_inert(page)
    assert "Remote bold words" in _text(page)
