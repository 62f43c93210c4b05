"""Across two real nodes in a real browser: look up and join a group on the other node, read its posts
on the home timeline, see the notification when someone there replies, and follow someone there from
their own page (remote follow, logging in at home first). Screenshots and axe-core on every page.

Both nodes are `madeopen run` processes on SQLite. What people do on a node without a page for it yet
(writing posts) goes through the same service functions the pages call (tests.support.cluster).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from storage.models import Object
from tests.browser.conftest import Visitor, create_user, migrated_sqlite
from tests.support.databases import SqliteTemplate
from tests.support.cluster import RunningNode, node_services
from tests.support.servers import Node

T = TypeVar("T")
WAIT_S = 45.0  # federation is asynchronous: a bound on the wait, not a speed requirement


@pytest.fixture
def nodes(tmp_path: Path, sqlite_template: SqliteTemplate) -> Iterator[tuple[Node, Node]]:
    """``home``, where ada lives, and ``other``, where ben runs the group makers."""
    home = Node(data_dir=tmp_path / "home", database_url=migrated_sqlite(tmp_path, sqlite_template))
    other = Node(data_dir=tmp_path / "other", database_url=migrated_sqlite(tmp_path, sqlite_template))
    try:
        home.start()
        other.start()
        create_user(home, "ada")
        create_user(other, "ben")
        other.cli("group", "create", "makers", "--owner", "ben", "--title", "Riverside Makers", check=True)
        yield home, other
    finally:
        home.stop()
        other.stop()


def on_node(node: Node, action: Callable[[RunningNode], Awaitable[T]]) -> T:
    """Run ``action`` against the node's database, on its own event loop (Playwright owns this thread's)."""

    async def main() -> T:
        services = await node_services(node)
        try:
            return await action(RunningNode(node, services))
        finally:
            await services.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT_S}s")
        time.sleep(0.3)


def shows(visitor: Visitor, path: str, text: str) -> bool:
    visitor.goto(path)
    return visitor.page.get_by_text(text).count() > 0


def test_join_a_group_on_another_node_read_it_at_home_and_hear_of_replies(
    browser: object, nodes: tuple[Node, Node]
) -> None:
    home, other = nodes
    makers = f"{other.base_url}/groups/makers"
    ada = Visitor(browser, home)
    try:
        page = ada.page
        ada.log_in("ada")

        # Lookup: a Lemmy-style handle of a group on the other node.
        page.get_by_role("link", name="Find on other servers").click()
        ada.fill({"Handle or link": f"!makers@{other.domain}"})
        ada.submit("Look up")
        assert page.get_by_role("heading", name="Riverside Makers").is_visible()
        assert page.get_by_text(f"@makers@{other.domain}").is_visible()
        ada.screenshot("lookup")
        ada.assert_accessible()
        ada.fits_width()
        ada.submit("Join group")
        assert "You asked to join Riverside Makers" in page.get_by_role("status").inner_text()
        wait_until(lambda: shows(ada, f"/lookup?q={makers}", "You are a member."), "the group accepting ada")

        # ben posts in his group; it federates to ada's home timeline.
        on_node(other, lambda n: n.write_post("ben", makers, "Open workshop night", "Bring your own **wood**."))
        wait_until(lambda: shows(ada, "/home", "Open workshop night"), "ben's post on ada's home timeline")
        assert page.locator(".post-item strong").first.inner_text() == "wood"
        assert page.get_by_role("link", name="Riverside Makers").first.is_visible()

        # ada asks something in the group (from her node); ben replies on his; ada is told.
        question = on_node(home, lambda n: n.write_post("ada", makers, "Lathe advice", "Which lathe for bowls?"))
        wait_until(lambda: on_node(other, lambda n: n.post(question)) is not None, "ada's post reaching the group")
        on_node(other, lambda n: n.reply("ben", question, "The small one, with a bowl rest."))
        wait_until(
            lambda: shows(ada, "/local", "Lathe advice")
            and page.get_by_role("link", name="Notifications 1 unread").count() == 1,
            "the notification of ben's reply",
        )
        ada.screenshot("local")
        ada.assert_accessible()
        ada.fits_width()

        page.get_by_role("link", name="Notifications 1 unread").click()
        item = page.locator(".notification--unread")
        assert "ben replied to your post Lathe advice" in " ".join(item.inner_text().split())
        assert "with a bowl rest" in item.inner_text()
        ada.screenshot("notifications")
        ada.assert_accessible()
        ada.fits_width()
        ada.submit("Mark all as read")
        assert page.get_by_role("status").inner_text() == "All notifications are marked as read."
        assert page.get_by_role("link", name="Notifications", exact=True).is_visible()

        ada.goto("/home")
        for title in ("Open workshop night", "Lathe advice"):
            assert page.get_by_role("link", name=title).is_visible()
        ada.screenshot("home")
        ada.assert_accessible()
        ada.fits_width()
        stored = on_node(home, lambda n: n.scalar(select(Object.audience_uri).where(Object.name == "Open workshop night")))
        assert stored == makers
    finally:
        ada.close()


def test_follow_someone_on_another_node_from_their_page(browser: object, nodes: tuple[Node, Node]) -> None:
    """ada, not logged in (a fresh browser), finds ben's page on the other node and follows him from her
    own: the other node sends her home, where she logs in first and comes back to confirm."""
    home, other = nodes
    ben = f"{other.base_url}/users/ben"
    ada = Visitor(browser, other)  # the browser starts on the other node
    try:
        page = ada.page
        ada.goto("/users/ben")
        assert page.get_by_role("heading", name="Follow from your server").is_visible()
        ada.screenshot("remote-follow")
        ada.assert_accessible()
        ada.fill({"Your fediverse address": "nobody"})
        ada.submit("Follow from my server")
        assert "is not a fediverse address" in page.get_by_role("alert").inner_text()
        ada.fill({"Your fediverse address": f"ada@{home.domain}"})
        ada.submit("Continue on my server")

        assert page.url.startswith(f"{home.base_url}/login?next=")  # her own node asks her to log in first
        ada.fill({"Name": "ada", "Password": "correct horse battery"})
        ada.submit("Log in")
        assert page.url.startswith(f"{home.base_url}/authorize_interaction?uri=")
        assert page.get_by_role("heading", name="Follow from your account here").is_visible()
        assert page.get_by_role("heading", name="ben").is_visible()
        ada.screenshot("authorize-interaction")
        ada.assert_accessible()
        ada.submit("Follow")
        wait_until(lambda: shows(ada, f"{home.base_url}/lookup?q={ben}", "You follow them."), "ben accepting ada")
    finally:
        ada.close()
