"""A microblog post seen and liked from a second real node, in a real browser (issue #16 "Writing and
reading"): bob on node B finds alice of node A with "Find on other servers" and follows her; alice posts a
public update from Home; it shows on bob's Home on B, where he likes it, boosts it and replies to it;
on A, alice's post counts the like and shows the reply, and her notifications say both.

Two `madeopen run` processes; node A runs on PostgreSQL when MADEOPEN_TEST_DATABASE_URL is set (SQLite
otherwise), node B on SQLite. axe-core (no serious or critical violation) at desktop and 360 px, and
nothing wider than a 360 px screen, on every page the two of them use.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from actors import local
from tests.browser.conftest import PASSWORD, Visitor, run_async
from tests.browser.test_social import shows, wait_until
from tests.multinode.conftest import no_tracebacks
from tests.support.cluster import node_services
from tests.support.databases import PostgresDatabases, SqliteTemplate, fresh_sqlite
from tests.support.servers import Node

UPDATE = "First **tomatoes** of the year! #harvest"


async def _with_person(node: Node, name: str) -> None:
    """Create ``name`` in the node's database (in this process: a CLI run would cost a Python start)."""
    services = await node_services(node)
    try:
        async with services.sessions.begin() as session:
            await local.create_person(session, local.NewPerson(name, PASSWORD))
    finally:
        await services.close()


def _nodes(postgres: PostgresDatabases | None, template: SqliteTemplate, directory: Path) -> tuple[Node, Node]:
    """A (PostgreSQL when configured) with alice and B (SQLite) with bob, not started yet: migrated
    databases (copies of a template, so neither node spends its start migrating)."""

    async def make() -> tuple[Node, Node]:
        url_a = await postgres.fresh() if postgres is not None else await fresh_sqlite(directory, template=template)
        a = Node(data_dir=directory / "a", database_url=url_a)
        b = Node(data_dir=directory / "b", database_url=await fresh_sqlite(directory, template=template))
        await asyncio.gather(_with_person(a, "alice"), _with_person(b, "bob"))
        return a, b

    return run_async(make())


@pytest.fixture
def nodes(postgres: PostgresDatabases | None, sqlite_template: SqliteTemplate,
          tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Node A, where alice lives, and node B, where bob lives, running."""
    a, b = _nodes(postgres, sqlite_template, tmp_path)
    try:
        with ThreadPoolExecutor(2) as pool:  # side by side: each start is mostly Python imports
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()
        yield a, b
    finally:
        a.stop()
        b.stop()


def _like_button(visitor: Visitor) -> Any:
    """The Like button of the post the page is about (its count in its name: "Like 1")."""
    return visitor.page.locator("article.post").first.get_by_role("button", name=re.compile(r"^Like \d"))


def _checked(visitor: Visitor) -> None:
    visitor.assert_accessible()
    visitor.fits_width()


def test_a_microblog_post_seen_liked_boosted_and_answered_from_a_second_node(
    browser: object, nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    a, b = nodes
    alice = Visitor(browser, a)
    bob = Visitor(browser, b)
    try:
        # bob, on B, finds alice on A and follows her.
        bob.log_in("bob")
        bob.page.get_by_role("link", name="Find on other servers").click()
        bob.fill({"Handle or link": f"@alice@{a.domain}"})
        bob.submit("Look up")
        card = bob.page.locator("article.actor-card")
        assert card.get_by_role("heading", name="alice").is_visible()
        assert card.get_by_text(f"on {a.domain}").is_visible()
        bob.submit("Follow")
        wait_until(lambda: shows(bob, f"/lookup?q=@alice@{a.domain}", "You follow them."), "alice accepting bob")
        _checked(bob)

        # alice, on A, posts a public update from Home.
        alice.log_in("alice")
        alice.goto("/home")
        alice.page.get_by_label("Your update", exact=True).fill(UPDATE)
        alice.page.get_by_label("Everyone (public)").check()
        alice.submit("Post")
        assert "/objects/" in alice.page.url and alice.page.get_by_text("Your update is posted.").is_visible()
        post_on_a = alice.page.url

        # bob sees it on B's Home, opens it on B and likes it, boosts it and replies.
        wait_until(lambda: shows(bob, "/home", "First tomatoes of the year!"), "alice's update on bob's Home")
        item = bob.page.locator("article.post-item", has_text="First tomatoes of the year!")
        assert item.locator(".content strong").inner_text() == "tomatoes"
        assert item.get_by_role("link", name="alice").is_visible()
        _checked(bob)
        with bob.page.expect_navigation():
            item.locator("time").click()
        assert bob.page.url.startswith(f"{b.base_url}/posts/")  # B's page of the post, not A's
        with bob.page.expect_navigation():
            _like_button(bob).click()
        assert _like_button(bob).inner_text() == "Like 1"
        assert _like_button(bob).get_attribute("aria-pressed") == "true"
        # A microblog update has favourites only, as on Mastodon: no Dislike (group posts keep their votes).
        assert bob.page.locator("article.post").first.get_by_role("button", name=re.compile(r"^Dislike")).count() == 0
        background = "button => getComputedStyle(button).backgroundColor"
        unpressed = bob.page.get_by_role("button", name="Boost the post by alice").evaluate(background)
        bob.submit("Boost the post by alice")
        assert bob.page.get_by_role("status").inner_text() == "Boosted: your followers see it."
        boost = bob.page.get_by_role("button", name="Boost the post by alice")
        assert boost.get_attribute("aria-pressed") == "true"
        # Pressed looks pressed, as the like does: a sighted reader sees the boost is on.
        assert boost.evaluate(background) != unpressed
        assert boost.evaluate(background) == _like_button(bob).evaluate(background)
        bob.page.get_by_label("Your reply", exact=True).fill("Well done! Save me some seeds.")
        bob.submit("Post reply")
        assert bob.page.get_by_text("Save me some seeds.").is_visible()
        bob.screenshot("microblog-federated-post-on-b")
        _checked(bob)

        # alice, on A: her post counts bob's like and shows his reply; she is told of them and of the boost.
        def counted_on_a() -> bool:
            alice.goto(post_on_a)
            return _like_button(alice).inner_text() == "Like 1" \
                and alice.page.get_by_text("Save me some seeds.").count() == 1
        wait_until(counted_on_a, "bob's like and reply on alice's post on A")
        assert _like_button(alice).get_attribute("aria-pressed") == "false"  # bob's like, not hers
        assert alice.page.get_by_role("heading", name="1 reply").is_visible()
        _checked(alice)
        # The boost is an Announce of its own: it may arrive after the like and the reply.
        def all_told() -> bool:
            alice.goto("/")
            return alice.page.get_by_role("link", name="Notifications 4 unread").count() > 0
        wait_until(all_told, "alice told of bob's follow, like, boost and reply")
        alice.page.get_by_role("link", name="Notifications 4 unread").click()
        alice.page.wait_for_url("**/notifications")
        told = [" ".join(text.split()) for text in alice.page.locator(".notification--unread").all_inner_texts()]
        assert any("bob follows you now" in text for text in told), told
        assert any("bob liked your post" in text for text in told), told
        assert any("bob boosted your post" in text for text in told), told
        assert any("bob replied to your post" in text and "Save me some seeds." in text for text in told), told
        _checked(alice)
        # The post on A counts bob's boost by its Boost button, as it counts his like.
        alice.goto(post_on_a)
        boosts = alice.page.locator("article.post").first.get_by_role("button", name=re.compile(r"^Boost the post"))
        assert boosts.locator(".count").inner_text() == "1"
        assert boosts.get_attribute("aria-pressed") == "false"  # bob's boost, not hers
        no_tracebacks(tmp_path)  # neither node logged an error it did not turn into a clear refusal
    finally:
        alice.close()
        bob.close()
