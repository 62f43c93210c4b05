"""First run: the home page offers creating the admin and naming the node, once."""

from __future__ import annotations

from actors import accounts, mail, node_settings
from madeopen.app import Services
from tests.support.web_ui import PASSWORD, UI, create_person, person, ui  # noqa: F401  (fixture)

GOOD = {"node_name": "Riverside Makers", "username": "ada", "password": PASSWORD, "password_confirm": PASSWORD}


async def _has_admin(services: Services) -> bool:
    async with services.sessions() as session:
        return await accounts.has_admin(session)


async def test_fresh_node_offers_setup_on_the_home_page(ui: UI) -> None:
    home = await ui.page("/")
    assert 'action="/setup"' in home and "Set up this node" in home
    assert 'name="csrf_token"' in home
    assert 'value="Test Node"' in home  # the node's configured name is the suggestion
    assert 'action="/setup"' in await ui.page("/setup")


async def test_setup_creates_the_admin_names_the_node_and_disappears(ui: UI, services: Services) -> None:
    response = await ui.post("/setup", GOOD, form_page="/setup")
    assert response.status == 303 and response.headers["Location"] == "/admin/settings"
    settings_page = await ui.page("/admin/settings")
    assert "Welcome! Your admin account is ready" in settings_page
    assert await ui.logged_in_as() == "ada"

    home = await ui.page("/")
    assert 'action="/setup"' not in home
    assert "<title>Riverside Makers</title>" in home
    gone = await ui.page("/setup", status=404)
    assert "Riverside Makers" in gone and "already set up" in gone

    # A second first run is refused and creates nobody.
    again = {**GOOD, "username": "mallory"}
    response = await ui.post("/setup", again, form_page="/settings/profile")
    assert response.status == 404
    assert await person(services, "mallory") is None
    actor = await person(services, "ada")
    assert actor is not None and actor.account is not None and actor.account.is_admin


async def test_bad_setup_fields_are_shown_and_nothing_is_created(ui: UI, services: Services) -> None:
    cases = [
        ({"node_name": ""}, "node_name", "enter a name for this node"),
        ({"node_name": "x" * 101}, "node_name", "too long"),
        ({"username": ""}, "username", "choose a name"),
        ({"username": "Bad Name!"}, "username", "letters a-z"),
        ({"username": "admin"}, "username", "reserved"),
        ({"password": "short", "password_confirm": "short"}, "password", "too short"),
        ({"password_confirm": PASSWORD + "x"}, "password_confirm", "not the same"),
        ({"email": "ada@"}, "email", "not a mail address"),
    ]
    for change, field, message in cases:
        response = await ui.post("/setup", {**GOOD, **change}, form_page="/setup")
        page = await response.text()
        assert response.status == 400, change
        assert f'id="{field}-error"' in page and message in page, (change, page[:3000])
        assert 'aria-invalid="true"' in page
        # What was typed is kept (never the passwords).
        if field != "node_name":
            assert 'value="Riverside Makers"' in page
        assert PASSWORD not in page
    assert not await _has_admin(services)
    async with services.sessions() as session:
        assert (await node_settings.load(session)).name is None


async def test_setup_without_the_csrf_token_is_refused(ui: UI, services: Services) -> None:
    await ui.page("/")  # the visitor has a session with a token, but does not send it
    response = await ui.post("/setup", GOOD, with_token=False)
    assert response.status == 403
    page = await response.text()
    assert "did not come from this site" in page and "Test Node" in page
    response = await ui.post("/setup", GOOD, token="forged-token")
    assert response.status == 403
    assert not await _has_admin(services)


async def test_an_admin_made_with_the_cli_also_ends_the_first_run(ui: UI, services: Services) -> None:
    await create_person(services, "root_admin", admin=True)
    await ui.page("/setup", status=404)
    assert 'action="/setup"' not in await ui.page("/")


async def test_the_first_admin_may_give_an_address_and_confirms_it(ui: UI, services: Services) -> None:
    """Optional on the first-run form; it waits for its link like a member's (tests/web/test_account_mail.py)."""
    response = await ui.post("/setup", {**GOOD, "email": "ada@example.org"}, form_page="/setup")
    assert response.status == 303
    actor = await person(services, "ada")
    assert actor is not None and actor.account is not None
    assert actor.account.email is None and actor.account.pending_email == "ada@example.org"
    assert "Waiting for confirmation" in await ui.page("/settings/email")
    [message] = await mail.list_mail(services.sessions)
    assert message.recipient == "ada@example.org" and message.subject.startswith("Confirm your mail address")
