"""The web UI in a real browser against a real node: first run, accounts, profile, admin, CSRF, a11y."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import PASSWORD, Visitor, create_user
from tests.support.servers import Node
from tests.support.web_ui import png


def test_first_run_creates_the_admin(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/")
    assert page.get_by_role("heading", name="Set up this node").is_visible()
    visitor.screenshot("first-run-home")
    visitor.assert_accessible()
    visitor.fits_width()

    # A mistake first: shown next to the field, the typed values kept.
    visitor.fill({"Name of this node": "Riverside Makers", "Your admin name": "ada", "Password": PASSWORD,
                  "Password again": "something else"})
    visitor.submit("Create the admin account")
    assert "/setup" in page.url
    assert page.locator("#password_confirm-error").inner_text().endswith("the two passwords are not the same")
    assert page.get_by_label("Your admin name", exact=True).input_value() == "ada"
    visitor.screenshot("first-run-error")

    visitor.fill({"Password": PASSWORD, "Password again": PASSWORD})
    visitor.submit("Create the admin account")
    assert page.url.endswith("/admin/settings")
    assert page.get_by_role("status").first.inner_text().startswith("Welcome!")
    assert page.locator(".site-name").inner_text() == "Riverside Makers"
    visitor.goto("/")
    assert page.get_by_role("heading", name="Set up this node").count() == 0
    response = visitor.goto("/setup")
    assert response.status == 404  # type: ignore[attr-defined]
    assert "Riverside Makers" in page.locator(".site-name").inner_text()


def test_sign_up_log_in_and_log_out(visitor: Visitor, browser: object, node: Node) -> None:
    visitor.first_run()
    visitor.goto("/admin/settings")  # (sign-ups that confirm their mail address: tests/browser/test_password_reset.py)
    visitor.page.get_by_label("New members give a mail address and confirm it before they can log in").uncheck()
    visitor.page.get_by_label("Anyone can sign up", exact=True).check()
    visitor.submit("Save settings")

    # The newcomer's browser has JavaScript off: everything still works.
    newcomer = Visitor(browser, node, javascript=False)
    try:
        page = newcomer.page
        newcomer.goto("/")
        newcomer.page.get_by_role("link", name="Sign up").click()
        newcomer.screenshot("signup")
        newcomer.fill({"Name": "bea", "Display name": "Bea Baker", "Password": PASSWORD, "Password again": PASSWORD})
        newcomer.submit("Create my account")
        assert page.url.endswith("/settings/profile")
        assert page.get_by_role("link", name="Bea Baker").is_visible()

        newcomer.log_out()
        assert page.get_by_role("status").inner_text() == "You have logged out."
        assert page.get_by_role("link", name="Log in").is_visible()

        newcomer.goto("/login")
        newcomer.screenshot("login")
        newcomer.fill({"Name": "bea", "Password": "not my password"})
        newcomer.submit("Log in")
        assert "do not match" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("Name", exact=True).input_value() == "bea"
        newcomer.log_in("bea")
        assert page.url.endswith("/users/bea")
        assert page.get_by_role("heading", level=1).inner_text() == "Bea Baker"
    finally:
        newcomer.close()


def test_change_password(visitor: Visitor, node: Node) -> None:
    create_user(node, "cleo")
    visitor.first_run()
    visitor.log_out()
    visitor.log_in("cleo")
    page = visitor.page
    visitor.goto("/settings/password")
    visitor.screenshot("settings-password")
    visitor.fill({"Current password": "wrong one", "New password": "new passphrase 42",
                  "New password again": "new passphrase 42"})
    visitor.submit("Change password")
    assert "not your current password" in page.locator("#current_password-error").inner_text()
    visitor.fill({"Current password": PASSWORD, "New password": "new passphrase 42",
                  "New password again": "new passphrase 42"})
    visitor.submit("Change password")
    assert "Your password has been changed" in page.get_by_role("status").inner_text()
    visitor.log_out()
    visitor.log_in("cleo")  # the old password
    assert "do not match" in page.get_by_role("alert").inner_text()
    visitor.log_in("cleo", "new passphrase 42")
    assert page.url.endswith("/users/cleo")


def test_profile_edit_with_avatar(visitor: Visitor, node: Node, tmp_path: Path) -> None:
    create_user(node, "fay")
    visitor.first_run()
    visitor.log_out()
    visitor.log_in("fay")
    page = visitor.page
    visitor.goto("/settings/profile")
    avatar = tmp_path / "fay.png"
    avatar.write_bytes(png(64, 64, (30, 120, 200)))
    not_image = tmp_path / "fay.png.txt"
    not_image.write_text("I am not a picture")

    visitor.fill({"Display name": "Fay the Maker", "About you": "I build **chairs**.\n\n- oak\n- ash"})
    page.get_by_label("Upload a new avatar").set_input_files(str(not_image))
    visitor.submit("Save profile")
    assert "not a supported image" in page.locator("#avatar-error").inner_text()
    assert page.get_by_label("Display name", exact=True).input_value() == "Fay the Maker"  # kept
    visitor.screenshot("settings-profile-error")

    page.get_by_label("Upload a new avatar").set_input_files(str(avatar))
    visitor.submit("Save profile")
    assert page.get_by_role("status").inner_text() == "Your profile has been saved."
    assert page.get_by_alt_text("Your current avatar").is_visible()
    visitor.screenshot("settings-profile")
    visitor.assert_accessible()

    visitor.goto("/users/fay")
    assert page.get_by_role("heading", level=1).inner_text() == "Fay the Maker"
    assert page.locator(".summary strong").inner_text() == "chairs"
    assert page.locator(".summary li").all_inner_texts() == ["oak", "ash"]
    loaded = page.locator("img.avatar").evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 64
    visitor.screenshot("profile")
    visitor.assert_accessible()
    visitor.fits_width()


def test_admin_branding_shows_on_every_page(visitor: Visitor, other_visitor: Visitor, node: Node) -> None:
    create_user(node, "member")
    visitor.first_run()
    page = visitor.page
    visitor.goto("/admin/settings")
    visitor.fill({"Accent colour": "#0b6e4g"})  # not a hex digit
    visitor.submit("Save settings")
    assert "#rrggbb" in page.locator("#accent_color-error").inner_text()
    visitor.fill({"Name": "Harbour Co-op", "Accent colour": "#0b6e4f",
                  "Footer links": "Code of conduct | https://harbour.example/coc"})
    visitor.submit("Save settings")
    assert "have been saved" in page.get_by_role("status").inner_text()
    visitor.screenshot("admin-settings")
    visitor.assert_accessible()

    for path in ("/", "/users/member"):
        other_visitor.goto(path)
        other = other_visitor.page
        assert other.locator(".site-name").inner_text() == "Harbour Co-op", path
        header = other.locator(".site-header").evaluate("el => getComputedStyle(el).backgroundColor")
        assert header == "rgb(11, 110, 79)", path
        link = other.get_by_role("link", name="Code of conduct")
        assert link.get_attribute("href") == "https://harbour.example/coc", path
    other_visitor.goto("/")
    other_visitor.screenshot("home")
    other_visitor.assert_accessible()
    other_visitor.fits_width()
    other_visitor.goto("/users/member")
    other_visitor.assert_accessible()
    other_visitor.goto("/no/such/page")
    assert other_visitor.page.locator(".site-name").inner_text() == "Harbour Co-op"
    other_visitor.screenshot("not-found")


def test_admin_suspends_a_user_who_then_cannot_log_in(visitor: Visitor, other_visitor: Visitor, node: Node) -> None:
    create_user(node, "troll")
    visitor.first_run()
    other_visitor.log_in("troll")
    assert other_visitor.page.url.endswith("/users/troll")

    visitor.goto("/admin/users")
    visitor.screenshot("admin-users")
    visitor.assert_accessible()
    visitor.fits_width()
    with visitor.page.expect_navigation():
        visitor.page.get_by_role("link", name="Suspend troll").click()
    # Confirmation and a reason first; without a reason the form says so.
    visitor.submit("Suspend troll")
    assert "say why" in visitor.page.locator("#reason-error").inner_text()
    visitor.assert_accessible()
    visitor.fill({"Reason (shown to them when they try to log in)": "spam in every group"})
    visitor.submit("Suspend troll")
    assert "troll is suspended" in visitor.page.get_by_role("status").inner_text()
    assert visitor.page.get_by_role("button", name="Unsuspend troll").is_visible()

    other_visitor.goto("/settings/profile")  # the running session has ended
    assert "/login" in other_visitor.page.url
    other_visitor.log_in("troll")
    refusal = other_visitor.page.get_by_role("alert").inner_text()
    assert "suspended" in refusal and "spam in every group" in refusal


def test_a_form_post_without_the_csrf_token_is_refused(visitor: Visitor, node: Node) -> None:
    create_user(node, "cleo")
    visitor.first_run()
    visitor.log_out()
    visitor.log_in("cleo")
    page = visitor.page
    visitor.goto("/settings/profile")
    page.locator("form[action='/settings/profile'] input[name=csrf_token]").evaluate("el => el.remove()")
    visitor.fill({"Display name": "Forged"})
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save profile").click()
    assert navigation.value.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Forbidden"
    assert "did not come from this site" in page.locator(".error-message").inner_text()
    visitor.screenshot("csrf-refused")
    visitor.goto("/users/cleo")
    assert page.get_by_role("heading", level=1).inner_text() == "cleo"  # nothing changed


def test_another_site_cannot_frame_our_pages(visitor: Visitor, node: Node) -> None:
    """frame-ancestors 'none' (web/security_headers.py): a one-click admin form cannot be framed and clicked
    through (clickjacking). A page of no origin of ours puts the log-in page in a frame; Chromium refuses."""
    page = visitor.page
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refused:
        page.set_content(f'<iframe src="{node.base_url}/login" title="ours, framed"></iframe>')
    assert "frame-ancestors 'none'" in refused.value.text and "blocked" in refused.value.text
    framed = page.frames[-1]
    assert framed.url != f"{node.base_url}/login" or "Log in" not in framed.content()


def test_a_member_ends_a_session_on_another_browser(visitor: Visitor, other_visitor: Visitor, node: Node) -> None:
    create_user(node, "cleo")
    visitor.first_run()
    visitor.log_out()
    visitor.log_in("cleo")
    other_visitor.log_in("cleo")
    page = visitor.page
    visitor.goto("/settings/sessions")
    assert page.get_by_role("heading", level=1).inner_text() == "Sessions"
    assert page.get_by_text("This browser").is_visible()
    visitor.assert_accessible()
    visitor.fits_width()
    visitor.screenshot("settings-sessions")
    visitor.submit("End session")
    assert "That session has ended." in page.get_by_role("status").inner_text()
    other_visitor.goto("/settings/profile")
    assert "/login" in other_visitor.page.url  # the other browser was logged out
