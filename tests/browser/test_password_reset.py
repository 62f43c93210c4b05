"""A forgotten password in a real browser, against a real `madeopen run` node that mails through a real
SMTP server on loopback (tests/support/smtp.py): "Forgot your password?" on the log-in page, the mail
read from the SMTP server, its link followed, a new password set, and a log-in with it; the used link
then says so. A newcomer's sign-up is confirmed the same way. axe-core at desktop and 360 px on every
page, and screenshots (test-output/screenshots/reset-*)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from tests.browser.conftest import PASSWORD, Visitor, migrated_sqlite
from tests.support.databases import SqliteTemplate
from tests.support.servers import Node
from tests.support.smtp import Mailbox, smtp_server

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def mailing_node(tmp_path: Path, sqlite_template: SqliteTemplate) -> Iterator[tuple[Node, Mailbox]]:
    """A fresh node whose worker sends its mail to a real SMTP server on loopback."""
    with smtp_server() as (mailbox, port):
        running = Node(data_dir=tmp_path / "node", database_url=migrated_sqlite(tmp_path, sqlite_template),
                       extra_env={"MADEOPEN_SMTP_URL": f"smtp://127.0.0.1:{port}",
                                  "MADEOPEN_MAIL_FROM": "Riverside <noreply@riverside.test>"})
        running.start()
        try:
            yield running, mailbox
        finally:
            running.stop()


def _mail_to(mailbox: Mailbox, address: str, count: int = 1, timeout: float = 30.0) -> Message:
    """The ``count``-th mail to ``address``, once the node's mail worker has sent it (it polls every 2 s)."""
    deadline = time.monotonic() + timeout
    while len(mailbox.to(address)) < count:
        assert time.monotonic() < deadline, f"no mail to {address} within {timeout} s"
        time.sleep(0.2)
    return mailbox.to(address)[count - 1]


def _link(message: Message, base_url: str) -> str:
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    found = re.search(re.escape(base_url) + r"(/(?:password/reset|email/confirm)/[A-Za-z0-9_-]+)",
                      body.get_payload(decode=True).decode())
    assert found, "no link in the mail"
    return found.group(1)


def test_forgotten_password_reset_by_mail(browser: object, mailing_node: tuple[Node, Mailbox]) -> None:
    node, mailbox = mailing_node
    secret = node.data_dir / "cleo.password"
    secret.write_text(PASSWORD + "\n")
    os.chmod(secret, 0o600)
    node.cli("user", "create", "cleo", "--password-file", str(secret), "--email", "cleo@example.org", check=True)
    cleo = Visitor(browser, node)
    try:
        page = cleo.page
        cleo.goto("/login")
        page.get_by_role("link", name="Forgot your password?").click()
        page.wait_for_url("**/password/forgot")
        cleo.assert_accessible()
        cleo.screenshot("reset-forgot")

        cleo.fill({"Mail address": "not an address"})
        cleo.submit("Send me a link")
        assert "not a mail address" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("Mail address").get_attribute("aria-invalid") == "true"
        cleo.assert_accessible()

        cleo.fill({"Mail address": "cleo@example.org"})
        cleo.submit("Send me a link")
        assert "If an account here uses that address" in page.get_by_role("status").inner_text()
        cleo.assert_accessible()
        cleo.screenshot("reset-sent")

        message = _mail_to(mailbox, "cleo@example.org")
        assert message["From"] == "Riverside <noreply@riverside.test>"
        link = _link(message, node.base_url)
        cleo.goto(link)
        assert page.get_by_role("heading", level=1).inner_text() == "Choose a new password"
        cleo.assert_accessible()
        cleo.screenshot("reset-choose")
        cleo.fill({"New password": "short", "New password again": "short"})
        cleo.submit("Set my new password")
        assert "too short" in page.get_by_role("alert").inner_text()
        cleo.fill({"New password": NEW_PASSWORD, "New password again": NEW_PASSWORD})
        cleo.submit("Set my new password")
        assert page.url.endswith("/login")
        assert "has been set" in page.get_by_role("status").inner_text()

        cleo.log_in("cleo", PASSWORD)  # the old password is over
        assert "do not match" in page.get_by_role("alert").inner_text()
        cleo.log_in("cleo", NEW_PASSWORD)
        assert page.url.endswith("/users/cleo")

        cleo.goto(link)  # each link works once
        assert page.get_by_role("heading", level=1).inner_text() == "This link does not work"
        assert "already been used" in page.locator("main").inner_text()
        cleo.assert_accessible()
        assert "changed" in _mail_to(mailbox, "cleo@example.org", count=2)["Subject"]
    finally:
        cleo.close()


def test_sign_up_confirmed_by_mail(browser: object, mailing_node: tuple[Node, Mailbox]) -> None:
    node, mailbox = mailing_node
    admin = Visitor(browser, node)
    newcomer = Visitor(browser, node)
    try:
        admin.first_run()
        admin.set_registration("Anyone can sign up")
        page = newcomer.page
        newcomer.goto("/signup")
        newcomer.fill({"Name": "bea", "Mail address": "bea@example.org", "Password": PASSWORD,
                       "Password again": PASSWORD})
        newcomer.submit("Create my account")
        assert page.get_by_role("heading", level=1).inner_text() == "Check your mail"
        newcomer.assert_accessible()
        newcomer.screenshot("reset-signup-check-mail")

        newcomer.goto(_link(_mail_to(mailbox, "bea@example.org"), node.base_url))
        newcomer.assert_accessible()
        newcomer.submit("Confirm bea@example.org")
        assert "Your account is ready" in page.get_by_role("status").inner_text()
        newcomer.log_in("bea")
        assert page.url.endswith("/users/bea")
        newcomer.goto("/settings/email")
        assert "bea@example.org" in page.locator("main").inner_text()
        newcomer.assert_accessible()
        newcomer.screenshot("reset-email-settings")
    finally:
        newcomer.close()
        admin.close()


def test_admin_sends_reset_links(browser: object, mailing_node: tuple[Node, Mailbox]) -> None:
    node, mailbox = mailing_node
    for name, address in (("boss", None), ("cleo", "cleo@example.org"), ("nomail", None)):
        secret = node.data_dir / f"{name}.password"
        secret.write_text(PASSWORD + "\n")
        os.chmod(secret, 0o600)
        extra = ["--admin"] if name == "boss" else ["--email", address] if address else []
        node.cli("user", "create", name, "--password-file", str(secret), *extra, check=True)
    boss = Visitor(browser, node)
    try:
        page = boss.page
        boss.log_in("boss")
        boss.goto("/admin/users")
        boss.assert_accessible()
        boss.fits_width()
        boss.submit("Mail a password reset link for cleo")
        assert "mailed to cleo (cleo@example.org)" in page.get_by_role("status").inner_text()
        assert "an admin of this node" in _mail_to(mailbox, "cleo@example.org").get_payload(0).get_payload(decode=True).decode()

        boss.submit("Make a password reset link for nomail")
        link = page.get_by_label("Reset link").input_value()
        assert link.startswith(f"{node.base_url}/password/reset/")
        boss.assert_accessible()
        boss.fits_width()
        boss.screenshot("reset-admin-link")
    finally:
        boss.close()
