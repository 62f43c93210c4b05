"""Reports in a real browser against a real node: a member reports a post (a mistake first: no reason), the
group's moderator finds it in the queue and removes the post, and the reporter is told the outcome.
Screenshots at desktop width and 360 px; axe-core finds no serious or critical problem on these pages."""

from __future__ import annotations

import re

from tests.browser.conftest import Visitor, create_user
from tests.support.servers import Node


def _join_and_post(bea: Visitor) -> str:
    bea.log_in("bea")
    bea.goto("/groups/garden")
    bea.submit(re.compile("^Join"))  # type: ignore[arg-type]
    bea.page.get_by_role("link", name="Start a thread").click()
    bea.page.wait_for_url("**/groups/garden/new")
    bea.fill({"Title": "Cheap pills", "Text": "Buy cheap pills at pills.example"})
    bea.submit("Post the thread")
    assert "/objects/" in bea.page.url
    return bea.page.url.split("#")[0]


def _report(cleo: Visitor, thread: str) -> None:
    page = cleo.page
    cleo.log_in("cleo")
    cleo.goto(thread)
    page.get_by_role("link", name=re.compile("^Report")).click()
    page.wait_for_url("**/report?post=*")
    cleo.submit("Send the report")  # no reason: the form says what is missing
    assert "say what is wrong" in page.locator("#reason-error").inner_text()
    cleo.screenshot("report-error")
    cleo.assert_accessible()
    cleo.fits_width()
    cleo.fill({"What is wrong?": "Spam: selling pills"})
    cleo.submit("Send the report")
    assert "your report was sent to the moderators" in page.get_by_role("status").inner_text()


def test_report_a_post_the_moderator_removes_it_and_the_reporter_is_told(
    visitor: Visitor, other_visitor: Visitor, browser: object, node: Node
) -> None:
    for name in ("ada", "bea", "cleo"):
        create_user(node, name)
    node.cli("group", "create", "garden", "--owner", "ada", "--title", "Community Garden", check=True)
    thread = _join_and_post(other_visitor)
    _report(visitor, thread)

    ada = Visitor(browser, node)
    try:
        ada.log_in("ada")
        ada.goto("/groups/garden/moderation")
        ada.page.get_by_role("link", name="Reports").click()
        ada.page.wait_for_url("**/groups/garden/reports")
        report = ada.page.locator(".report").first
        assert "Spam: selling pills" in report.inner_text() and "Cheap pills" in report.inner_text()
        ada.screenshot("report-queue")
        ada.assert_accessible()
        ada.fits_width()
        ada.fill({"Note for the log (optional; the reason given to the person)": "pill spam"})
        with ada.page.expect_navigation():
            report.get_by_role("button", name=re.compile("^Remove the post")).click()
        assert "The post was removed" in ada.page.get_by_role("status").inner_text()
        assert "No open reports" in ada.page.locator("main").inner_text()

        ada.page.get_by_role("link", name="Moderation log").click()
        ada.page.wait_for_url("**/groups/garden/log")
        log = ada.page.locator("main").inner_text()
        assert "removed the post" in log and "pill spam" in log
        ada.assert_accessible()
        ada.fits_width()
    finally:
        ada.close()

    visitor.goto(thread)
    assert "This post was deleted." in visitor.page.locator("main").inner_text()
    visitor.goto("/notifications")
    notice = visitor.page.locator(".notification").first.inner_text()
    assert "dealt with your report about" in notice and "The post was removed." in notice
    visitor.screenshot("report-outcome")
    visitor.assert_accessible()
