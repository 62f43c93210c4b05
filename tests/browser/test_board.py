"""The board in a real browser (issue #12), against a real `madeopen run` node: a customer posts an
idea; a foreign peer playing Mastodon (signed GETs required) favourites it; a staff member sets
"planned" with an official response; the customer sees the notification, the status and the response;
the board filters and sorts; a question gets an accepted answer. axe-core at desktop and 360 px, and
screenshots of each page (test-output/screenshots/board-*)."""

from __future__ import annotations

import re
import sqlite3
import uuid

from tests.browser.conftest import Visitor, create_user
from tests.browser.test_groups import PeerThread, _db_value, _wait_for
from tests.support.peer import Peer
from tests.support.peer_actor import PUBLIC
from tests.support.servers import Node


def _make_staff(node: Node, group: str, person: str) -> None:
    """Set-up only (roles have their own tests): ``person`` joins ``group`` as staff."""
    path = node.database_url.split(":///", 1)[1]
    with sqlite3.connect(path, timeout=10) as conn:
        group_id = conn.execute("SELECT id FROM local_actors WHERE username = ?", (group,)).fetchone()[0]
        person_id = conn.execute("SELECT id FROM local_actors WHERE username = ?", (person,)).fetchone()[0]
        conn.execute("INSERT INTO memberships (group_id, local_actor_id, role, state, created_at) "
                     "VALUES (?, ?, 'staff', 'accepted', CURRENT_TIMESTAMP)", (group_id, person_id))


def _post(visitor: Visitor, kind: str, title: str, body: str) -> str:
    page = visitor.page
    visitor.goto("/groups/shop/board")
    page.get_by_role("link", name="Post an idea, concern or question").click()
    page.wait_for_url("**/groups/shop/new")
    page.get_by_label(re.compile(f"^{kind}:")).check()
    visitor.fill({"Title": title, "Text": body})
    visitor.submit("Post the thread")
    assert "/objects/" in page.url
    return page.url.split("#")[0]


class MastodonPeer(PeerThread):
    """A peer that, like Mastodon in authorized-fetch mode, requires signed GETs."""

    def __enter__(self) -> MastodonPeer:
        super().__enter__()
        self.run(self.peer.close())
        self.peer = self.run(Peer(require_signed_gets=True).start())
        return self


def test_idea_status_response_board_and_accepted_answer(visitor: Visitor, browser: object, node: Node) -> None:
    for name in ("ada", "erin", "sam"):
        create_user(node, name)
    node.cli("group", "create", "shop", "--owner", "ada", "--title", "The Shop", check=True)
    _make_staff(node, "shop", "sam")
    erin = visitor
    erin.log_in("erin")
    page = erin.page

    idea = _post(erin, "Idea", "Dark mode", "Please add a **dark** theme.")
    assert page.get_by_role("heading", name=re.compile("Idea · Status: Open")).is_visible()
    erin.screenshot("board-idea-open")
    erin.assert_accessible()
    _post(erin, "Idea", "Export to CSV", "For the accountant.")
    question = _post(erin, "Question", "Where is the manual?", "I cannot find it.")

    # A Mastodon user favourites the group's boost of the idea: a signed Like of the post.
    with MastodonPeer() as running:
        running.peer.route_origin(node.base_url, node.base_url)  # so it can check our signed GETs
        mia = running.peer.add_actor("mia", name="Mia")
        like = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{mia.id}#likes/{uuid.uuid4().hex}",
                "type": "Like", "actor": mia.id, "object": idea}
        status, text = running.run(running.peer.deliver(mia, f"{node.base_url}/inbox", like))
        assert status == 202, text
        _wait_for(lambda: _db_value(node, "SELECT net_votes FROM objects WHERE uri = ?", idea) == 1,
                  what="the favourite counted")
        assert _db_value(node, "SELECT count(*) FROM reactions WHERE actor_uri = ?", mia.id) == 1

    # The staff member sets "planned" with an official response.
    sam = Visitor(browser, node)
    try:
        sam.log_in("sam")
        sam.goto(idea)
        sam.page.get_by_text("Set the status (team)").click()
        sam.page.get_by_label("Status", exact=True).select_option("planned")
        sam.fill({"Official response": "Planned for *May*: thank you all."})
        sam.submit("Set the status")
        assert sam.page.get_by_text("The status is set").is_visible()
        sam.screenshot("board-idea-planned-team")
        sam.assert_accessible()

        # sam answers the question; erin accepts it.
        sam.goto(question)
        sam.page.get_by_label("Your reply", exact=True).fill("Under Help, then Manual.")
        sam.submit("Post reply")
    finally:
        sam.close()

    erin.goto("/notifications")
    latest = page.locator(".notification").filter(has_text="set the status of").first.inner_text()
    assert "sam set the status of Dark mode" in latest and "Status: Planned" in latest, latest
    erin.assert_accessible()
    page.get_by_role("link", name="Dark mode").first.click()
    box = page.locator(".board-box")
    assert "Status: Planned" in box.inner_text()
    official = page.locator("#official-response")
    assert "Official response by sam" in official.inner_text() and "Planned for May" in official.inner_text()
    assert official.locator("em").inner_text() == "May"
    erin.screenshot("board-idea-planned")
    erin.assert_accessible()
    erin.fits_width()

    erin.goto(question)
    erin.submit(re.compile("^Accept as the answer"))
    answer = page.locator("#accepted-answer")
    assert "Accepted answer by sam" in answer.inner_text() and "Under Help" in answer.inner_text()
    assert "Status: Solved" in page.locator(".board-box h2").inner_text()
    erin.screenshot("board-question-solved")
    erin.assert_accessible()

    # The board: counts, filters, sorts, search.
    erin.goto("/groups/shop")
    page.get_by_role("link", name=re.compile("^Board")).click()
    page.wait_for_url("**/groups/shop/board")
    titles = page.locator(".board-list .thread-title")
    assert titles.first.inner_text() == "Dark mode"  # top: the favourite
    assert page.get_by_role("link", name="Ideas 2").is_visible()
    page.get_by_role("link", name="Newest").click()
    page.wait_for_url("**sort=new**")
    assert titles.first.inner_text() == "Where is the manual?"
    page.get_by_role("link", name="Ideas 2").click()
    assert [t.inner_text() for t in titles.all()] == ["Export to CSV", "Dark mode"]
    page.get_by_role("link", name="Planned 1").click()
    assert [t.inner_text() for t in titles.all()] == ["Dark mode"]
    erin.goto("/groups/shop/board")
    erin.fill({"Search the board": "manual"})
    erin.submit("Search")
    assert [t.inner_text() for t in titles.all()] == ["Where is the manual?"]
    assert page.locator(".badge--status").first.inner_text() == "Solved"
    erin.goto("/groups/shop/board?sort=answered")
    erin.screenshot("board-answered")
    erin.assert_accessible()
    erin.fits_width()
    assert PUBLIC  # the peer's addressing constant, imported with the helpers
