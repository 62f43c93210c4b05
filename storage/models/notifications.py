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
    # When the worker handled it for immediate mail (mailed, or not wanted): actors/notification_mail.py.
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FeedToken(Base):
    """The secret of one person's private feeds (web/routes/feeds.py): their notifications, and the feeds of
    private groups they may read. Only its SHA-256 is stored; regenerating replaces the row, revoking
    deletes it, and the old link stops working at once."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # every private feed request looks it up
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupWatch(Base):
    """"Tell me of new threads" in one group (ours or another server's, by its actor id): opt-in per group."""

    __tablename__ = "group_watches"
    __table_args__ = (UniqueConstraint("actor_id", "group_uri", name="uq_group_watches"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    group_uri: Mapped[str] = mapped_column(String(2048), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MailPreference(Base):
    """How one person wants mail about one kind of notification (actors/notification_mail.py CATEGORIES):
    ``immediately``, ``daily``, ``weekly`` or ``never``. No row: the category's default."""

    __tablename__ = "mail_preferences"
    __table_args__ = (UniqueConstraint("actor_id", "category", name="uq_mail_preferences"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    cadence: Mapped[str] = mapped_column(String(16))


class MailDigest(Base):
    """One digest period of one person, done: the unique key makes the worker send it at most once."""

    __tablename__ = "mail_digests"
    __table_args__ = (UniqueConstraint("actor_id", "cadence", "period", name="uq_mail_digests"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    cadence: Mapped[str] = mapped_column(String(16))  # daily | weekly
    period: Mapped[str] = mapped_column(String(16))  # 2026-12-04 | 2026-W49
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # what it covers: since .. created_at
    mail_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: nothing to tell, none sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
