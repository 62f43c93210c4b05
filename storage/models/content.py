"""Content and relations between actors: objects (posts), follows, reactions, pins, reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Object(Base):
    """A post-like object (Note, Page, Article, Question, Event), local or remote, possibly in a group.

    ``document`` is the object as AS2 JSON (for local objects the one we serve; for remote ones the
    validated, sanitised copy). The columns are what queries need.
    """

    __tablename__ = "objects"
    __table_args__ = (
        Index("ix_objects_group_published", "group_id", "published"),
        Index("ix_objects_context", "context_uri"),
        Index("ix_objects_reply", "in_reply_to_uri"),
        Index("ix_objects_acceptance", "acceptance"),  # the pruner's look for pending posts (mostly NULL)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(String(32))
    author_uri: Mapped[str] = mapped_column(String(2048), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True)
    audience_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # the group, local or remote
    in_reply_to_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    context_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # the thread's first post
    name: Mapped[str] = mapped_column(String(500), default="")
    content: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    source: Mapped[str | None] = mapped_column(Text, nullable=True)  # Markdown of local posts
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    document: Mapped[dict] = mapped_column(JSON, default=dict)
    published: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    dislike_count: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Our people's posts in a remote group wait for the group's Announce (content.acceptance):
    # pending | accepted | refused; NULL for every other post (nothing to wait for).
    acceptance: Mapped[str | None] = mapped_column(String(16), nullable=True)
    refusal: Mapped[str | None] = mapped_column(Text, nullable=True)  # why, when the group said (or timed out)


class Follow(Base):
    """A follow that is not a membership of a local group: local people following anyone, and remote
    actors following local people. (Following a local group is a Membership.)"""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_uri", "followee_uri"), Index("ix_follows_followee", "followee_uri"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follower_uri: Mapped[str] = mapped_column(String(2048))
    followee_uri: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reaction(Base):
    """A Like or Dislike (Lemmy votes) of an object."""

    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("actor_uri", "object_uri", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    object_uri: Mapped[str] = mapped_column(String(2048), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # like | dislike
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Featured(Base):
    """A pinned post of a local group (its ``featured`` collection)."""

    __tablename__ = "featured"
    __table_args__ = (UniqueConstraint("group_id", "object_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"))
    object_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Flag(Base):
    """A report, kept for the group's moderators (or the node's admins when no group is concerned)."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True)
    reporter_uri: Mapped[str] = mapped_column(String(2048))
    object_uris: Mapped[list] = mapped_column(JSON, default=list)
    content: Mapped[str] = mapped_column(Text, default="")
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
