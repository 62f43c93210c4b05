"""Blocking a person in Chromium (axe-core at desktop and 360 px): ada blocks ben from his profile, finds
him on her list of blocked people, and unblocks him there."""

from __future__ import annotations

from tests.browser.conftest import Visitor, create_user
from tests.support.servers import Node


def test_block_from_a_profile_and_unblock_from_the_list(visitor: Visitor, node: Node) -> None:
    visitor.first_run()
    create_user(node, "ben")
    page = visitor.page
    visitor.goto("/users/ben")
    visitor.assert_accessible()
    visitor.submit("Block ben")
    assert "You blocked ben." in page.get_by_role("status").inner_text()
    assert page.get_by_text("You block ben.").is_visible()
    assert page.get_by_role("button", name="Unblock ben").is_visible()
    visitor.assert_accessible()
    visitor.fits_width()

    visitor.goto("/settings/profile")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Settings").get_by_role("link", name="Blocked people").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Blocked people"
    assert page.get_by_role("link", name="ben").is_visible()
    visitor.assert_accessible()
    visitor.fits_width()
    visitor.screenshot("settings-blocks")
    visitor.submit("Unblock ben")
    assert "You unblocked ben." in page.get_by_role("status").inner_text()
    assert page.get_by_text("You block nobody.").is_visible()
