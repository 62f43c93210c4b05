"""Projects in a real browser (issue #14), against a real `madeopen run` node: a customer raises a concern;
a staff member, in a browser without JavaScript, starts a project from it, invites the customer, adds
tasks; the customer accepts and moves her task along with buttons (checklist and board view); the lead
closes the project, and the concern shows "done" with the outcome. axe-core at desktop and 360 px, and
screenshots (test-output/screenshots/projects-*)."""

from __future__ import annotations

import re

from tests.browser.conftest import Visitor, create_user
from tests.browser.test_board import _make_staff, _post
from tests.support.servers import Node


def test_start_invite_tasks_and_close(visitor: Visitor, browser: object, node: Node) -> None:
    for name in ("ada", "erin", "sam"):
        create_user(node, name)
    node.cli("group", "create", "shop", "--owner", "ada", "--title", "The Shop", check=True)
    _make_staff(node, "shop", "sam")
    erin = visitor
    erin.log_in("erin")
    concern = _post(erin, "Concern", "Broken till", "It eats **cards**.")
    assert erin.page.get_by_role("link", name="Start a project").count() == 0  # erin is not on the team

    sam = Visitor(browser, node)
    plain = Visitor(browser, node, javascript=False)  # erin again, without JavaScript: buttons, nothing to drag
    try:
        sam.log_in("sam")
        sam.goto(concern)
        sam.page.get_by_role("link", name="Start a project").click()
        sam.page.wait_for_url("**/projects/new?from=**")
        assert sam.page.get_by_label("Name", exact=True).input_value() == "broken_till"
        sam.assert_accessible()
        sam.submit("Start the project")
        sam.page.wait_for_url("**/groups/broken_till/project")
        assert "0 of 0 tasks done, 1 person" in sam.page.locator("#progress").inner_text()

        sam.fill({"Invite someone": "erin"})
        sam.submit("Invite")
        assert sam.page.get_by_text("Invitation sent to erin").is_visible()
        sam.fill({"Invite someone": "sam"})
        sam.submit("Invite")
        assert "already in the team" in sam.page.locator(".field-error").inner_text()

        erin.goto("/projects")
        erin.assert_accessible()
        erin.submit(re.compile(r"^Accept\W+Broken till"))  # type: ignore[arg-type]
        erin.page.wait_for_url("**/groups/broken_till/project")

        sam.goto("/groups/broken_till/project")
        for title, who, due in (("Call the bank", "erin", "2027-01-15"), ("Order a new till", None, "")):
            sam.page.get_by_text("Add a task").click()
            sam.fill({"Task": title, "Due date": due})
            if who:
                sam.page.get_by_label(who, exact=True).check()
            sam.submit("Add the task")
            assert sam.page.get_by_text("Task added.").is_visible()
        sam.page.get_by_text("Add a task").click()
        sam.fill({"Task": "Bad date", "Due date": "soon"})
        sam.submit("Add the task")
        assert "YYYY-MM-DD" in sam.page.locator(".field-error").inner_text()
        assert sam.page.get_by_label("Task", exact=True).input_value() == "Bad date"  # kept as typed
        sam.screenshot("projects-lead")
        sam.assert_accessible()
        sam.fits_width()

        # sam edits a task on its page: a bad date keeps the form as typed; then it is saved.
        sam.goto("/groups/broken_till/project")
        sam.page.get_by_role("link", name="Order a new till").first.click()
        sam.page.get_by_text("Edit the task").click()
        sam.fill({"Task": "Order a new till today", "Due date": "tomorrow"})
        sam.submit("Save the task")
        assert "YYYY-MM-DD" in sam.page.locator(".field-error").inner_text()
        assert sam.page.get_by_label("Task", exact=True).input_value() == "Order a new till today"
        sam.assert_accessible()
        sam.fill({"Due date": "2027-02-01"})
        sam.submit("Save the task")
        assert sam.page.get_by_text("Task saved.").is_visible()
        assert sam.page.get_by_role("heading", name="Order a new till today").is_visible()
        sam.page.get_by_text("Edit the task").click()
        sam.screenshot("projects-task-edit")
        sam.assert_accessible()
        sam.fits_width()

        # erin moves her task without JavaScript: doing (checklist), then done (board view); "Only mine".
        plain.log_in("erin")
        plain.goto("/groups/broken_till/project")
        plain.submit(re.compile(r"^Start\W+Call the bank"))  # type: ignore[arg-type]
        assert "Doing" in plain.page.locator(".task", has_text="Call the bank").inner_text()
        plain.page.get_by_role("link", name="Board").click()
        plain.page.wait_for_url("**view=board**")
        plain.submit(re.compile(r"^Mark done\W+Call the bank"))  # type: ignore[arg-type]
        assert "Call the bank" in plain.page.locator("#column-done").locator("xpath=..").inner_text()
        plain.page.get_by_role("link", name="Only mine").click()
        assert plain.page.locator(".task").count() == 1
        assert "1 of 2 tasks done, 2 people" in plain.page.locator("#progress").inner_text()
        erin.goto("/groups/broken_till/project?view=board")
        erin.screenshot("projects-board")
        erin.assert_accessible()
        erin.fits_width()

        erin.goto(concern)
        assert "Project: Broken till — 1 of 2 tasks done, 2 people" in erin.page.locator(".board-box").inner_text()

        # sam closes the project with an outcome; the concern is done with it.
        sam.goto("/groups/broken_till/project")
        sam.fill({"Outcome": "A new till since Monday."})
        sam.submit("Mark the project done")
        assert sam.page.get_by_role("heading", name="Outcome").is_visible()
    finally:
        sam.close()
        plain.close()

    erin.goto(concern)
    box = erin.page.locator(".board-box")
    assert "Status: Done" in box.inner_text() and "A new till since Monday." in box.inner_text()
    erin.screenshot("projects-concern-done")
    erin.assert_accessible()
    erin.goto("/users/erin")
    assert re.search(r"Tasks completed \(1\)", erin.page.locator("main").inner_text())
    erin.assert_accessible()
