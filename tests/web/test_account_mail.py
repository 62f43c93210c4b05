"""Account mail through the pages (actors/account_mail.py): sign-up confirms its address before it can
log in; a forgotten password is reset by a mailed link (the same answer for unknown addresses, a rate
limit, single-use links, other sessions ended); a change of address waits for its link and tells the old
address; admins send a member a reset link. Mail is read back from the queue here; tests at the end
send it through a real SMTP server on loopback (tests/support/smtp.py)."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.message import Message

import pytest
from sqlalchemy import func, select, update

from actors import account_tokens, mail, mail_requests, node_settings
from madeopen.app import Services
from storage.models import Account, AccountToken, LocalActor, MailMessage, NodeSetting, utcnow
from tests.support.smtp import free_port, smtp_server
from tests.support.web_ui import PASSWORD, UI, create_person, person, second_ui, ui  # noqa: F401  (fixtures)

NEW = {"username": "bea", "display_name": "Bea B.", "email": "Bea@Example.org", "password": PASSWORD,
       "password_confirm": PASSWORD}
NEW_PASSWORD = "a brand new password"
SENDER = "Test Node <noreply@node.test>"


async def _open_sign_ups(services: Services, mode: str = "open") -> None:
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.REGISTRATION, value=mode))


async def _queued(services: Services, to: str) -> list[Message]:
    async with services.sessions() as session:
        rows = await session.scalars(select(MailMessage.message).where(MailMessage.recipient == to).order_by(MailMessage.id))
    return [email.message_from_string(row) for row in rows]


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def _link(message: Message) -> str:
    found = re.search(r"https://node\.test(/(?:email/confirm|password/reset)/[A-Za-z0-9_-]+)", _text(message))
    assert found, _text(message)
    return found.group(1)


async def _account(services: Services, username: str) -> Account:
    actor = await person(services, username)
    assert actor is not None and actor.account is not None
    return actor.account


async def _set_email(services: Services, username: str, address: str) -> None:
    async with services.sessions.begin() as session:
        actor_id = await session.scalar(select(LocalActor.id).where(LocalActor.username == username))
        await session.execute(update(Account).where(Account.actor_id == actor_id).values(email=address))


def _error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error"><span class="visually-hidden">Error: </span>(.*?)</p>', page)
    assert found, page[:3000]
    return found.group(1)


# --- sign-up -------------------------------------------------------------------------------------------------


async def test_sign_up_confirms_the_address_before_logging_in(ui: UI, services: Services) -> None:
    await _open_sign_ups(services)
    page = await ui.page("/signup")
    assert 'id="email"' in page and 'type="email"' in page
    response = await ui.post("/signup", NEW, form_page="/signup")
    page = await response.text()
    assert response.status == 200 and "Check your mail" in page and "Bea@example.org" in page
    account = await _account(services, "bea")
    assert account.email is None and account.pending_email == "Bea@example.org"  # the contract: not confirmed yet
    assert await ui.get("/users/bea") and (await ui.get("/users/bea")).status == 404  # nobody sees it yet

    # Logging in says why not, and (a few minutes later) sends the link again.
    response = await ui.post("/login", {"username": "bea", "password": PASSWORD})
    assert response.status == 400 and "Confirm your mail address first" in await response.text()
    assert len(await _queued(services, "Bea@example.org")) == 1  # sent a moment ago: not again yet
    async with services.sessions.begin() as session:
        await session.execute(update(AccountToken).values(created_at=utcnow() - timedelta(minutes=10)))
    await ui.post("/login", {"username": "bea", "password": PASSWORD})
    first, second = await _queued(services, "Bea@example.org")
    assert first["Subject"].startswith("Confirm your mail address")
    assert (await ui.get(_link(first))).status == 410  # the newer link replaced it

    # The link's page asks for a click (a GET changes nothing), the click confirms.
    link = _link(second)
    page = await ui.page(link)
    assert "Confirm Bea@example.org" in page
    assert (await _account(services, "bea")).email is None
    response = await ui.post(link, {}, form_page=link)
    assert response.status == 303 and response.headers["Location"] == "/login"
    account = await _account(services, "bea")
    assert account.email == "Bea@example.org" and account.pending_email is None and not account.suspended
    await ui.log_in("bea")
    assert (await ui.post(link, {}, form_page="/settings/profile")).status == 410  # used


async def test_approval_and_confirmation_both_hold_a_sign_up(ui: UI, second_ui: UI, services: Services) -> None:
    await _open_sign_ups(services, "approval")
    response = await ui.post("/signup", NEW, form_page="/signup")
    assert "an admin of Test Node will look at your account" in await response.text()
    [message] = await _queued(services, "Bea@example.org")
    await ui.post(_link(message), {}, form_page=_link(message))
    response = await ui.post("/login", {"username": "bea", "password": PASSWORD})
    assert response.status == 400 and "waiting for an admin" in await response.text()
    await create_person(services, "boss", admin=True)
    await second_ui.log_in("boss")
    await second_ui.post("/admin/users/bea/approve", {}, form_page="/admin/users")
    await ui.log_in("bea")


async def test_approved_before_confirmed_still_waits_for_the_link(ui: UI, second_ui: UI, services: Services) -> None:
    await _open_sign_ups(services, "approval")
    await ui.post("/signup", NEW, form_page="/signup")
    await create_person(services, "boss", admin=True)
    await second_ui.log_in("boss")
    await second_ui.post("/admin/users/bea/approve", {}, form_page="/admin/users")
    assert "Waiting for mail confirmation" in await second_ui.page("/admin/users")
    response = await ui.post("/login", {"username": "bea", "password": PASSWORD})
    assert response.status == 400 and "Confirm your mail address first" in await response.text()


@pytest.mark.parametrize(("address", "message"), [
    ("", "enter your mail address"),
    ("bea", "not a mail address"),
    ("bea@localhost", "not a mail address"),
    ("Bea <bea@example.org>", "not a mail address"),
    ("bea@example.org, eve@example.org", "not a mail address"),
    ("беа@example.org", "beyond a-z"),
    ("b" * 320 + "@example.org", "too long"),
    ("TAKEN@example.org", "already used by another account"),
])
async def test_bad_addresses_are_refused_at_sign_up(ui: UI, services: Services, address: str, message: str) -> None:
    await _open_sign_ups(services)
    await create_person(services, "taken")
    await _set_email(services, "taken", "taken@example.org")
    response = await ui.post("/signup", {**NEW, "email": address}, form_page="/signup")
    page = await response.text()
    assert response.status == 400 and message in _error(page, "email")
    assert 'value="bea"' in page and 'href="#email"' in page and PASSWORD not in page
    assert await person(services, "bea") is None
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MailMessage)) == 0


async def test_a_domain_in_another_script_is_stored_in_ascii(ui: UI, services: Services) -> None:
    await _open_sign_ups(services)
    await ui.post("/signup", {**NEW, "email": "bea@пример.рф"}, form_page="/signup")
    assert (await _account(services, "bea")).pending_email == "bea@xn--e1afmkfd.xn--p1ai"


async def test_the_admin_can_make_the_address_optional(ui: UI, second_ui: UI, services: Services) -> None:
    await _open_sign_ups(services)
    await create_person(services, "boss", admin=True)
    await second_ui.log_in("boss")
    settings = {"node_name": "Test Node", "node_description": "", "registration_mode": "open",
                "accent_color": "#2457c5", "footer_links": "", "email_required_shown": "1"}
    assert (await second_ui.post("/admin/settings", settings, form_page="/admin/settings")).status == 303
    assert "Optional" in await ui.page("/signup")
    response = await ui.post("/signup", {**NEW, "username": "nomail", "email": ""}, form_page="/signup")
    assert response.status == 303  # in at once, without an address
    assert (await _account(services, "nomail")).email is None
    await ui.post("/logout", {}, form_page="/settings/profile")
    # An address given anyway waits for its link, but does not hold the account.
    response = await ui.post("/signup", NEW, form_page="/signup")
    assert response.status == 303
    assert "We have sent a link to Bea@example.org" in await ui.page("/settings/profile")
    account = await _account(services, "bea")
    assert account.email is None and account.pending_email == "Bea@example.org" and not account.suspended
    [message] = await _queued(services, "Bea@example.org")
    await ui.post(_link(message), {}, form_page=_link(message))
    assert (await _account(services, "bea")).email == "Bea@example.org"


# --- password reset ---------------------------------------------------------------------------------------


async def _forgot(ui: UI, address: str) -> tuple[int, str]:
    response = await ui.post("/password/forgot", {"email": address}, form_page="/password/forgot")
    return response.status, await response.text()


async def test_password_reset_by_mail(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await _set_email(services, "cleo", "cleo@example.org")
    await second_ui.log_in("cleo")  # another browser, logged in with the old password
    assert 'href="/password/forgot"' in await ui.page("/login")
    status, page = await _forgot(ui, "CLEO@example.org")
    assert status == 200 and "If an account here uses that address" in page
    [message] = await _queued(services, "cleo@example.org")
    assert message["Subject"].startswith("Reset your password") and "works once, for 1 hour" in _text(message)
    link = _link(message)

    response = await ui.get(link)
    page = await response.text()
    assert "@cleo" in page and 'autocomplete="new-password"' in page
    # The secret in the address stays out of caches and of the Referer of the page's links.
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "strict-origin"
    response = await ui.post(link, {"password": "short", "password_confirm": "short"}, form_page=link)
    assert response.status == 400 and "too short" in await response.text()  # the link is not spent by that
    response = await ui.post(link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, form_page=link)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert "has been set" in await ui.page("/login")
    assert await second_ui.logged_in_as() is None  # every other session ended
    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD})
    assert response.status == 400
    await ui.log_in("cleo", NEW_PASSWORD)
    [_reset, changed] = await _queued(services, "cleo@example.org")
    assert changed["Subject"].startswith("Your password has been changed")

    # The link worked once.
    response = await second_ui.get(link)
    assert response.status == 410 and "already been used" in await response.text()
    response = await second_ui.post(link, {"password": PASSWORD, "password_confirm": PASSWORD}, form_page="/login")
    assert response.status == 410
    await second_ui.log_in("cleo", NEW_PASSWORD)


async def test_unknown_addresses_get_the_same_answer(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await _set_email(services, "cleo", "cleo@example.org")
    await create_person(services, "held")
    await _set_email(services, "held", "held@example.org")
    async with services.sessions.begin() as session:
        held = await session.scalar(select(LocalActor.id).where(LocalActor.username == "held"))
        await session.execute(update(Account).where(Account.actor_id == held).values(suspended=True))
    answers = {address: await _forgot(ui, address) for address in ("cleo@example.org", "nobody@example.org", "held@example.org")}
    assert len(set(answers.values())) == 1
    assert "cleo@example.org" not in answers["cleo@example.org"][1]  # nothing of the address echoed back
    async with services.sessions() as session:
        assert list(await session.scalars(select(MailMessage.recipient))) == ["cleo@example.org"]


async def test_reset_requests_are_rate_limited(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await _set_email(services, "cleo", "cleo@example.org")
    for address in ("cleo@example.org", "nobody@example.org"):
        answers = [await _forgot(ui, address) for _ in range(mail_requests.LIMITS.per_email)]
        assert {status for status, _page in answers} == {200}
        response = await ui.post("/password/forgot", {"email": address}, form_page="/password/forgot")
        page = await response.text()
        assert response.status == 429 and 0 < int(response.headers["Retry-After"]) <= 3600
        assert "Too many requests; try again in 60 minutes." in _error(page, "email")
    assert len(await _queued(services, "cleo@example.org")) == mail_requests.LIMITS.per_email


async def test_bad_and_dead_reset_links(ui: UI, services: Services) -> None:
    ada = await create_person(services, "ada")
    status, page = await _forgot(ui, "not an address")
    assert status == 400 and "not a mail address" in _error(page, "email")
    response = await ui.get("/password/reset/made-up")
    assert response.status == 400 and "not valid" in await response.text()
    async with services.sessions.begin() as session:
        secret = await account_tokens.issue(session, ada, account_tokens.RESET_PASSWORD)
        await session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await ui.get(f"/password/reset/{secret}")
    page = await response.text()
    assert response.status == 410 and "expired" in page and 'href="/password/forgot"' in page
    response = await ui.post(f"/password/reset/{secret}", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
                             form_page="/login")
    assert response.status == 410
    await ui.log_in("ada")  # nothing changed


async def test_admins_send_a_member_a_reset_link(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "boss", admin=True)
    await create_person(services, "cleo")
    await _set_email(services, "cleo", "cleo@example.org")
    await create_person(services, "nomail")
    await ui.log_in("boss")
    page = await ui.page("/admin/users")
    assert 'action="/admin/users/cleo/reset-password"' in page
    response = await ui.post("/admin/users/cleo/reset-password", {}, form_page="/admin/users")
    assert response.status == 303
    assert "mailed to cleo (cleo@example.org)" in await ui.page("/admin/users")
    [message] = await _queued(services, "cleo@example.org")
    assert "an admin of this node sent you this link" in _text(message)
    link = _link(message)
    await second_ui.post(link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, form_page=link)
    await second_ui.log_in("cleo", NEW_PASSWORD)

    # Without an address, the admin is shown the link to hand over.
    response = await ui.post("/admin/users/nomail/reset-password", {}, form_page="/admin/users")
    page = await response.text()
    found = re.search(r'value="https://node\.test(/password/reset/[A-Za-z0-9_-]+)"', page)
    assert response.status == 200 and found and "has no confirmed mail address" in page
    assert "@nomail" in await second_ui.page(found.group(1))

    await second_ui.post("/logout", {}, form_page="/settings/profile")
    await second_ui.log_in("cleo", NEW_PASSWORD)  # not an admin: refused
    response = await second_ui.post("/admin/users/nomail/reset-password", {}, form_page="/settings/profile")
    assert response.status == 403


# --- change of address --------------------------------------------------------------------------------------


async def test_change_of_address_waits_for_its_link_and_tells_the_old_address(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await _set_email(services, "cleo", "cleo@example.org")
    await create_person(services, "other")
    await _set_email(services, "other", "other@example.org")
    await ui.log_in("cleo")
    assert "cleo@example.org" in await ui.page("/settings/email")
    cases = [
        ({"email": "new@example.org", "current_password": "wrong"}, "current_password", "not your current password"),
        ({"email": "Other@Example.org", "current_password": PASSWORD}, "email", "already used by another account"),
        ({"email": "cleo@example.org", "current_password": PASSWORD}, "email", "already your address"),
        ({"email": "new@", "current_password": PASSWORD}, "email", "not"),
    ]
    for sent, field, message in cases:
        response = await ui.post("/settings/email", sent, form_page="/settings/email")
        page = await response.text()
        assert response.status == 400 and message in _error(page, field), sent
        assert f'value="{sent["email"]}"' in page
    assert (await _account(services, "cleo")).pending_email is None

    response = await ui.post("/settings/email", {"email": "new@example.org", "current_password": PASSWORD},
                             form_page="/settings/email")
    assert response.status == 303
    page = await ui.page("/settings/email")
    assert "Waiting for confirmation" in page and "new@example.org" in page
    account = await _account(services, "cleo")
    assert account.email == "cleo@example.org" and account.pending_email == "new@example.org"  # the old stays
    [message] = await _queued(services, "new@example.org")
    link = _link(message)
    response = await ui.post(link, {}, form_page=link)
    assert response.status == 303 and response.headers["Location"] == "/settings/email"
    account = await _account(services, "cleo")
    assert account.email == "new@example.org" and account.pending_email is None
    [notice] = await _queued(services, "cleo@example.org")
    assert "now new@example.org" in _text(notice)


async def test_changes_of_address_are_rate_limited(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    sent = {"email": "victim@example.org", "current_password": PASSWORD}
    for _ in range(mail_requests.LIMITS.per_email):
        assert (await ui.post("/settings/email", sent, form_page="/settings/email")).status == 303
    response = await ui.post("/settings/email", sent, form_page="/settings/email")
    assert response.status == 429 and "Too many requests" in _error(await response.text(), "email")
    assert len(await _queued(services, "victim@example.org")) == mail_requests.LIMITS.per_email


async def test_a_cancelled_change_kills_its_link(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    await ui.post("/settings/email", {"email": "new@example.org", "current_password": PASSWORD}, form_page="/settings/email")
    [message] = await _queued(services, "new@example.org")
    assert (await ui.post("/settings/email/cancel", {}, form_page="/settings/email")).status == 303
    assert (await ui.get(_link(message))).status == 410
    assert (await _account(services, "cleo")).email is None


async def test_an_address_confirmed_by_someone_else_first(ui: UI, second_ui: UI, services: Services) -> None:
    for name, browser in (("cleo", ui), ("dora", second_ui)):
        await create_person(services, name)
        await browser.log_in(name)
        await browser.post("/settings/email", {"email": "shared@example.org", "current_password": PASSWORD},
                           form_page="/settings/email")
    cleos, doras = await _queued(services, "shared@example.org")
    await ui.post(_link(cleos), {}, form_page=_link(cleos))
    response = await second_ui.post(_link(doras), {}, form_page=_link(doras))
    assert response.status == 409 and "now used by another account" in await response.text()
    assert (await _account(services, "dora")).email is None


# --- with a real SMTP server -----------------------------------------------------------------------------


async def test_sign_up_confirmation_through_a_real_smtp_server(ui: UI, services: Services) -> None:
    await _open_sign_ups(services)
    await ui.post("/signup", NEW, form_page="/signup")
    with smtp_server() as (mailbox, port):
        worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{port}"))
        assert await worker.run_once() == 1
    [message] = mailbox.to("Bea@example.org")
    assert message["From"] == SENDER and message["Subject"] == "Confirm your mail address (Test Node)"
    link = _link(message)
    [html] = [part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/html"]
    assert f'<a href="https://node.test{link}"' in html and "Test Node" in html
    await ui.post(link, {}, form_page=link)
    await ui.log_in("bea")


async def test_reset_mail_survives_an_smtp_outage(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await _set_email(services, "cleo", "cleo@example.org")
    port = free_port()  # nothing listens yet: the SMTP server is down
    worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{port}", timeout=5))
    status, _page = await _forgot(ui, "cleo@example.org")
    assert status == 200  # the page does not wait on SMTP
    assert await worker.run_once() == 1
    [queued] = await mail.list_mail(services.sessions)
    assert queued.state == "pending" and queued.error
    with smtp_server(port) as (mailbox, _):
        assert await worker.run_once(now=utcnow() + timedelta(minutes=2)) == 1
    [message] = mailbox.to("cleo@example.org")
    link = _link(message)
    await ui.post(link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, form_page=link)
    await ui.log_in("cleo", NEW_PASSWORD)
