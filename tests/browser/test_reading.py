"""Reading in a real browser (issue #16): the front page's latest activity and a group's thread list with
avatars and "New" / "N new replies" markers for a member, times shown as "… ago" with the exact local time
in their title (web/static/time.js), and the phone menu (a <details>) at 360 px. axe at desktop and 360 px.
"""

from __future__ import annotations

import re

from tests.browser.conftest import PHONE, DESKTOP, Visitor, create_user
from tests.browser.test_groups import _start_thread
from tests.support.servers import Node


def test_front_page_and_thread_list_with_avatars_and_unread_markers(browser: object, node: Node) -> None:
    create_user(node, "ada")
    create_user(node, "bea")
    node.cli("group", "create", "garden", "--owner", "ada", "--title", "Community Garden", check=True)
    ada, bea = Visitor(browser, node), Visitor(browser, node)
    try:
        bea.log_in("bea")
        bea.goto("/groups/garden")
        bea.submit(re.compile("^Join"))  # type: ignore[arg-type]

        ada.log_in("ada")
        thread = _start_thread(ada, "garden", "Beans this year", "When do we sow?")

        page = bea.page
        bea.goto("/groups/garden")
        item = page.locator("li.thread-item", has_text="Beans this year")
        assert item.locator(".badge--new", has_text="New").is_visible()
        assert item.locator('img.avatar[src="/users/ada/avatar"]').is_visible()
        moment = item.locator("time").first
        assert re.fullmatch(r"now|\d+ seconds? ago|\d+ minutes? ago", moment.inner_text()), moment.inner_text()
        assert moment.get_attribute("title") and moment.get_attribute("datetime")
        bea.screenshot("group-thread-list-new")
        bea.assert_accessible()

        bea.goto(thread)  # read: the marker goes
        ada.goto(thread)
        ada.page.get_by_label("Your reply").first.fill("In May, after the frosts.")
        ada.submit("Post reply")
        bea.goto("/groups/garden")
        item = page.locator("li.thread-item", has_text="Beans this year")
        assert item.locator(".badge--new", has_text="1 new reply").is_visible()
        assert "last reply by ada" in item.inner_text()

        _start_thread(ada, "garden", "Tomatoes", "Who has seedlings?")
        bea.goto("/")
        latest = page.locator("section", has=page.get_by_role("heading", name="Latest activity"))
        entry = latest.locator("li.thread-item", has_text="Beans this year")
        assert entry.is_visible() and "in Community Garden" in entry.inner_text() and "1 reply" in entry.inner_text()
        assert entry.locator(".badge--new", has_text="1 new reply").is_visible()
        fresh = latest.locator("li.thread-item", has_text="Tomatoes")  # started after bea joined the group
        assert fresh.locator(".badge--new", has_text=re.compile("^New$")).is_visible()
        assert page.get_by_text("2 members · 2 threads").is_visible()
        bea.screenshot("front-page")
        bea.assert_accessible()
        bea.fits_width()

        # Phones: the links sit behind "Menu", which opens without JavaScript (<details>).
        page.set_viewport_size(PHONE)
        assert not page.get_by_role("link", name="Groups", exact=True).is_visible()
        page.locator("summary", has_text="Menu").click()
        page.get_by_role("link", name="Groups", exact=True).click()
        page.wait_for_url("**/groups")
        page.set_viewport_size(DESKTOP)
    finally:
        ada.close()
        bea.close()
