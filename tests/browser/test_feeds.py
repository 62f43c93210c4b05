"""The feed settings page in Chromium (axe-core, 360 px): a member makes a feed token, copies the link of
their notifications feed, a feed reader (a plain HTTP GET, no cookies) reads it; once revoked, it 404s."""

from __future__ import annotations

from urllib.error import HTTPError
from urllib.request import urlopen

from tests.browser.conftest import Visitor
from tests.support.servers import Node


def _read(url: str) -> tuple[int, str, str]:
    try:
        with urlopen(url, timeout=15) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except HTTPError as refused:
        return refused.code, refused.headers.get("Content-Type", ""), refused.read().decode()


def test_a_member_makes_uses_and_revokes_a_feed_token(visitor: Visitor, node: Node) -> None:
    visitor.first_run()
    page = visitor.page
    visitor.goto("/settings/feeds")
    assert page.get_by_role("heading", level=1).inner_text() == "Feeds"
    assert page.get_by_text("You have no feed token.").is_visible()
    visitor.assert_accessible()
    visitor.submit("Make a feed token")
    link = page.get_by_label("Your notifications (Atom)", exact=True).input_value()
    assert link.startswith(f"{node.base_url}/feeds/notifications.atom?token=")
    visitor.assert_accessible()
    visitor.fits_width()
    visitor.screenshot("settings-feeds-token")
    status, kind, body = _read(link)
    assert status == 200 and kind.startswith("application/atom+xml") and "Notifications of" in body
    visitor.goto("/settings/feeds")
    assert page.get_by_label("Your notifications (Atom)", exact=True).count() == 0  # shown only once
    visitor.submit("Revoke the token")
    assert "revoked" in page.get_by_role("status").inner_text()
    assert _read(link)[0] == 404

