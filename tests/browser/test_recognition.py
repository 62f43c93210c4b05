"""Recognition in a real browser (issue #17), against a real `madeopen run` node: the owner offers a
reward (a negative cost is refused next to its field), members give kudos on a reply (the team's worth
more), the helper sees the leaderboard and their ledger, redeems the reward (a second time is refused:
not enough points), and the team marks it fulfilled. axe-core at desktop and 360 px; screenshots in
test-output/screenshots/recognition-*."""

from __future__ import annotations

import re

from tests.browser.conftest import Visitor, create_user
from tests.browser.test_board import _make_staff, _post
from tests.support.servers import Node


def _join(visitor: Visitor) -> None:
    visitor.goto("/groups/shop")
    visitor.submit(re.compile("^Join"))  # type: ignore[arg-type]


def test_kudos_leaderboard_redeem_and_fulfil(visitor: Visitor, browser: object, node: Node) -> None:
    for name in ("ada", "erin", "fred", "sam"):
        create_user(node, name)
    node.cli("group", "create", "shop", "--owner", "ada", "--title", "The Shop", check=True)
    _make_staff(node, "shop", "sam")

    ada = visitor
    ada.log_in("ada")
    ada.goto("/groups/shop/recognition/team")
    ada.fill({"Reward": "Early access", "Cost in points": "-5"})
    ada.submit("Offer the reward")
    assert "whole number of points" in ada.page.locator("#reward-cost-error").inner_text()
    assert ada.page.get_by_label("Reward", exact=True).input_value() == "Early access"  # kept
    ada.assert_accessible()
    ada.fill({"Cost in points": "12", "Description (optional)": "Try new features first"})
    ada.submit("Offer the reward")
    assert ada.page.get_by_text("offered for 12 points").is_visible()
    ada.screenshot("recognition-team-owner")
    ada.assert_accessible()
    ada.fits_width()
    ada.log_out()

    erin = ada
    erin.log_in("erin")
    _join(erin)
    question = _post(erin, "Question", "Which glue for oak?", "Indoors, a small shelf.")

    fred = Visitor(browser, node)
    sam = Visitor(browser, node)
    try:
        fred.log_in("fred")
        _join(fred)
        fred.goto(question)
        fred.page.get_by_label("Your reply", exact=True).fill("PVA wood glue, clamp it overnight.")
        fred.submit("Post reply")
        assert fred.page.get_by_role("button", name=re.compile("^Kudos to fred")).count() == 0  # not your own post
        assert fred.page.get_by_role("button", name=re.compile("^Kudos to erin")).count() == 1

        erin.goto(question)
        erin.submit(re.compile("^Kudos to fred"))
        assert erin.page.get_by_text("Kudos given").is_visible()
        assert erin.page.get_by_text("You thanked fred").is_visible()
        erin.assert_accessible()

        sam.log_in("sam")
        sam.goto(question)
        sam.submit(re.compile("^Kudos to fred"))  # the team's kudos: 10 points

        fred.goto("/groups/shop")
        helpers = fred.page.locator(".top-helpers").inner_text()
        assert "fred" in helpers and "15 points" in helpers, helpers
        fred.page.get_by_role("link", name="Points and rewards", exact=True).click()
        fred.page.wait_for_url("**/groups/shop/recognition")
        board = fred.page.locator("table.leaderboard").inner_text()
        assert re.search(r"1\s+fred\s+15", board), board
        assert "15 points to spend" in fred.page.locator(".balance").inner_text()
        fred.page.get_by_text("Where your points come from").click()
        assert fred.page.get_by_role("link", name="Kudos from the team").is_visible()
        fred.page.get_by_role("link", name="All time").click()
        assert "fred" in fred.page.locator("table.leaderboard").inner_text()
        fred.screenshot("recognition-member")
        fred.assert_accessible()
        fred.fits_width()

        fred.submit("Redeem Early access")
        assert fred.page.get_by_text("Redeemed.").is_visible()
        assert "3 points to spend" in fred.page.locator(".balance").inner_text()
        fred.submit("Redeem Early access")
        assert fred.page.get_by_text("costs 12 points; you have 3").is_visible()
        assert "waiting for the team" in fred.page.locator("#requests-heading + ul").inner_text()

        sam.goto("/groups/shop/recognition")
        sam.page.get_by_role("link", name="Team: requests, badges, rewards").click()
        sam.page.wait_for_url("**/recognition/team")
        assert sam.page.get_by_role("heading", name="Rewards").count() == 0  # staff fulfil; owners define
        sam.assert_accessible()
        sam.submit(re.compile("^Mark fulfilled.*Early access for fred"))  # type: ignore[arg-type]
        assert sam.page.get_by_text("Marked fulfilled.").is_visible()
        sam.fill({"Badge": "Glue guru", "Why": "Saved erin's shelf"})
        sam.page.locator("#badge-member").select_option(value=f"{node.base_url}/users/fred")
        sam.submit("Grant the badge")
        assert sam.page.get_by_text("Badge “Glue guru” granted.").is_visible()

        fred.goto("/groups/shop/recognition")
        assert "fulfilled" in fred.page.locator("#requests-heading + ul").inner_text()
        fred.goto("/notifications")
        told = fred.page.locator(".notification").first.inner_text()
        assert "The Shop awarded you the badge “Glue guru”" in told and "Saved erin's shelf" in told, told
        fred.page.get_by_role("link", name="“Glue guru”").click()
        fred.page.wait_for_url("**/groups/shop/recognition")
        fred.goto("/users/fred")
        assert "Glue guru" in fred.page.locator(".badge-list").inner_text()
        fred.assert_accessible()
        fred.goto(question)
        assert fred.page.locator(".byline .badge--award", has_text="Glue guru").count() == 1
        fred.goto("/settings/recognition")  # opting out of the "people who could help" ranking
        fred.page.get_by_label("Rank me among people who could help by the help I gave in groups").uncheck()
        fred.submit("Save")
        assert fred.page.get_by_text("your help no longer ranks you").is_visible()
        fred.assert_accessible()
    finally:
        fred.close()
        sam.close()
