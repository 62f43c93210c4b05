"""Thread pages as a browser uses them (without one): starting a thread, replies nested by inReplyTo,
likes and dislikes, editing and deleting, the moderators' pin, lock and remove, private groups' threads
(members only, logged in), and hostile local Markdown never reaching the page as markup. Permissions: 403
branded page (or 404 where existence must not leak) and nothing changed. Remote threads:
test_remote_threads_ui.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from actors import local
from madeopen.app import Services
from storage.models import Featured, Object, Reaction
from tests.support.web_ui import UI, second_ui, ui  # noqa: F401  (fixtures)
from tests.web.threads_support import (  # noqa: F401  (the settings fixture)
    AS2, BASE, HOSTILE_MARKDOWN, all_objects, assert_inert, object_at, settings, setup_garden, start_thread, text_of,
)


# --- starting a thread -----------------------------------------------------------------------------------


async def test_start_a_thread(ui: UI, services: Services) -> None:
    await setup_garden(services)
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
    assert await all_objects(services) == []

    path = await start_thread(ui)
    page = await ui.page(path)
    assert "<h1>Tomato blight</h1>" in page and "<strong>turn brown</strong>" in page
    assert "Your thread is posted" in text_of(page)
    group_page = await ui.page("/groups/garden")
    assert f'href="{path}">Tomato blight</a>' in group_page
    assert "by bea" in text_of(group_page)


async def test_outsiders_cannot_start_threads(ui: UI, services: Services) -> None:
    await setup_garden(services, private=True)
    response = await ui.get("/groups/garden/new")
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    await ui.log_in("cy")  # not a member of the private group
    response = await ui.get("/groups/garden/new")
    assert response.status == 403 and "only its members can start threads" in await response.text()
    response = await ui.post("/groups/garden/new", {"title": "Hi", "body": "let me in"})
    assert response.status == 403
    response = await ui.post("/groups/garden/new", {"title": "Hi", "body": "no token"}, with_token=False)
    assert response.status == 403
    assert await all_objects(services) == []


# --- replies ---------------------------------------------------------------------------------------------


async def test_replies_are_nested_by_in_reply_to(ui: UI, second_ui: UI, services: Services) -> None:
    await setup_garden(services)
    await ui.log_in("ada")
    path = await start_thread(ui)
    thread = await object_at(services, path)
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
    assert "2 replies" in text_of(page)
    # The nested reply sits in a list inside the first reply's list item.
    first_at = page.index(f'id="post-{first_id}"')
    nested_at = page.index(f'id="post-{nested_id}"')
    between = page[first_at:nested_at]
    assert '<ol class="replies">' in between and "<em>again</em>" in between
    assert f'<label for="reply-{first_id}">Your reply to bea</label>' in page  # each reply has its own form

    # The reply's own page shows it with its replies, and where it belongs.
    reply = await object_at(services, "/objects/" + (await all_objects(services))[1].uri.rsplit("/", 1)[1])
    reply_page = text_of(await ui.page(reply.uri[len(BASE):]))
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
    await setup_garden(services)
    async with services.sessions.begin() as session:
        (await local.find_person(session, "bea")).display_name = 'Bea <b>"&"</b>'
    await ui.log_in("ada")
    path = await start_thread(ui)
    thread = await object_at(services, path)
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
    await setup_garden(services)
    await ui.log_in("ada")
    path = await start_thread(ui)
    thread = await object_at(services, path)
    response = await ui.post(f"/posts/{thread.id}/reply", {"body": "   "})
    page = await response.text()
    assert response.status == 400
    assert f'id="reply-{thread.id}-error"' in page and "write something" in page
    response = await ui.post(f"/posts/{thread.id}/reply", {"body": "x" * 50_001})
    page = await response.text()
    assert response.status == 400 and "at most 50000 characters" in page and "x" * 100 in page
    assert len(await all_objects(services)) == 1
    response = await ui.post(f"/posts/{thread.id}/reply", {"body": "no token"}, with_token=False)
    assert response.status == 403
    response = await ui.post("/posts/999999/reply", {"body": "to nothing"})
    assert response.status == 404
    for path in ("/posts/999999999", "/posts/99999999999999999999", "/posts/abc"):
        response = await ui.get(path)
        assert response.status == 404 and "<h1>Not found</h1>" in await response.text(), path
    assert len(await all_objects(services)) == 1


# --- votes -----------------------------------------------------------------------------------------------


async def test_like_dislike_and_take_back(ui: UI, services: Services) -> None:
    await setup_garden(services)
    await ui.log_in("ada")
    path = await start_thread(ui)
    thread = await object_at(services, path)
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
    assert (await object_at(services, path)).dislike_count == 0
    response = await ui.post(f"/posts/{thread.id}/vote", {"vote": "love"})
    assert response.status == 400
    response = await ui.post(f"/posts/{thread.id}/vote", {"vote": "like"}, with_token=False)
    assert response.status == 403
    async with services.sessions() as session:
        assert list(await session.scalars(select(Reaction))) == []


# --- editing and deleting --------------------------------------------------------------------------------


async def test_author_edits_and_deletes_others_cannot(ui: UI, second_ui: UI, services: Services) -> None:
    await setup_garden(services)
    await ui.log_in("bea")
    path = await start_thread(ui)
    thread = await object_at(services, path)
    page = await ui.page(path)
    assert f'href="/posts/{thread.id}/edit"' in page and f'href="/posts/{thread.id}/delete"' in page

    form = await ui.page(f"/posts/{thread.id}/edit")
    assert "Leaves **turn brown**." in form and 'value="Tomato blight"' in form
    response = await ui.post(f"/posts/{thread.id}/edit", {"title": "", "body": "changed"})
    assert response.status == 400 and 'id="title-error"' in await response.text()
    response = await ui.post(f"/posts/{thread.id}/edit", {"title": "Blight, solved", "body": "Copper *works*."})
    assert response.status == 303
    page = await ui.page(path)
    assert "<h1>Blight, solved</h1>" in page and "<em>works</em>" in page and "edited" in text_of(page)

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
    assert (await object_at(services, path)).name == "Blight, solved"

    confirm = await ui.page(f"/posts/{thread.id}/delete")
    assert "Delete this post?" in confirm and "This cannot be undone" in confirm
    response = await ui.post(f"/posts/{thread.id}/delete", {})
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    assert (await object_at(services, path)).deleted
    response = await ui.get(path)
    assert response.status == 410 and "This post was deleted." in await response.text()


# --- private groups --------------------------------------------------------------------------------------


async def test_private_threads_are_for_logged_in_members(ui: UI, second_ui: UI, services: Services) -> None:
    await setup_garden(services, private=True)
    await ui.log_in("bea")  # a member
    path = await start_thread(ui, title="Budget 2027", body="Numbers inside.")
    thread = await object_at(services, path)
    assert "Budget 2027" in await ui.page(path)
    assert "Budget 2027" in await ui.page("/groups/garden")

    response = await second_ui.get(path)  # nobody logged in
    assert response.status == 404 and "Budget" not in await response.text()
    response = await second_ui.client.get(path, headers={"Accept": AS2})
    assert response.status == 404
    assert "its threads are for its members" in text_of(await second_ui.page("/groups/garden"))
    await second_ui.log_in("cy")  # logged in, not a member
    for target in (path, f"/posts/{thread.id}"):
        response = await second_ui.get(target)
        assert response.status == 404 and "Budget" not in await response.text()
    assert "Budget" not in await second_ui.page("/groups/garden")
    for action, fields in (("reply", {"body": "let me in"}), ("vote", {"vote": "like"}), ("delete", {}),
                           ("moderate", {"action": "pin"})):
        response = await second_ui.post(f"/posts/{thread.id}/{action}", fields)
        assert response.status == 404, action
    assert len(await all_objects(services)) == 1 and (await object_at(services, path)).like_count == 0


# --- moderators ------------------------------------------------------------------------------------------


async def test_moderators_pin_lock_and_remove_others_cannot(ui: UI, second_ui: UI, services: Services) -> None:
    await setup_garden(services)
    await second_ui.log_in("bea")
    older = await start_thread(second_ui, title="Older thread", body="first")
    path = await start_thread(second_ui, title="Pin me", body="important")
    thread = await object_at(services, path)
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
    assert not (await object_at(services, path)).locked

    await ui.log_in("ada")  # the owner
    older_thread = await object_at(services, older)
    response = await ui.post(f"/posts/{older_thread.id}/moderate", {"action": "pin"})
    assert response.status == 303
    group_page = await ui.page("/groups/garden?sort=new")
    assert group_page.index("Older thread") < group_page.index("Pin me")  # pinned first
    assert re.search(r'Older thread</a>\s*<span class="badge badge--pinned">Pinned</span>', group_page)
    page = await ui.page(path)
    assert 'value="pin"' in page and 'href="/groups/garden/moderation?ban=https%3A//node.test/users/bea"' in page

    await ui.post(f"/posts/{thread.id}/moderate", {"action": "lock"})
    page = await second_ui.page(path)
    assert "This thread is locked: no new replies." in text_of(page) and 'action="/posts/' + str(thread.id) + '/reply"' not in page
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


async def test_hostile_markdown_is_inert(ui: UI, services: Services) -> None:
    await setup_garden(services)
    await ui.log_in("bea")
    path = await start_thread(ui, title="<script>window.pwned=9</script>", body=HOSTILE_MARKDOWN)
    thread = await object_at(services, path)
    await ui.post(f"/posts/{thread.id}/reply", {"body": HOSTILE_MARKDOWN})
    for target in (path, "/groups/garden", f"/posts/{thread.id}/delete", f"/posts/{thread.id}/edit"):
        page = await ui.page(target)
        assert "<script>window.pwned" not in page, target
        if target != f"/posts/{thread.id}/edit":  # the edit form shows the Markdown, escaped, in a textarea
            assert_inert(page)
    page = await ui.page(path)
    assert "&lt;script&gt;window.pwned=9&lt;/script&gt;" in page  # the title, as text
    assert "click me" in page
