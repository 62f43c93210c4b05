"""What a local member has read: one row per (person, thread), moved when they open the thread."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ThreadRead(Base):
    """``read_at``: when the person last opened the thread. A thread whose ``last_activity_at`` is later
    has replies they have not seen; a thread without a row is new to them (content.reading)."""

    __tablename__ = "thread_reads"

    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
