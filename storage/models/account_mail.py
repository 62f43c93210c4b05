"""Mail that acts on an account: single-use links (address confirmation, password reset) and the
requests for them, counted for the rate limit (actors/account_tokens.py, actors/account_mail.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class AccountToken(Base):
    """One link mailed to a person. Only the SHA-256 of its secret is stored, so a copy of the database
    confirms nothing and resets nothing. ``used_at`` makes it single-use (the row stays until pruned, so a
    second use is told "already used" rather than "unknown")."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # confirm_email | reset_password
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)  # the address a confirmation is for
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MailRequest(Base):
    """One request for a password-reset mail, counted per address asked for and per client address
    whether or not the address belongs to anyone (so the limit tells nobody which addresses exist)."""

    __tablename__ = "mail_requests"
    __table_args__ = (
        Index("ix_mail_requests_email", "email_key", "requested_at"),
        Index("ix_mail_requests_client", "client", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the address as typed, lower-cased
    client: Mapped[str] = mapped_column(String(64))  # the client address, or its /64 for IPv6
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
