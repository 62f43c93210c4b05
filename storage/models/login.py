"""Failed log-in attempts, counted per account name and per client address (actors/login_limits.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
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
