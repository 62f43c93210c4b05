"""Groups and threads in a real browser against real nodes: creating public and private groups, a thread,
a reply and a like, a private join approved by the owner, hostile content (local Markdown and a remote
post delivered through the inbox) that never runs, and joining a group of a second running node by
pasting its address into the search box, seeing its earlier threads, and starting a thread there. Screenshots of the group and thread pages at desktop width and
360 px; axe-core finds no serious or critical problem on them.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.browser.conftest import Visitor, create_user, migrated_sqlite
from tests.support.databases import SqliteTemplate
from tests.support.peer import Peer
from tests.support.peer_actor import PUBLIC
from tests.support.servers import Node

T = TypeVar("T")
DIALOG_PROBE = "typeof window.pwned === 'undefined' ? null : String(window.pwned)"
HOSTILE_MARKDOWN = (
    "Hello <script>window.pwned='script'</script> there\n\n"
    "[click me](javascript:window.pwned='link') and <img src=x onerror=\"window.pwned='img';alert('img')\">\n\n"
    "<a href=\"javascript:alert('raw')\" onclick=\"window.pwned='click'\">raw link</a>"
)
HOSTILE_HTML = (
    "<p>Remote <b>bold</b> words<script>window.pwned='remote-script';alert('remote')</script></p>"
    "<img src=\"x\" onerror=\"window.pwned='remote-img';alert('remote-img')\">"
    "<a href=\"javascript:window.pwned='remote-link'\">js link</a>"
    "<p onmouseover=\"window.pwned='hover'\">hover me</p>"
    "<iframe src=\"javascript:parent.pwned='iframe'\"></iframe>"
    "<svg><script>window.pwned='svg'</script></svg>"
)


def _wait_for(check: Callable[[], T], *, timeout: float = 30.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy (federation is asynchronous)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what or 'condition'} not met within {timeout}s (last: {last!r})")


def _db_value(node: Node, sql: str, *params: Any) -> Any:
    path = node.database_url.split(":///", 1)[1]
    with sqlite3.connect(path, timeout=10) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _watch_for_script(visitor: Visitor) -> list[str]:
    """Dialogs the page opens (alert/confirm/prompt), recorded and dismissed."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    visitor.page.on("dialog", on_dialog)
    return dialogs


def _create_group(visitor: Visitor, name: str, title: str, *, private: bool = False) -> None:
    page = visitor.page
    visitor.goto("/groups")
    page.get_by_role("link", name="Create a group").click()
    page.wait_for_url("**/new-group")
    visitor.fill({"Name": name, "Title": title,
                  "Description": f"Where we talk about **{title.lower()}**.",
                  "Rules": "1. Be kind\n2. Stay on topic"})
    page.get_by_label("Private: only members read it" if private else "Public: anyone can read it", exact=False).check()
    visitor.submit("Create the group")
    assert page.url.endswith(f"/groups/{name}")
    assert page.get_by_role("heading", level=1).inner_text() == title


def _start_thread(visitor: Visitor, group: str, title: str, body: str) -> str:
    page = visitor.page
    visitor.goto(f"/groups/{group}")
    page.get_by_role("link", name="Start a thread").click()
    page.wait_for_url(f"**/groups/{group}/new")
    visitor.fill({"Title": title, "Text": body})
    visitor.submit("Post the thread")
    assert "/objects/" in page.url
    return page.url.split("#")[0]


def _bea_takes_part(bea: Visitor, thread: str) -> None:
    bea.log_in("bea")
    bea.goto("/groups")
    bea.page.get_by_role("link", name="Community Garden").click()
    bea.submit(re.compile("^Join"))  # type: ignore[arg-type]
    assert "You are now a member" in bea.page.get_by_role("status").inner_text()
    bea.goto(thread)
    bea.fill({"Your reply": "Same here. Copper spray *helped* me."})
    bea.submit("Post reply")
    assert "Your reply is posted" in bea.page.get_by_role("status").inner_text()
    reply = bea.page.locator(".thread-replies > li").first
    assert "Copper spray helped me." in reply.inner_text()
    with bea.page.expect_navigation():
        bea.page.locator(".post").first.get_by_role("button", name=re.compile("^Like")).click()
    like = bea.page.locator(".post").first.get_by_role("button", name=re.compile("^Like"))
    assert like.get_attribute("aria-pressed") == "true" and like.inner_text() == "Like 1"


def _ada_answers(visitor: Visitor, thread: str) -> None:
    """Ada answers bea's reply: nested under it (the reply box is a <details>)."""
    page = visitor.page
    visitor.goto(thread)
    reply_box = page.locator(".thread-replies > li").first
    reply_box.locator("summary").first.click()
    reply_box.get_by_label("Your reply to bea").fill("Thanks, bea!")
    with page.expect_navigation():
        reply_box.get_by_role("button", name="Post reply").first.click()
    nested = page.locator(".thread-replies > li ol.replies > li")
    assert "Thanks, bea!" in nested.first.inner_text()
    assert page.get_by_role("heading", name="2 replies").is_visible()
    assert page.locator(".post").first.get_by_role("button", name=re.compile("^Like")).inner_text() == "Like 1"
    visitor.screenshot("thread-page")
    visitor.assert_accessible()
    visitor.fits_width()


def _private_join(visitor: Visitor, bea: Visitor) -> None:
    """The private group: bea asks to join; ada approves; bea is in."""
    page = visitor.page
    bea.goto("/groups/board")
    assert "its threads are for its members" in bea.page.locator("main").inner_text()
    bea.submit(re.compile("^Request to join"))  # type: ignore[arg-type]
    assert bea.page.get_by_text("Request pending").is_visible()
    visitor.goto("/groups/board")
    page.get_by_role("link", name=re.compile(r"Moderation \(1 request to join\)")).click()
    page.wait_for_url("**/groups/board/moderation")
    visitor.screenshot("group-moderation")
    visitor.assert_accessible()
    visitor.submit(re.compile("^Approve bea@"))  # type: ignore[arg-type]
    assert "Request approved" in page.get_by_role("status").inner_text()
    bea.goto("/groups/board")
    assert bea.page.get_by_text("You are a member").is_visible()
    _start_thread(bea, "board", "Budget", "Private numbers.")


# --------------------------------------------------------------------------------------------------
# One node: groups, a thread, a reply, a like, a private join


def test_groups_threads_replies_likes_and_private_join(visitor: Visitor, browser: object, node: Node) -> None:
    create_user(node, "ada")
    create_user(node, "bea")
    visitor.log_in("ada")
    page = visitor.page

    # A form mistake first: the message sits next to its field, the typed values stay.
    visitor.goto("/new-group")
    visitor.fill({"Name": "Bad Name!", "Title": "Community Garden"})
    visitor.submit("Create the group")
    assert "letters a-z" in page.locator("#name-error").inner_text()
    assert page.get_by_label("Title", exact=True).input_value() == "Community Garden"

    _create_group(visitor, "garden", "Community Garden")
    assert page.get_by_text("Owner", exact=True).first.is_visible()  # ada's badge in the team list
    _create_group(visitor, "board", "The Board", private=True)
    assert page.get_by_text("Private group").is_visible()

    thread = _start_thread(visitor, "garden", "Tomato blight", "The leaves **turn brown**.\n\n- oak ash\n- copper")
    assert page.locator(".post-body strong").inner_text() == "turn brown"

    # Bea, with JavaScript off, joins the public group, replies and likes.
    bea = Visitor(browser, node, javascript=False)
    try:
        _bea_takes_part(bea, thread)
        _ada_answers(visitor, thread)
        _private_join(visitor, bea)
    finally:
        bea.close()

    visitor.goto("/groups/garden")
    visitor.screenshot("group-page")
    visitor.assert_accessible()
    visitor.fits_width()
    visitor.goto("/groups")
    visitor.screenshot("groups-directory")
    visitor.assert_accessible()


# --------------------------------------------------------------------------------------------------
# Hostile content, local and remote, never runs


class PeerThread:
    """A tests.support.peer.Peer on its own event loop thread, for these synchronous browser tests."""

    def __enter__(self) -> PeerThread:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.peer = self.run(Peer().start())
        return self

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc_info: object) -> None:
        self.run(self.peer.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_hostile_content_never_runs(visitor: Visitor, node: Node) -> None:
    create_user(node, "ada")
    node.cli("group", "create", "garden", "--owner", "ada", "--title", "Community Garden", check=True)
    dialogs = _watch_for_script(visitor)
    visitor.log_in("ada")
    thread = _start_thread(visitor, "garden", "<script>window.pwned='title'</script>", HOSTILE_MARKDOWN)
    page = visitor.page
    assert page.get_by_text("click me").is_visible()

    # A remote member's post with hostile HTML, through the inbox: signed, verified, sanitised, stored.
    group_uri = f"{node.base_url}/groups/garden"
    with PeerThread() as running:
        mallory = running.peer.add_actor("mallory", name="Mallory <img src=x onerror=alert('name')>")
        post_id = f"{mallory.id}/posts/{uuid.uuid4().hex}"
        create = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{post_id}/activity", "type": "Create", "actor": mallory.id,
            "to": [group_uri, PUBLIC], "audience": group_uri,
            "object": {"id": post_id, "type": "Page", "attributedTo": mallory.id, "name": "Remote <b>hello</b>",
                       "content": HOSTILE_HTML, "mediaType": "text/html", "to": [group_uri, PUBLIC],
                       "audience": group_uri, "published": "2026-01-01T10:00:00Z"},
        }
        status, text = running.run(running.peer.deliver(mallory, f"{node.base_url}/inbox", create))
        assert status == 202, text
        _wait_for(lambda: _db_value(node, "SELECT id FROM objects WHERE uri = ?", post_id),
                  what="the remote post stored")
    remote_path = f"/posts/{_db_value(node, 'SELECT id FROM objects WHERE uri = ?', post_id)}"

    for path in ("/groups/garden", thread, remote_path):
        visitor.goto(path)
        page.wait_for_load_state("load")
        for element in page.locator(".post-body a, .post-body p").all():  # hover and click what was sent
            element.hover()
            element.click(no_wait_after=True)
        page.wait_for_timeout(200)
        assert page.evaluate(DIALOG_PROBE) is None, path
    assert dialogs == []
    assert page.locator(".post-body script, .post-body img, .post-body iframe, .post-body svg").count() == 0
    byline = page.locator(".post .byline").first.inner_text()
    assert f"· {node.domain}" not in byline and re.search(r"Mallory .*· 127\.0\.0\.1:\d+", byline), byline
    assert "Remote bold words" in page.locator(".post-body").first.inner_text()
    visitor.screenshot("thread-remote-hostile")
    visitor.assert_accessible()


# --------------------------------------------------------------------------------------------------
# Two nodes: find and join a group of another node by pasting its address


@pytest.fixture
def second_node(tmp_path: Path, sqlite_template: SqliteTemplate) -> Iterator[Node]:
    running = Node(data_dir=tmp_path / "node2", database_url=migrated_sqlite(tmp_path, sqlite_template))
    running.start()
    yield running
    running.stop()


def test_join_a_group_of_another_node(browser: object, node: Node, second_node: Node) -> None:
    create_user(node, "ada")
    node.cli("group", "create", "garden", "--owner", "ada", "--title", "Community Garden", check=True)
    create_user(second_node, "zoe")
    ada = Visitor(browser, node)
    ada.log_in("ada")
    _start_thread(ada, "garden", "Before zoe came", "Written before anyone on the other node joined.")
    ada.close()
    zoe = Visitor(browser, second_node)
    try:
        zoe.log_in("zoe")
        page = zoe.page
        zoe.goto("/groups")
        zoe.fill({"Search groups": f"!garden@{node.domain}"})
        zoe.submit("Search")
        found = page.locator("section.found")
        assert found.get_by_role("heading", name="Community Garden").is_visible()
        assert f"@garden@{node.domain}" in found.inner_text()
        zoe.screenshot("groups-remote-found")
        zoe.assert_accessible()
        zoe.submit(re.compile("^Join"))  # type: ignore[arg-type]
        assert "/remote-group?id=" in page.url

        group_uri = f"{node.base_url}/groups/garden"
        zoe_uri = f"{second_node.base_url}/users/zoe"

        def accepted_here() -> bool:
            page.reload()
            return page.get_by_text("You are a member.").is_visible()

        _wait_for(accepted_here, what="zoe's node to see the Accept")
        assert _db_value(second_node, "SELECT state FROM follows WHERE follower_uri = ? AND followee_uri = ?",
                         zoe_uri, group_uri) == "accepted"
        assert _db_value(
            node,
            "SELECT m.state FROM memberships m JOIN remote_actors r ON r.id = m.remote_actor_id "
            "JOIN local_actors g ON g.id = m.group_id WHERE r.uri = ? AND g.username = 'garden'",
            zoe_uri,
        ) == "accepted"
        zoe.screenshot("group-remote-member")
        zoe.assert_accessible()

        # Joining brought the group's recent threads (backfilled from its outbox, issue #10 item 8).
        def backfilled() -> bool:
            page.reload()
            return page.get_by_role("link", name="Before zoe came").is_visible()

        _wait_for(backfilled, what="the group's earlier thread on zoe's node")

        # zoe starts a thread in the group from her own node (item 9): pending until the group announces it.
        remote_page = page.url
        page.get_by_role("link", name=re.compile("^Start a thread")).click()
        page.wait_for_url(re.compile(r"/remote-group/new\?id="))
        zoe.screenshot("thread-new-remote")
        zoe.assert_accessible()
        zoe.fill({"Title": "Hello from the other node", "Text": "Zoe here, *waving*."})
        zoe.submit("Post the thread")
        assert "/objects/" in page.url
        assert "Your thread is sent to Community Garden" in page.get_by_role("status").inner_text()
        zoe.screenshot("thread-remote-sent")
        zoe.assert_accessible()
        zoe.fits_width()

        def accepted_by_the_group() -> bool:
            page.goto(remote_page)
            item = page.locator(".thread-list li", has_text="Hello from the other node")
            return item.count() == 1 and "Pending" not in item.inner_text()

        _wait_for(accepted_by_the_group, what="the group's Announce of zoe's thread")
        assert _db_value(node, "SELECT name FROM objects WHERE author_uri = ? AND group_id IS NOT NULL",
                         zoe_uri) == "Hello from the other node"
        zoe.screenshot("group-remote-thread")
        zoe.assert_accessible()
        zoe.fits_width()

        # The group's node counts zoe as a member, on its own group page.
        zoe.goto(group_uri)
        assert zoe.page.get_by_text("2 members").is_visible()
    finally:
        zoe.close()


def test_a_visitor_from_another_server_sees_how_to_join(visitor: Visitor, node: Node) -> None:
    # Issue 16: a logged-out visitor's group page says how to join from their own server.
    create_user(node, "ada")
    node.cli("group", "create", "garden", "--owner", "ada", "--title", "Community Garden", check=True)
    page = visitor.page
    visitor.goto("/groups/garden")
    membership = page.get_by_role("group", name="Your membership")
    assert f"!garden@{node.domain}" in membership.inner_text()
    assert page.get_by_role("heading", name="Join from your server").is_visible()
    assert page.get_by_label("Your fediverse address").is_visible()
    visitor.screenshot("group-visitor-join-from-elsewhere")
    visitor.assert_accessible()
    visitor.fits_width()
