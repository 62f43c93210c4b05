"""Notification mail with a real SMTP server on loopback (aiosmtpd): a reply mailed at once (plain text +
HTML in the node's branding, RFC 8058 one-click unsubscribe headers), never twice; digests with what
happened and the top threads of one's groups, once per period; one-click unsubscribe without a session
(a wrong token is refused and changes nothing); the settings form (bad input re-rendered, nothing saved);
project invitations and assigned tasks mailed at once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import Message

import pytest
from sqlalchemy import select, update

from actors import local, mail, mail_preferences
from content.notification_mail import NotificationMailer
from content.projects import NewProject, TaskForm
from inbox_outbox.services import posts, votes
from inbox_outbox.services import projects as project_services
from madeopen.app import Services
from storage.models import Account, MailDigest, NodeSetting, Notification, Object
from tests.inbox_outbox.content_support import group, join_local
from tests.support.peer_fixtures import settings  # noqa: F401  (fixture: the node on http)
from tests.support.smtp import smtp_server
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

SENDER = "Garden Club <noreply@node.test>"


@pytest.fixture
async def cast(services: Services) -> None:
    """alice (alice@example.org) owns the public group garden, dave (dave@example.org) is a member,
    erin has no mail address; the node is branded "Garden Club" in green."""
    for name in ("alice", "dave", "erin"):
        await create_person(services, name)
    await group(services, "garden", owner="alice")
    await join_local(services, "garden", "dave")
    await join_local(services, "garden", "erin")
    async with services.sessions.begin() as session:
        for name in ("alice", "dave"):
            person = await local.find_person(session, name)
            await session.execute(update(Account).where(Account.actor_id == person.id).values(email=f"{name}@example.org"))
        session.add(NodeSetting(key="node_name", value="Garden Club"))
        session.add(NodeSetting(key="accent_color", value="#1b7f3a"))


def _mailer(services: Services) -> NotificationMailer:
    return NotificationMailer(services.sessions, services.urls, SENDER, services.secret_key, "Made Open")


async def _deliver(services: Services, port: int, now: datetime | None = None) -> int:
    """One pass of the notification mailer, then of the mail queue's worker (to the SMTP server)."""
    queued = await _mailer(services).run_once(now)
    await mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{port}")).run_once()
    return queued


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _parts(message: Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_payload(decode=True).decode()
            for part in message.walk() if not part.is_multipart()}


async def _thread(services: Services, author: str, title: str) -> Object:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        return await posts.create_post(session, services.urls, who, await local.find_group(session, "garden"),
                                       title, "Details")


async def _reply(services: Services, author: str, parent: str, body: str) -> Object:
    async with services.sessions.begin() as session:
        return await posts.reply(session, services.urls, await local.find_person(session, author), parent, body)


async def _like(services: Services, name: str, uri: str) -> None:
    async with services.sessions.begin() as session:
        await votes.like(session, services.urls, await local.find_person(session, name), uri)


async def _choose(services: Services, name: str, **choices: str) -> None:
    async with services.sessions.begin() as session:
        await mail_preferences.save(session, (await local.find_person(session, name)).id, choices)


async def test_a_reply_is_mailed_at_once_in_the_node_branding(services: Services, cast: None) -> None:
    thread = await _thread(services, "alice", "Tomato blight")
    with smtp_server() as (mailbox, port):
        await _reply(services, "dave", thread.uri, "Copper spray helps")
        await _reply(services, "erin", thread.uri, "Sulphur too")
        assert await _deliver(services, port) == 2  # two replies to alice; dave follows nothing
        assert await _deliver(services, port) == 0  # never twice
        messages = mailbox.to("alice@example.org")
        assert len(messages) == 2 and mailbox.to("dave@example.org") == []
        message = messages[0]
        assert _subject(message) == "dave replied to your post Tomato blight — Garden Club"
        assert message["From"] == SENDER
        parts = _parts(message)
        assert "dave replied to your post Tomato blight" in parts["text/plain"]
        assert "Copper spray helps" in parts["text/plain"] and f"{thread.uri}" in parts["text/plain"]
        assert "background:#1b7f3a" in parts["text/html"] and "Garden Club" in parts["text/html"]
        assert "Copper spray helps" in parts["text/html"]
        unsubscribe = message["List-Unsubscribe"]
        assert unsubscribe.startswith("<http://node.test/mail/unsubscribe/") and unsubscribe.endswith(">")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe[1:-1] in parts["text/plain"]

        # Read in the app before the worker came: not mailed. Chosen "never": not mailed.
        third = await _reply(services, "dave", thread.uri, "Any news?")
        async with services.sessions.begin() as session:
            await session.execute(update(Notification).where(Notification.object_uri == third.uri)
                                  .values(read_at=datetime.now(timezone.utc)))
        await _choose(services, "alice", mentions="never")
        await _reply(services, "erin", thread.uri, "Ping")
        assert await _deliver(services, port) == 0
        assert len(mailbox.to("alice@example.org")) == 2


async def test_a_project_invitation_is_mailed_at_once_and_can_be_turned_off(services: Services, cast: None) -> None:
    assert services.fed is not None
    await project_services.start_project(services.fed, "alice", NewProject(name="compost", title="Compost bins"))
    with smtp_server() as (mailbox, port):
        await project_services.invite(services.fed, "alice", "compost", "dave")
        assert await _deliver(services, port) == 1
        [message] = mailbox.to("dave@example.org")
        assert _subject(message) == "alice invited you to join the project Compost bins — Garden Club"
        assert "/groups/compost" in _parts(message)["text/plain"]
        await _choose(services, "dave", invitations="never")
        await project_services.start_project(services.fed, "alice", NewProject(name="seeds", title="Seed swap"))
        await project_services.invite(services.fed, "alice", "seeds", "dave")
        assert await _deliver(services, port) == 0
        assert len(mailbox.to("dave@example.org")) == 1


async def test_an_assigned_task_is_mailed_at_once(services: Services, cast: None) -> None:
    assert services.fed is not None
    await project_services.start_project(services.fed, "alice", NewProject(name="compost", title="Compost bins"))
    await join_local(services, "compost", "dave")
    with smtp_server() as (mailbox, port):
        task = await project_services.add_task(services.fed, "alice", "compost", TaskForm(
            title="Build the bins", assignees=(services.urls.person("dave"),)))
        assert await _deliver(services, port) == 1
        [message] = mailbox.to("dave@example.org")
        assert _subject(message) == "alice assigned you the task Build the bins — Garden Club"
        assert f"/tasks/{task.id}" in _parts(message)["text/plain"]


async def test_digests_tell_what_happened_top_threads_first_once_a_period(services: Services, cast: None) -> None:
    await _choose(services, "dave", mentions="daily", new_threads="daily")
    await _choose(services, "alice", mentions="never", new_threads="never", follows="never")
    day = datetime(2026, 12, 4, 6, 0, tzinfo=timezone.utc)
    with smtp_server() as (mailbox, port):
        await _deliver(services, port, day)  # the first pass of the day: nothing happened yet, nothing mailed
        assert mailbox.received == []
        quiet = await _thread(services, "alice", "Compost corner")
        popular = await _thread(services, "alice", "Seed swap")
        mine = await _thread(services, "dave", "Watering rota")
        await _like(services, "alice", popular.uri)
        await _like(services, "erin", popular.uri)
        await _reply(services, "alice", mine.uri, "I take Mondays")
        assert await _deliver(services, port, day) == 0  # daily: it waits for the next day
        assert await _deliver(services, port, day + timedelta(days=1)) == 1
        assert await _deliver(services, port, day + timedelta(days=1, hours=5)) == 0  # once a period
        [digest] = mailbox.to("dave@example.org")
        assert _subject(digest) == "Garden Club: your daily digest"
        text = _parts(digest)["text/plain"]
        assert "For you" in text and "alice replied to your post Watering rota" in text and "I take Mondays" in text
        top = text[text.index("Top threads in your groups"):]
        assert top.index("Seed swap") < top.index("Watering rota") < top.index("Compost corner")  # votes, replies
        assert "2 votes · 0 replies" in top
        assert "/mail/unsubscribe/" in digest["List-Unsubscribe"] and "/daily/" in digest["List-Unsubscribe"]
        assert "For you" in _parts(digest)["text/html"] and quiet.uri in _parts(digest)["text/html"]
        assert mailbox.to("alice@example.org") == []  # she chose never

    async with services.sessions() as session:
        done = {(row.cadence, row.period) for row in await session.scalars(
            select(MailDigest).where(MailDigest.actor_id == (await local.find_person(session, "dave")).id))}
    assert {("daily", "2026-12-04"), ("daily", "2026-12-05")} <= done


async def test_one_click_unsubscribe_without_a_session(ui: UI, services: Services, cast: None) -> None:
    thread = await _thread(services, "alice", "Tomato blight")
    with smtp_server() as (mailbox, port):
        await _reply(services, "dave", thread.uri, "Copper spray helps")
        await _deliver(services, port)
    [message] = mailbox.to("alice@example.org")
    link = message["List-Unsubscribe"][1:-1].removeprefix("http://node.test")
    alice_id = int(link.split("/")[3])

    async def cadence() -> str:
        async with services.sessions() as session:
            return (await mail_preferences.preferences(session, alice_id))["mentions"]

    one_click = {"List-Unsubscribe": "One-Click"}
    for wrong, status, words in (
        (link[:-3] + "abc", 403, "This unsubscribe link is not valid"),
        (link.replace("/mentions/", "/follows/"), 403, "This unsubscribe link is not valid"),  # another kind
        (link.replace(f"/{alice_id}/", f"/{alice_id + 1}/"), 403, "This unsubscribe link is not valid"),
        (link.replace("/mentions/", "/nonsense/"), 404, "names no kind of mail"),
    ):
        response = await ui.client.post(wrong, data=one_click)
        assert response.status == status and words in await response.text()
    assert await cadence() == "immediately"

    page = await ui.page(link)  # following the link shows a button; a link scanner's GET changes nothing
    assert "Unsubscribe from mentions and replies" in page and await cadence() == "immediately"
    response = await ui.client.post(link, data=one_click)  # what a mail client sends (RFC 8058), no cookie
    assert response.status == 200 and "You are unsubscribed" in await response.text()
    assert await cadence() == "never"
    response = await ui.client.post(link, data=one_click)
    assert "already unsubscribed" in await response.text()


async def test_the_settings_form(ui: UI, services: Services, cast: None) -> None:
    await ui.log_in("dave")
    page = await ui.page("/settings/notifications")
    assert "Mail goes to <strong>dave@example.org</strong>" in page
    assert "Requests to join groups you moderate" not in page and "Sign-ups waiting" not in page  # not his
    assert 'name="mentions" id="mentions" value="immediately" checked' in page

    good = {"mentions": "daily", "new_threads": "never", "status": "weekly", "answers": "immediately",
            "follows": "never", "invitations": "immediately", "tasks": "daily", "docs": "weekly", "badges": "never"}
    response = await ui.post("/settings/notifications", {**good, "status": "hourly"}, form_page="/settings/notifications")
    assert response.status == 400
    page = await response.text()
    assert "Please correct this" in page and 'id="status-error"' in page
    assert 'name="mentions" id="mentions-daily" value="daily" checked' in page  # what he typed is kept
    async with services.sessions() as session:
        dave = await local.find_person(session, "dave")
        assert (await mail_preferences.preferences(session, dave.id))["mentions"] == "immediately"  # nothing saved

    response = await ui.post("/settings/notifications", good, form_page="/settings/notifications")
    assert response.status == 303
    assert "Your mail settings are saved." in await ui.page(response.headers["Location"])
    async with services.sessions() as session:
        chosen = await mail_preferences.preferences(session, dave.id)
    assert {name: chosen[name] for name in good} == good

    await ui.log_in("alice")  # an owner of a group: join requests are hers to choose
    assert "Requests to join groups you moderate" in await ui.page("/settings/notifications")


async def test_a_bad_stored_address_holds_up_nobody_else(services: Services, cast: None) -> None:
    async with services.sessions.begin() as session:
        dave = await local.find_person(session, "dave")
        await session.execute(update(Account).where(Account.actor_id == dave.id).values(email="not an address"))
    his = await _thread(services, "dave", "Rota")
    hers = await _thread(services, "alice", "Compost")
    with smtp_server() as (mailbox, port):
        await _reply(services, "erin", his.uri, "Mondays")
        await _reply(services, "erin", hers.uri, "Tuesdays")
        assert await _deliver(services, port) == 1
        assert [_subject(m) for m in mailbox.to("alice@example.org")] == ["erin replied to your post Compost — Garden Club"]
        assert await _deliver(services, port) == 0  # handled: not tried again and again
