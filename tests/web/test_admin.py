"""Admin pages: node settings and branding on every page, the people list, suspensions; admins only."""

from __future__ import annotations

from actors import node_settings
from madeopen.app import Services
from storage.models import Account, LocalActor
from tests.support.web_ui import PASSWORD, UI, create_person, person, png, second_ui, ui  # noqa: F401

GOOD = {
    "node_name": "Harbour Co-op",
    "node_description": "Boats, nets and people.",
    "registration_mode": "open",
    "accent_color": "#AA3300",
    "footer_links": "Imprint | https://harbour.example/imprint\r\n\r\nCode of conduct | http://harbour.example/coc",
}


async def _admin(ui: UI, services: Services) -> None:
    await create_person(services, "root_ada", admin=True)
    await ui.log_in("root_ada")


async def _settings(services: Services) -> node_settings.NodeSettings:
    async with services.sessions() as session:
        return await node_settings.load(session)


async def test_admin_pages_are_for_admins_only(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "root_ada", admin=True)
    await create_person(services, "member")
    # A visitor is asked to log in.
    response = await second_ui.get("/admin/settings")
    assert response.status == 303 and response.headers["Location"].startswith("/login?next=")
    # A member gets the branded 403 page, for reading and for acting.
    await ui.log_in("member")
    for path in ("/admin", "/admin/settings", "/admin/users"):
        page = await ui.page(path, status=403)
        assert "for the admins of this node" in page and "Test Node" in page
    assert 'href="/admin/settings"' not in await ui.page("/")
    response = await ui.post("/admin/settings", GOOD, form_page="/settings/profile")
    assert response.status == 403
    response = await ui.post("/admin/users/root_ada/suspend", {}, form_page="/settings/profile")
    assert response.status == 403
    assert (await _settings(services)).name is None
    ada = await person(services, "root_ada")
    assert ada is not None and ada.account is not None and not ada.account.suspended


async def test_branding_applies_to_every_page(ui: UI, second_ui: UI, services: Services) -> None:
    await _admin(ui, services)
    await create_person(services, "member")
    response = await ui.post("/admin/settings", GOOD, files={"logo": ("logo.png", png(), "image/png")},
                             form_page="/admin/settings")
    assert response.status == 303, await response.text()
    assert "The settings of this node have been saved." in await ui.page("/admin/settings")
    saved = await _settings(services)
    assert saved.name == "Harbour Co-op" and saved.accent_color == "#aa3300" and saved.registration_mode == "open"
    assert saved.footer_links == (
        node_settings.FooterLink("Imprint", "https://harbour.example/imprint"),
        node_settings.FooterLink("Code of conduct", "http://harbour.example/coc"),
    )
    assert saved.logo and (services.settings.data_dir / "media" / saved.logo).is_file()

    # Another visitor, logged out, sees it all on the home page, a profile page and an error page.
    for path, status in (("/", 200), ("/users/member", 200), ("/login", 200), ("/nope", 404)):
        page = await second_ui.page(path, status=status)
        assert "Harbour Co-op" in page, path
        assert "--accent: #aa3300" in await second_ui.branding(page), path
        assert '<a href="https://harbour.example/imprint" rel="noopener">Imprint</a>' in page, path
        assert f'src="/media/{saved.logo}"' in page, path
        assert "Test Node" not in page, path
    assert "Boats, nets and people." in await second_ui.page("/")
    assert 'href="/signup"' in await second_ui.page("/")  # registration is open now

    # Removing the logo deletes its file.
    response = await ui.post("/admin/settings", {**GOOD, "remove_logo": "on"}, form_page="/admin/settings")
    assert response.status == 303
    assert (await _settings(services)).logo is None
    assert not (services.settings.data_dir / "media" / saved.logo).exists()


async def test_text_on_a_light_accent_stays_readable(ui: UI, services: Services) -> None:
    await _admin(ui, services)
    response = await ui.post("/admin/settings", {**GOOD, "accent_color": "#ffee00"}, form_page="/admin/settings")
    assert response.status == 303
    page = await ui.page("/")
    style = await ui.branding(page)
    assert "--accent: #ffee00; --on-accent: #000000;" in style
    link = style.split("--link: ")[1][:7]
    assert node_settings.contrast(link, "#ffffff") >= 4.5


async def test_bad_settings_are_shown_and_nothing_changes(ui: UI, services: Services) -> None:
    await _admin(ui, services)
    before = await _settings(services)
    cases = [
        ({"node_name": ""}, None, "node_name", "enter a name"),
        ({"node_name": "n" * 101}, None, "node_name", "too long"),
        ({"node_description": "d" * 1001}, None, "node_description", "too long"),
        ({"registration_mode": "everyone"}, None, "registration_mode", "choose one of"),
        ({"accent_color": "red"}, None, "accent_color", "#rrggbb"),
        ({"accent_color": "#12345g"}, None, "accent_color", "#rrggbb"),
        ({"accent_color": "#1234567"}, None, "accent_color", "#rrggbb"),
        ({"accent_color": "#fff;}body{x"}, None, "accent_color", "#rrggbb"),
        ({"footer_links": "Evil | javascript:alert(1)"}, None, "footer_links", "not a web address"),
        ({"footer_links": "Files | ftp://files.example"}, None, "footer_links", "not a web address"),
        ({"footer_links": "Shop | /shop"}, None, "footer_links", "not a web address"),
        ({"footer_links": "ok | https://a.example\nno url here"}, None, "footer_links", "line 2"),
        ({"footer_links": "x" * 61 + " | https://a.example"}, None, "footer_links", "label too long"),
        ({"footer_links": "\n".join(f"L{i} | https://a.example/{i}" for i in range(11))}, None, "footer_links",
         "at most 10"),
        ({}, ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"), "logo", "not a supported"),
        ({}, ("big.jpg", b"\xff\xd8\xff" + b"\x00" * (2 * 1024 * 1024), "image/jpeg"), "logo", "too large"),
    ]
    for change, upload, field, message in cases:
        fields = {**GOOD, **change}
        files = {"logo": upload} if upload else None
        response = await ui.post("/admin/settings", fields, files=files, form_page="/admin/settings")
        page = await response.text()
        assert response.status == 400, change
        assert f'id="{field}-error"' in page and message in page, (change, page[:4000])
        if field != "node_name":
            assert 'value="Harbour Co-op"' in page  # what was typed is kept
    assert await _settings(services) == before
    media_dir = services.settings.data_dir / "media"
    assert not media_dir.exists() or list(media_dir.iterdir()) == []
    assert "Harbour Co-op" not in await ui.page("/")


async def test_suspend_and_unsuspend(ui: UI, second_ui: UI, services: Services) -> None:
    await _admin(ui, services)
    await create_person(services, "troll")
    await second_ui.log_in("troll")

    users = await ui.page("/admin/users")
    assert "@troll" in users and 'href="/admin/users/troll/suspend"' in users
    assert 'href="/admin/users/root_ada/suspend"' not in users  # not oneself
    # Suspending asks for confirmation and a reason: without one, the form says so and nothing changes.
    confirm = await ui.page("/admin/users/troll/suspend")
    assert "Suspend troll?" in confirm and 'name="reason"' in confirm
    response = await ui.post("/admin/users/troll/suspend", {"reason": " "}, form_page="/admin/users")
    assert response.status == 400 and "say why" in await response.text()
    await second_ui.log_in("troll")
    response = await ui.post("/admin/users/troll/suspend", {"reason": "selling boats in every group"},
                             form_page="/admin/users")
    assert response.status == 303
    users = await ui.page("/admin/users")
    assert "troll is suspended" in users and "Suspended" in users

    assert await second_ui.logged_in_as() is None  # their session ended
    response = await second_ui.post("/login", {"username": "troll", "password": PASSWORD})
    refusal = await response.text()
    assert response.status == 400 and "suspended" in refusal and "selling boats in every group" in refusal

    response = await ui.post("/admin/users/troll/unsuspend", {}, form_page="/admin/users")
    assert response.status == 303
    await second_ui.log_in("troll")


async def test_admin_actions_refuse_what_makes_no_sense(ui: UI, services: Services) -> None:
    await _admin(ui, services)
    await create_person(services, "member")
    for path, status, message in (
        ("/admin/users/root_ada/suspend", 400, "cannot suspend your own account"),
        ("/admin/users/member/approve", 400, "not waiting for approval"),
        ("/admin/users/member/reject", 400, "not waiting for approval"),
        ("/admin/users/ghost/suspend", 404, "ghost"),
    ):
        response = await ui.post(path, {"reason": "a reason"}, form_page="/admin/users")
        assert response.status == status, path
        assert message in await response.text(), path
    ada = await person(services, "root_ada")
    assert ada is not None and ada.account is not None and not ada.account.suspended
    assert await person(services, "member") is not None


async def test_approve_and_reject_pending_sign_ups(ui: UI, second_ui: UI, services: Services) -> None:
    await _admin(ui, services)
    # (mail addresses optional: tests/web/test_account_mail.py has sign-ups that confirm theirs)
    response = await ui.post("/admin/settings", {**GOOD, "registration_mode": "approval", "email_required_shown": "1"},
                             form_page="/admin/settings")
    assert response.status == 303
    for name in ("wanted", "spammer"):
        sent = {"username": name, "display_name": "", "password": PASSWORD, "password_confirm": PASSWORD}
        response = await second_ui.post("/signup", sent, form_page="/signup")
        assert response.status == 200
    users = await ui.page("/admin/users")
    assert users.index("@spammer") < users.index("@root_ada")  # waiting sign-ups come first
    assert 'action="/admin/users/wanted/suspend"' not in users

    assert (await ui.post("/admin/users/wanted/approve", {}, form_page="/admin/users")).status == 303
    assert (await ui.post("/admin/users/spammer/reject", {}, form_page="/admin/users")).status == 303
    assert await person(services, "spammer") is None
    await second_ui.log_in("wanted")


async def test_user_list_pages(ui: UI, services: Services) -> None:
    await _admin(ui, services)
    template = await person(services, "root_ada")
    assert template is not None and template.account is not None
    async with services.sessions.begin() as session:
        # Many people quickly: the keys and hash of one (generating 55 key pairs takes long).
        for index in range(55):
            session.add(LocalActor(
                actor_type="person", username=f"member_{index:02d}", display_name="", summary="",
                rsa_private_pem=template.rsa_private_pem, rsa_public_pem=template.rsa_public_pem,
                ed25519_private_pem=template.ed25519_private_pem, ed25519_public_pem=template.ed25519_public_pem,
                account=Account(password_hash=template.account.password_hash),
            ))
    first = await ui.page("/admin/users")
    assert 'href="/admin/users?page=2"' in first and "@member_49" in first and "@member_50" not in first
    second = await ui.page("/admin/users?page=2")
    assert "@member_54" in second and 'href="/admin/users?page=1"' in second
    page = await ui.page("/admin/users?page=0", status=400)
    assert "page must be a whole number" in page


async def test_white_label_hides_powered_by_and_sets_the_favicon(ui: UI, second_ui: UI, services: Services) -> None:
    await _admin(ui, services)
    await create_person(services, "member")
    # (``ui`` is the admin's own process, whose settings cache the save empties; another process's cache,
    # like ``second_ui``'s, may keep the old branding for a few seconds: it visits only after the save.)
    assert "Powered by Made Open" in await ui.page("/")
    default = await ui.get("/favicon.ico")  # Made Open's own until the admin uploads one
    assert default.status == 302 and default.headers["Location"] == "/static/favicon.svg"
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in await ui.page("/")
    assert (await ui.get("/static/favicon.svg")).status == 200
    icon = png(16, 16, (10, 120, 60))

    # A favicon that is not an image is refused, and nothing changes.
    svg = ("icon.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    response = await ui.post("/admin/settings", {**GOOD, "show_powered_by_shown": "1"}, files={"favicon": svg},
                             form_page="/admin/settings")
    assert response.status == 400 and 'id="favicon-error"' in await response.text()
    assert (await _settings(services)).favicon is None and (await _settings(services)).show_powered_by

    response = await ui.post("/admin/settings", {**GOOD, "show_powered_by_shown": "1"},
                             files={"favicon": ("icon.png", icon, "image/png")}, form_page="/admin/settings")
    assert response.status == 303, await response.text()
    saved = await _settings(services)
    assert saved.favicon and saved.show_powered_by is False
    # Every page, error pages too, has the icon and no "Powered by".
    for path, status in (("/", 200), ("/users/member", 200), ("/login", 200), ("/nope", 404)):
        page = await second_ui.page(path, status=status)
        assert f'<link rel="icon" href="/media/{saved.favicon}">' in page, path
        assert "Powered by" not in page, path
    response = await second_ui.get("/favicon.ico")
    assert response.status == 302 and response.headers["Location"] == f"/media/{saved.favicon}"
    assert await (await second_ui.get(f"/media/{saved.favicon}")).read() == icon
    # A form that does not send the box keeps the choice; the admin page shows it unticked.
    response = await ui.post("/admin/settings", GOOD, form_page="/admin/settings")
    assert response.status == 303 and (await _settings(services)).show_powered_by is False
    assert 'name="show_powered_by" type="checkbox" value="on">' in await ui.page("/admin/settings")

    response = await ui.post("/admin/settings", {**GOOD, "show_powered_by_shown": "1", "show_powered_by": "on",
                                                 "remove_favicon": "on"}, form_page="/admin/settings")
    assert response.status == 303
    page = await ui.page("/")
    assert "Powered by Made Open" in page and '<link rel="icon" href="/static/favicon.svg"' in page  # the default again
    assert (await ui.get("/favicon.ico")).headers["Location"] == "/static/favicon.svg"
    assert not (services.settings.data_dir / "media" / saved.favicon).exists()
