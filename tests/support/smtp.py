"""A real SMTP server on loopback (aiosmtpd) whose received mail tests read back."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session, SMTP

from tests.support.processes import free_port  # here too: the mail tests import it from this module


@dataclass
class Mailbox:
    """Every message the server accepted, parsed."""

    received: list[tuple[list[str], Message]] = field(default_factory=list)
    # Recipients the server refuses at RCPT TO, with its reply (e.g. "550 5.1.1 no such mailbox").
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        content = envelope.original_content or b""
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [message for recipients, message in self.received if address in recipients]


@contextmanager
def smtp_server(port: int | None = None, *, refuse: dict[str, str] | None = None) -> Iterator[tuple[Mailbox, int]]:
    """A plain SMTP server (no TLS offered, so aiosmtplib does not try STARTTLS) on 127.0.0.1."""
    mailbox = Mailbox(refuse=dict(refuse or {}))
    port = port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
