"""Notifications of local people: join requests (for group moderators), replies, mentions and likes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Notification(Base):
    """Something that happened to one of our people, shown on their notifications page until read.

    ``kind``: ``join_request`` (``actor_uri`` asks to join the group ``object_uri``; its moderators are
    told), ``reply`` (``object_uri`` is the reply), ``mention`` (``object_uri`` is the post), ``like``
    (``object_uri`` is the liked post). One row per event: the same like twice is one notification.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("recipient_id", "kind", "actor_uri", "object_uri", name="uq_notifications_event"),
        Index("ix_notifications_recipient_read", "recipient_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # join_request | reply | mention | like
    actor_uri: Mapped[str] = mapped_column(String(2048))  # who did it
    object_uri: Mapped[str] = mapped_column(String(2048))  # the post (or the group asked to join)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FeedToken(Base):
    """The secret of one person's private feeds (web/routes/feeds.py): their notifications, and the feeds of
    private groups they may read. Only its SHA-256 is stored; regenerating replaces the row, revoking
    deletes it, and the old link stops working at once."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # every private feed request looks it up
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
