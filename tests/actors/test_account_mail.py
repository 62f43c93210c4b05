"""Account mail rules below the pages (actors/account_mail.py): sign-ups never confirmed are deleted after
a week and free their name; the mails carry the node's name and the link."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from actors import account_mail, accounts, node_settings
from actors.urls import Urls
from madeopen.app import Services
from storage.models import AccountToken, LocalActor, MailMessage, NodeSetting, utcnow

PASSWORD = "correct horse battery"
MAILER = account_mail.Mailer(sender="Test Node <noreply@node.test>", urls=Urls("https://node.test"), node_name="Test Node")


async def _sign_up(services: Services, name: str) -> accounts.SignUpResult:
    async with services.sessions.begin() as session:
        return await account_mail.sign_up(session, MAILER, accounts.SignUp(name, PASSWORD, PASSWORD, email=f"{name}@example.org"))


async def _names(services: Services) -> list[str]:
    async with services.sessions() as session:
        return sorted(await session.scalars(select(LocalActor.username).where(LocalActor.actor_type == "person")))


async def test_sign_ups_unconfirmed_for_a_week_are_deleted(services: Services) -> None:
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.REGISTRATION, value="open"))
    result = await _sign_up(services, "late")
    assert result.confirm
    await _sign_up(services, "keen")
    async with services.sessions() as session:
        secret_rows = (await session.scalars(select(MailMessage.message).where(MailMessage.recipient == "keen@example.org"))).all()
    [message] = secret_rows
    secret = message.split("https://node.test/email/confirm/", 1)[1].split()[0]
    async with services.sessions.begin() as session:
        confirmed = await account_mail.confirm_email(session, MAILER, secret)
    assert confirmed.activated and confirmed.email == "keen@example.org"

    assert await account_mail.prune_unconfirmed(services.sessions) == 0  # not a week yet
    later = utcnow() + account_mail.UNCONFIRMED_LIFETIME + timedelta(minutes=1)
    assert await account_mail.prune_unconfirmed(services.sessions, now=later) == 1
    assert await _names(services) == ["keen"]
    async with services.sessions() as session:
        assert len((await session.scalars(select(AccountToken))).all()) == 1  # late's link went with it
    await _sign_up(services, "late")  # the name is free again
