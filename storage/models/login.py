"""Logging in: failed attempts (actors/login_limits.py) and the browser sessions of those who did
(actors/browser_sessions.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class LoginAttempt(Base):
    """One log-in attempt that has not succeeded (yet): the counters live in the database, not in a
    process, so every ``madeopen web`` process of a scaled-out node sees the same numbers.

    ``account_key`` is a hash of the name as typed (normalised), not the name: people sometimes type
    their password into the name field, and failed names are never worth keeping in clear.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account", "account_key", "attempted_at"),
        Index("ix_login_attempts_address", "address", "attempted_at"),
        Index("ix_login_attempts_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))  # the client address, or its /64 for IPv6
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BrowserSession(Base):
    """One logged-in browser. The cookie carries a random key; only its SHA-256 is stored here, so a copy of
    the database logs nobody in. Deleting the row ends the session wherever the cookie is (log-out, a
    password change, a suspension, "end this session" on /settings/sessions)."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # every request looks it up by this
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Written at most every few minutes (browser_sessions.SEEN_EVERY), not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(64), default="")  # the client address when last seen
