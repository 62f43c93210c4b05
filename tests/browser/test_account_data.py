"""A member's data and the end of their account, in a real browser against a real node: downloading the
export (the zip is opened and read) and deleting one's own account from the settings (a wrong password
first, then for good), with axe at desktop width and 360 px."""

from __future__ import annotations

import json
import zipfile

from tests.browser.conftest import PASSWORD, Visitor, create_user
from tests.support.servers import Node


def test_a_member_downloads_their_data_and_deletes_their_account(visitor: Visitor, node: Node) -> None:
    create_user(node, "cleo")
    visitor.first_run()
    visitor.log_out()
    visitor.log_in("cleo")
    page = visitor.page

    # Something to export: a profile.
    visitor.goto("/settings/profile")
    visitor.fill({"Display name": "Cleo Carpenter", "Professional skills": "joinery"})
    visitor.submit("Save profile")

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Your data").click()
    page.wait_for_url("**/settings/export")
    visitor.screenshot("account-export")
    visitor.assert_accessible()
    visitor.fits_width()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your data (zip)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("cleo-") and download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = set(archive.namelist())
        assert {"actor.json", "outbox.json", "profile.json", "follows.json", "memberships.json"} <= names
        actor = json.loads(archive.read("actor.json"))
        assert actor["id"] == f"{node.base_url}/users/cleo" and actor["name"] == "Cleo Carpenter"
        assert json.loads(archive.read("profile.json"))["skills"] == ["joinery"]
        assert json.loads(archive.read("outbox.json"))["type"] == "OrderedCollection"

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Delete account").click()
    page.wait_for_url("**/settings/delete")
    assert page.get_by_role("heading", name="Delete your account").is_visible()
    visitor.screenshot("account-delete")
    visitor.assert_accessible()
    visitor.fits_width()

    # A wrong password: refused, shown at the field, nothing deleted.
    visitor.fill({"Your password": "not my password"})
    page.get_by_label("I understand that my account is deleted for good").check()
    visitor.submit("Delete my account")
    assert page.locator("#password-error").inner_text().endswith("this is not your password")
    visitor.screenshot("account-delete-error")
    visitor.assert_accessible()
    assert page.get_by_role("link", name="Cleo Carpenter").is_visible()  # still logged in

    visitor.fill({"Your password": PASSWORD})
    page.get_by_label("I understand that my account is deleted for good").check()
    visitor.submit("Delete my account")
    assert page.get_by_role("status").inner_text() == "Your account cleo has been deleted. Goodbye!"
    assert page.get_by_role("link", name="Log in").is_visible()

    # Gone: the profile page says so (410), the finder does not list her, and she cannot log in.
    response = visitor.goto("/users/cleo")
    assert response.status == 410  # type: ignore[attr-defined]
    visitor.assert_accessible()
    visitor.goto("/people?skill=joinery")
    assert "Cleo" not in page.locator("main").inner_text()
    visitor.goto("/login")
    visitor.fill({"Name": "cleo", "Password": PASSWORD})
    visitor.submit("Log in")
    assert "do not match" in page.get_by_role("alert").inner_text()


def test_an_admin_deletes_an_account_after_a_confirmation(visitor: Visitor, node: Node) -> None:
    create_user(node, "dora")
    visitor.first_run()
    page = visitor.page
    visitor.goto("/admin/users")
    page.get_by_role("link", name="Delete dora").click()
    page.wait_for_url("**/admin/users/dora/delete")
    assert page.get_by_role("heading", name="Delete the account @dora").is_visible()
    visitor.screenshot("admin-user-delete")
    visitor.assert_accessible()
    visitor.fits_width()

    visitor.submit("Delete the account")  # the box is not ticked: nothing happens
    assert "tick the box" in page.locator("#confirm-error").inner_text()
    visitor.assert_accessible()
    page.get_by_label("Delete @dora for good").check()
    visitor.submit("Delete the account")
    assert page.url.endswith("/admin/users")
    assert page.get_by_role("status").inner_text() == "The account dora has been deleted."
    row = page.get_by_role("row").filter(has_text="@dora")
    assert "Deleted" in row.inner_text() and row.get_by_role("button").count() == 0
    visitor.fits_width()
