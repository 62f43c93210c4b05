"""A person's own pages: sign up, log in/out, password, profile with avatar; sessions and CSRF."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from actors import media, node_settings
from madeopen.app import Services
from storage.models import LocalActor, NodeSetting
from tests.support.web_ui import (  # noqa: F401  (fixtures)
    HTML, PASSWORD, UI, create_person, person, png, second_ui, ui,
)

NEW = {"username": "bea", "display_name": "Bea B.", "password": PASSWORD, "password_confirm": PASSWORD}


async def _registration(services: Services, mode: str) -> None:
    """Sign-ups in ``mode``, the mail address optional (tests/web/test_account_mail.py: required)."""
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.REGISTRATION, value=mode))
        session.add(NodeSetting(key=node_settings.EMAIL_REQUIRED, value="0"))


async def _people(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(LocalActor.username).where(LocalActor.actor_type == "person")))


# --- sign up ------------------------------------------------------------------------------------------------


async def test_sign_up_is_closed_by_default(ui: UI, services: Services) -> None:
    page = await ui.page("/signup", status=403)
    assert "not taking new sign-ups" in page and 'action="/signup"' not in page
    assert 'href="/signup"' not in await ui.page("/login")  # no link to a closed door
    response = await ui.post("/signup", NEW)
    assert response.status == 403 and "sign-ups are closed" in await response.text()
    assert await _people(services) == []


async def test_open_sign_up_creates_the_account_and_logs_in(ui: UI, services: Services) -> None:
    await _registration(services, "open")
    assert 'href="/signup"' in await ui.page("/")
    response = await ui.post("/signup", NEW, form_page="/signup")
    assert response.status == 303 and response.headers["Location"] == "/settings/profile"
    page = await ui.page("/settings/profile")
    assert "Welcome! Your account is ready" in page and "Bea B." in page
    actor = await person(services, "bea")
    assert actor is not None and actor.display_name == "Bea B." and actor.account is not None
    assert not actor.account.is_admin and not actor.account.suspended and not actor.account.approval_pending


async def test_approval_sign_up_waits_for_an_admin(ui: UI, second_ui: UI, services: Services) -> None:
    await _registration(services, "approval")
    assert "approves every new account" in await ui.page("/signup")
    response = await ui.post("/signup", NEW, form_page="/signup")
    assert response.status == 200 and "will look at it soon" in await response.text()
    assert await ui.logged_in_as() is None
    response = await ui.post("/login", {"username": "bea", "password": PASSWORD})
    assert response.status == 400 and "waiting for an admin" in await response.text()

    await create_person(services, "boss", admin=True)
    await second_ui.log_in("boss")
    users = await second_ui.page("/admin/users")
    assert "Waiting for approval" in users and 'action="/admin/users/bea/approve"' in users
    response = await second_ui.post("/admin/users/bea/approve", {}, form_page="/admin/users")
    assert response.status == 303
    await ui.log_in("bea")
    assert await ui.logged_in_as() == "bea"


async def test_bad_sign_up_fields_are_shown_and_nothing_is_created(ui: UI, services: Services) -> None:
    await _registration(services, "open")
    await create_person(services, "taken")
    cases = [
        ({"username": ""}, "username", "choose a name"),
        ({"username": "x" * 31}, "username", "1 to 30 characters"),
        ({"username": "TAKEN"}, "username", "already taken"),
        ({"username": "settings"}, "username", "reserved"),
        ({"display_name": "d" * 101}, "display_name", "too long"),
        ({"password": "", "password_confirm": ""}, "password", "too short"),
        ({"password_confirm": "something else"}, "password_confirm", "not the same"),
    ]
    for change, field, message in cases:
        sent = {**NEW, **change}
        response = await ui.post("/signup", sent, form_page="/signup")
        page = await response.text()
        assert response.status == 400, change
        assert f'id="{field}-error"' in page and message in page, (change, page[:3000])
        assert f'href="#{field}"' in page  # the error summary links to the field
        if field != "username":
            assert 'value="bea"' in page  # typed values are kept
        if field != "display_name":
            assert 'value="Bea B."' in page
        assert PASSWORD not in page
    assert await _people(services) == ["taken"]


# --- log in and out -----------------------------------------------------------------------------------------


async def test_log_in_and_out(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    before = await person(services, "cleo")
    assert before is not None and before.account is not None and before.account.last_active_at is None
    response = await ui.post("/login", {"username": "Cleo", "password": PASSWORD})
    assert response.status == 303 and response.headers["Location"] == "/users/cleo"
    assert await ui.logged_in_as() == "cleo"
    after = await person(services, "cleo")
    assert after is not None and after.account is not None and after.account.last_active_at is not None

    response = await ui.post("/logout", {}, form_page="/settings/profile")
    assert response.status == 303 and response.headers["Location"] == "/"
    assert "You have logged out." in await ui.page("/")
    assert await ui.logged_in_as() is None


async def test_wrong_password_and_unknown_name_get_the_same_answer(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    answers = []
    for username, password in (("cleo", "wrong password"), ("nobody", PASSWORD), ("", "")):
        response = await ui.post("/login", {"username": username, "password": password})
        assert response.status == 400
        page = await response.text()
        answers.append(re.search(r'<p id="login-error">(.*?)</p>', page).group(1))  # type: ignore[union-attr]
        assert 'value="' + username + '"' in page or not username
        assert password not in page or not password
    assert len(set(answers)) == 1 and "do not match" in answers[0]
    assert await ui.logged_in_as() is None


async def test_pages_that_need_a_login_send_visitors_to_it_and_back(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    response = await ui.get("/settings/password")
    assert response.status == 303 and response.headers["Location"] == "/login?next=/settings/password"
    page = await ui.page("/login?next=/settings/password")
    assert 'name="next" value="/settings/password"' in page
    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD, "next": "/settings/password"})
    assert response.headers["Location"] == "/settings/password"


async def test_log_in_never_redirects_to_another_site(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = await ui.post("/login", {"username": "cleo", "password": PASSWORD, "next": target})
        assert response.status == 303 and response.headers["Location"] == "/users/cleo", target


async def test_session_cookie_is_httponly_lax_and_secure_on_https(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    response = await ui.log_in("cleo")
    raw = response.headers["Set-Cookie"]
    cookie = SimpleCookie(raw)["madeopen_session"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert "cleo" not in raw  # encrypted, not readable


async def test_session_cookie_is_not_secure_on_plain_http(services: Services) -> None:
    from dataclasses import replace

    from actors.urls import Urls
    from madeopen.app import build_web_app

    plain = replace(services, urls=Urls("http://node.test"))
    async with TestClient(_server(build_web_app(plain))) as client:
        response = await client.get("/login", headers={"Accept": HTML})
        cookie = SimpleCookie(response.headers["Set-Cookie"])["madeopen_session"]
        assert cookie["httponly"] and not cookie["secure"]


def _server(app):  # type: ignore[no-untyped-def]
    from aiohttp.test_utils import TestServer

    return TestServer(app)


async def test_suspended_person_cannot_log_in_and_is_logged_out(ui: UI, services: Services) -> None:
    actor_id = await create_person(services, "dan")
    await ui.log_in("dan")
    async with services.sessions.begin() as session:
        actor = await session.get(LocalActor, actor_id)
        assert actor is not None and actor.account is not None
        actor.account.suspended = True
    assert await ui.logged_in_as() is None  # the next click ends the session
    response = await ui.post("/login", {"username": "dan", "password": PASSWORD})
    assert response.status == 400 and "suspended" in await response.text()


# --- CSRF ---------------------------------------------------------------------------------------------------


async def test_form_posts_without_a_valid_token_are_refused(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    for kwargs in ({"with_token": False}, {"token": "not-the-token"}, {"token": ""}):
        response = await ui.post("/settings/profile", {"display_name": "Hacked", "bio": "x"}, **kwargs)  # type: ignore[arg-type]
        assert response.status == 403, kwargs
        page = await response.text()
        assert "<h1>Forbidden</h1>" in page and "reload the page" in page
    # text/plain is what a cross-site form can also send: refused the same way.
    response = await ui.client.post(
        "/logout", data="csrf_token=x", headers={"Content-Type": "text/plain", "Accept": HTML}, allow_redirects=False
    )
    assert response.status == 403
    actor = await person(services, "cleo")
    assert actor is not None and actor.display_name == "cleo"
    assert await ui.logged_in_as() == "cleo"


async def test_a_token_from_another_session_does_not_work(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    foreign = await second_ui.token()
    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD}, token=foreign)
    assert response.status == 403
    assert await ui.logged_in_as() is None


# --- password -----------------------------------------------------------------------------------------------


async def test_change_password(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "eve")
    await ui.log_in("eve")
    await second_ui.log_in("eve")
    new = "a much better passphrase"
    cases = [
        ({"current_password": "wrong", "password": new, "password_confirm": new}, "current_password", "not your current"),
        ({"current_password": PASSWORD, "password": "short", "password_confirm": "short"}, "password", "too short"),
        ({"current_password": PASSWORD, "password": new, "password_confirm": new + "!"}, "password_confirm", "not the same"),
        ({"current_password": PASSWORD, "password": "p" * 1025, "password_confirm": "p" * 1025}, "password", "too long"),
    ]
    for fields, field, message in cases:
        response = await ui.post("/settings/password", fields, form_page="/settings/password")
        page = await response.text()
        assert response.status == 400 and f'id="{field}-error"' in page and message in page, fields
        assert new not in page and PASSWORD not in page
    assert await second_ui.logged_in_as() == "eve"  # nothing changed

    response = await ui.post(
        "/settings/password", {"current_password": PASSWORD, "password": new, "password_confirm": new},
        form_page="/settings/password",
    )
    assert response.status == 303
    assert "Your password has been changed" in await ui.page("/settings/password")
    assert await ui.logged_in_as() == "eve"  # this session goes on
    assert await second_ui.logged_in_as() is None  # every other one ends
    response = await second_ui.post("/login", {"username": "eve", "password": PASSWORD})
    assert response.status == 400
    await second_ui.log_in("eve", new)


# --- profile ------------------------------------------------------------------------------------------------


async def test_edit_profile_with_markdown_bio_and_avatar(ui: UI, services: Services) -> None:
    await create_person(services, "fay")
    await ui.log_in("fay")
    bio = "I make **furniture**.\n\n[My shop](https://shop.example) <script>alert(1)</script> [x](javascript:alert(2))"
    response = await ui.post(
        "/settings/profile", {"display_name": "Fay the Maker", "bio": bio},
        files={"avatar": ("me.png", png(), "image/png")}, form_page="/settings/profile",
    )
    assert response.status == 303, await response.text()
    edit = await ui.page("/settings/profile")
    assert "Your profile has been saved." in edit and "I make **furniture**." in edit  # the source, to edit again

    actor = await person(services, "fay")
    assert actor is not None and actor.display_name == "Fay the Maker" and actor.avatar
    stored = services.settings.data_dir / "media" / actor.avatar
    assert stored.read_bytes() == png()
    assert media.valid_name(actor.avatar) and not actor.avatar.startswith("me.")  # a random name

    profile = await ui.page("/users/fay")
    assert "<strong>furniture</strong>" in profile
    assert '<a href="https://shop.example" rel="nofollow noopener">My shop</a>' in profile
    assert "<script>" not in profile and "&lt;script&gt;" in profile  # shown as text, never run
    assert 'href="javascript' not in profile  # not a link
    assert 'src="https://node.test/users/fay/avatar"' in profile

    avatar = await ui.get("/users/fay/avatar")
    assert avatar.status == 302 and avatar.headers["Location"] == f"/media/{actor.avatar}"
    image = await ui.get(f"/media/{actor.avatar}")
    assert image.status == 200 and image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff" and await image.read() == png()

    document = await (await ui.client.get("/users/fay", headers={"Accept": "application/activity+json"})).json()
    assert document["icon"] == {
        "type": "Image", "mediaType": "image/png", "url": f"https://node.test/media/{actor.avatar}",
    }
    assert "<strong>furniture</strong>" in document["summary"] and "<script" not in document["summary"]
    assert 'href="javascript' not in document["summary"]

    # A new avatar replaces the old file; removing it deletes the file.
    response = await ui.post(
        "/settings/profile", {"display_name": "Fay", "bio": ""},
        files={"avatar": ("new.gif", b"GIF89a" + b"\x00" * 20, "image/gif")}, form_page="/settings/profile",
    )
    assert response.status == 303
    replaced = await person(services, "fay")
    assert replaced is not None and replaced.avatar and replaced.avatar.endswith(".gif")
    assert not stored.exists()
    response = await ui.post(
        "/settings/profile", {"display_name": "Fay", "bio": "", "remove_avatar": "on"}, form_page="/settings/profile"
    )
    assert response.status == 303
    removed = await person(services, "fay")
    assert removed is not None and removed.avatar is None
    assert list((services.settings.data_dir / "media").iterdir()) == []
    placeholder = await ui.get("/users/fay/avatar")
    assert placeholder.status == 200 and placeholder.content_type == "image/svg+xml"


async def test_bad_profile_input_changes_nothing(ui: UI, services: Services) -> None:
    await create_person(services, "gus")
    await ui.log_in("gus")
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (media.MAX_IMAGE_BYTES + 1 - 8)
    cases = [
        ({"display_name": "n" * 101}, None, "display_name", "too long"),
        ({"bio": "b" * 5001}, None, "bio", "too long"),
        ({}, ("evil.png", b"<svg onload=alert(1)>", "image/png"), "avatar", "not a supported image"),
        ({}, ("notes.txt", b"hello there", "text/plain"), "avatar", "not a supported image"),
        ({}, ("empty.png", b"", "image/png"), "avatar", "empty"),
        ({}, ("huge.png", too_big, "image/png"), "avatar", "too large"),
    ]
    for change, upload, field, message in cases:
        fields = {"display_name": "Gus G.", "bio": "kept *bio*", **change}
        files = {"avatar": upload} if upload else None
        response = await ui.post("/settings/profile", fields, files=files, form_page="/settings/profile")
        page = await response.text()
        assert response.status == 400, (field, page[:2000])
        assert f'id="{field}-error"' in page and message in page, (field, page[:4000])
        if field == "avatar":
            assert 'value="Gus G."' in page and "kept *bio*" in page
    actor = await person(services, "gus")
    assert actor is not None and actor.display_name == "gus" and actor.summary == "" and actor.avatar is None
    media_dir = services.settings.data_dir / "media"
    assert not media_dir.exists() or list(media_dir.iterdir()) == []


async def test_media_names_are_checked(ui: UI) -> None:
    for name in ("../secret_key", "..%2Fsecret_key", "x.png", "AAAAAAAAAAAAAAAAAAAAAAAA.svg", "nothere" * 4 + ".png"):
        response = await ui.get(f"/media/{name}")
        assert response.status == 404, name


# --- error pages --------------------------------------------------------------------------------------------


async def test_error_pages_are_branded_and_never_show_internals(ui: UI, services: Services) -> None:
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.NAME, value="Branded Node"))
        session.add(NodeSetting(key=node_settings.ACCENT, value="#aa3300"))
    for path, status in (("/no/such/page", 404), ("/users/nobody", 404), ("/admin/users?page=zero", 303)):
        response = await ui.get(path)
        assert response.status == status, path
        if status >= 400:
            page = await response.text()
            assert "Branded Node" in page and "--accent: #aa3300" in await ui.branding(page)
            assert "Traceback" not in page and 'href="#main"' in page
