"""Group settings in a real browser: the owner on node A changes the title, description, banner and who may
start threads; a wrong field is refused in words with the typed text kept; a member on node B sees the
new title and description on B's page of the group (Update{Group}, issue #16). axe at desktop and 360 px.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import Visitor, create_user
from tests.browser.test_groups import _wait_for, second_node  # noqa: F401  (fixture)
from tests.support.servers import Node
from tests.support.web_ui import png


def test_owner_changes_settings_and_the_second_node_sees_them(
    browser: object, node: Node, second_node: Node, tmp_path: Path
) -> None:
    create_user(node, "ada")
    node.cli("group", "create", "garden", "--owner", "ada", "--title", "Community Garden", check=True)
    create_user(second_node, "zoe")
    zoe = Visitor(browser, second_node)
    ada = Visitor(browser, node)
    try:
        zoe.log_in("zoe")
        zoe.goto("/groups")
        zoe.fill({"Search groups": f"!garden@{node.domain}"})
        zoe.submit("Search")
        zoe.submit(re.compile("^Join"))  # type: ignore[arg-type]
        remote_page = zoe.page.url
        assert "/remote-group?id=" in remote_page

        def member() -> bool:
            zoe.page.reload()
            return zoe.page.get_by_text("You are a member.").is_visible()

        _wait_for(member, what="zoe's membership accepted")

        ada.log_in("ada")
        ada.goto("/groups/garden")
        ada.page.get_by_role("navigation", name="Moderation").get_by_role("link", name="Settings").click()
        ada.page.wait_for_url("**/groups/garden/settings")
        ada.assert_accessible()
        ada.fits_width()

        # A wrong field: refused in words, nothing saved, what was typed kept.
        ada.fill({"Title": "", "Description": "We grow **beans** together."})
        ada.submit("Save settings")
        summary = ada.page.get_by_role("alert")
        assert "give the group a title" in summary.inner_text()
        assert ada.page.get_by_label("Description", exact=True).input_value() == "We grow **beans** together."
        ada.assert_accessible()

        banner = tmp_path / "banner.png"
        banner.write_bytes(png(60, 15, (30, 120, 60)))
        ada.fill({"Title": "Garden Club"})
        ada.page.get_by_label("Upload a new banner").set_input_files(str(banner))
        ada.page.get_by_label("Only the team (owners, admins and moderators)").check()
        ada.page.get_by_label("Idea", exact=True).check()
        ada.submit("Save settings")
        assert ada.page.url.endswith("/groups/garden")
        assert ada.page.get_by_role("heading", level=1, name="Garden Club").is_visible()
        assert ada.page.get_by_text("Only the team starts threads").is_visible()
        assert ada.page.locator("img.group-banner").is_visible()
        ada.screenshot("group-settings-saved")
        ada.assert_accessible()

        def renamed_on_b() -> bool:
            zoe.page.goto(remote_page)
            return zoe.page.get_by_role("heading", level=1, name="Garden Club").is_visible()

        _wait_for(renamed_on_b, what="the new title on the second node")
        assert zoe.page.locator("strong", has_text="beans").is_visible()
        zoe.screenshot("group-settings-remote")
        zoe.assert_accessible()
    finally:
        ada.close()
        zoe.close()
