"""Suspending an account of another server in Chromium (axe-core at desktop and 360 px): ada, the admin,
opens "Suspended accounts" from the admin pages, is told what is wrong with an empty reason, suspends
zed@elsewhere.example (an account this node already knows), finds zed on the list and unsuspends him."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from storage.models import RemoteActor
from tests.browser.conftest import Visitor
from tests.support.cluster import node_services
from tests.support.servers import Node

ZED = "https://elsewhere.example/users/zed"


async def _known_remote_person(node: Node) -> None:
    """zed, as this node's cache of remote actors keeps him (no network: his server does not exist)."""
    services = await node_services(node)
    try:
        async with services.sessions.begin() as session:
            session.add(RemoteActor(uri=ZED, actor_type="Person", username="zed", domain="elsewhere.example",
                                    display_name="Zed Spammer", inbox=f"{ZED}/inbox", document={"id": ZED}))
    finally:
        await services.close()


def test_suspend_and_unsuspend_a_remote_account(visitor: Visitor, node: Node) -> None:
    visitor.first_run()
    with ThreadPoolExecutor(1) as pool:  # its own loop: Playwright's sync API owns this thread's
        pool.submit(asyncio.run, _known_remote_person(node)).result()
    page = visitor.page
    visitor.goto("/admin/settings")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Administration").get_by_role("link", name="Suspended accounts").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Suspended accounts"
    assert page.get_by_text("No account of another server is suspended.").is_visible()
    visitor.assert_accessible()
    visitor.fits_width()

    visitor.fill({"Account to suspend": "zed@elsewhere.example"})
    visitor.submit("Suspend this account")
    assert "say why" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Account to suspend", exact=True).input_value() == "zed@elsewhere.example"  # kept
    visitor.assert_accessible()

    visitor.fill({"Reason (for the moderation log)": "Spam in every group"})
    visitor.submit("Suspend this account")
    assert "zed@elsewhere.example is suspended" in page.get_by_role("status").inner_text()
    table = page.get_by_role("table")
    assert table.get_by_role("link", name="Zed Spammer").is_visible()
    assert table.get_by_text("Spam in every group").is_visible()
    visitor.assert_accessible()
    visitor.fits_width()
    visitor.screenshot("admin-suspended-accounts")

    visitor.submit("Unsuspend Zed Spammer")
    assert "The suspension of Zed Spammer is lifted" in page.get_by_role("status").inner_text()
    assert page.get_by_text("No account of another server is suspended.").is_visible()
    visitor.goto("/admin/log")
    assert page.get_by_text("lifted the suspension of").first.is_visible()
