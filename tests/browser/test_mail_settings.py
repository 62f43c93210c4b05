"""The notification mail settings in Chromium (axe-core at desktop and 360 px): a member chooses a daily
digest for mentions and never for new followers, saves, and sees the choice kept; the one-click
unsubscribe page a mail links to (no session) works with the button, and refuses an altered link."""

from __future__ import annotations

import sqlite3

from content.notification_mail import unsubscribe_token
from tests.browser.conftest import Visitor
from tests.support.servers import Node


def test_choosing_mail_per_kind_and_unsubscribing(visitor: Visitor, other_visitor: Visitor, node: Node) -> None:
    visitor.first_run()
    page = visitor.page
    visitor.goto("/settings/notifications")
    assert page.get_by_role("heading", level=1).inner_text() == "Mail about your notifications"
    assert page.get_by_text("Your account has no confirmed mail address").is_visible()
    mentions = page.get_by_role("group", name="Mentions and replies")
    assert mentions.get_by_label("Immediately").is_checked()
    assert page.get_by_role("group", name="Sign-ups waiting for approval").is_visible()  # ada is the admin
    visitor.assert_accessible()
    visitor.fits_width()
    visitor.screenshot("settings-mail")

    mentions.get_by_label("Daily digest").check()
    page.get_by_role("group", name="New followers").get_by_label("Never").check()
    visitor.submit("Save")
    assert "Your mail settings are saved." in page.get_by_role("status").inner_text()
    assert page.get_by_role("group", name="Mentions and replies").get_by_label("Daily digest").is_checked()
    assert page.get_by_role("group", name="New followers").get_by_label("Never").is_checked()

    # The link of a digest mail, opened in a browser that is not logged in.
    secret = (node.data_dir / "secret_key").read_text().strip()
    with sqlite3.connect(node.database_url.removeprefix("sqlite+aiosqlite:///")) as db:
        [(ada,)] = db.execute("SELECT id FROM local_actors WHERE username = 'ada'").fetchall()
    link = f"/mail/unsubscribe/{ada}/daily/{unsubscribe_token(secret, ada, 'daily')}"
    stranger = other_visitor.page
    other_visitor.goto(link[:-2] + "xx")
    assert "This unsubscribe link is not valid" in stranger.content()
    other_visitor.goto(link)
    other_visitor.assert_accessible()
    other_visitor.submit("Unsubscribe from the daily digest")
    assert "You are unsubscribed: no more mail about mentions and replies, badges you earned." in stranger.content()
    visitor.goto("/settings/notifications")
    assert page.get_by_role("group", name="Mentions and replies").get_by_label("Never").is_checked()
