"""The mail queue against a real SMTP server on loopback (aiosmtpd): queued mail arrives with its plain
and HTML parts; an SMTP outage keeps mail queued and retried, and it arrives once the server is back;
after the retries it is failed and listed; without SMTP it is written as a .eml file; bad addresses
are refused before anything is queued."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actors import mail
from madeopen.app import Services
from madeopen.workers import Pruner, Workers, retention
from storage.models import MailMessage, utcnow
from tests.support.smtp import free_port, smtp_server

SENDER = "Made Open <noreply@node.test>"


async def _queue(services: Services, to: str = "ada@example.org", html: str | None = "<p>Hello <b>Ada</b></p>") -> int:
    async with services.sessions.begin() as session:
        return await mail.enqueue(session, mail.Mail(to=to, subject="Hello", text="Hello Ada", html=html), SENDER)


async def test_queued_mail_arrives_with_text_and_html(services: Services) -> None:
    with smtp_server() as (mailbox, port):
        await _queue(services)
        worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{port}"))
        assert await worker.run_once() == 1
    [message] = mailbox.to("ada@example.org")
    assert message["Subject"] == "Hello" and message["From"] == SENDER
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk() if not part.is_multipart()}
    assert "Hello Ada" in parts["text/plain"] and "<b>Ada</b>" in parts["text/html"]
    [item] = await mail.list_mail(services.sessions)
    assert item.state == "sent" and item.attempts == 1


async def test_outage_then_recovery_loses_nothing(services: Services) -> None:
    port = free_port()  # nothing listens here yet: connection refused
    worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{port}", timeout=5))
    ids = [await _queue(services, to=f"member{i}@example.org") for i in range(3)]
    assert await worker.run_once() == 3
    items = await mail.list_mail(services.sessions)
    assert {item.state for item in items} == {"pending"} and all(item.error for item in items)
    assert await worker.run_once() == 0  # backing off: not due again yet
    with smtp_server(port) as (mailbox, _):
        assert await worker.run_once(now=utcnow() + timedelta(minutes=2)) == 3
    assert sorted(to for recipients, _m in mailbox.received for to in recipients) == [f"member{i}@example.org" for i in range(3)]
    assert {item.state for item in await mail.list_mail(services.sessions)} == {"sent"}
    assert len(ids) == 3


async def test_gives_up_after_retries_and_lists_the_failure(services: Services) -> None:
    worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{free_port()}", timeout=5))
    await _queue(services)
    now = utcnow()
    for attempt in range(mail.MAX_ATTEMPTS):
        assert await worker.run_once(now=now) == 1
        now += mail.retry_delay(attempt + 1) + timedelta(seconds=1)
    assert await worker.run_once(now=now + timedelta(days=1)) == 0
    [failed] = await mail.list_mail(services.sessions, failed_only=True)
    assert failed.attempts == mail.MAX_ATTEMPTS and failed.error


async def test_a_refused_recipient_fails_at_once_and_a_busy_one_is_retried(services: Services) -> None:
    refuse = {"gone@example.org": "550 5.1.1 no such mailbox", "busy@example.org": "451 4.2.1 try later"}
    await _queue(services, to="gone@example.org")
    await _queue(services, to="busy@example.org")
    with smtp_server(refuse=refuse) as (mailbox, port):
        worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, f"smtp://127.0.0.1:{port}"))
        assert await worker.run_once() == 2
        assert mailbox.received == []
        [failed] = await mail.list_mail(services.sessions, failed_only=True)
        assert failed.recipient == "gone@example.org" and "550" in (failed.error or "")
        [busy] = [item for item in await mail.list_mail(services.sessions) if item.recipient == "busy@example.org"]
        assert busy.state == "pending" and "451" in (busy.error or "")
        mailbox.refuse.clear()  # the mailbox has room again
        assert await worker.run_once(now=utcnow() + timedelta(minutes=2)) == 1
    assert [m["Subject"] for m in mailbox.to("busy@example.org")] == ["Hello"]


async def test_without_smtp_mail_is_written_as_eml(services: Services, tmp_path: Path) -> None:
    mail_id = await _queue(services, html=None)
    worker = mail.MailWorker(services.sessions, mail.Transport(SENDER, None, spool_dir=tmp_path / "mail"))
    assert await worker.run_once() == 1
    text = (tmp_path / "mail" / f"{mail_id:08d}.eml").read_text()
    assert "To: ada@example.org" in text and "Hello Ada" in text


@pytest.mark.parametrize("address", ["", "ada", "ada@localhost", "Ada <ada@example.org>", "a@example.org\r\nBcc: x@evil.test", "a@b.org, c@d.org"])
async def test_bad_addresses_are_refused_and_nothing_is_queued(services: Services, address: str) -> None:
    with pytest.raises(mail.BadAddress):
        await _queue(services, to=address)
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MailMessage)) == 0


async def test_pruner_deletes_old_sent_mail_and_keeps_queued_mail(services: Services) -> None:
    sent_id, pending_id = await _queue(services), await _queue(services)
    async with services.sessions.begin() as session:
        sent = await session.get(MailMessage, sent_id)
        assert sent is not None
        sent.state, sent.sent_at = "sent", utcnow() - timedelta(days=8)
    pruner = Pruner(services.sessions, retention(timedelta(days=7), timedelta(days=30)))
    await pruner.run_once()
    assert [item.id for item in await mail.list_mail(services.sessions)] == [pending_id]


async def test_the_running_workers_send_queued_mail(services: Services) -> None:
    """`madeopen run` / `madeopen worker`: the mail worker runs beside the delivery worker."""
    assert services.fed is not None
    with smtp_server() as (mailbox, port):
        workers = Workers(services.fed, mail_transport=mail.Transport(SENDER, f"smtp://127.0.0.1:{port}"))
        workers.start()
        try:
            await _queue(services)
            for _ in range(100):  # polled every 2 s; a queued mail goes out on the next round
                if mailbox.received:
                    break
                await asyncio.sleep(0.1)
        finally:
            await workers.stop()
    assert [message["Subject"] for message in mailbox.to("ada@example.org")] == ["Hello"]
