"""Recognition (issue #17): per-group weights, kudos, badges, rewards and their redemptions.

Points themselves are never stored: content.recognition.ledger derives every entry from the facts
(accepted answers, votes, statuses, kudos, and any registered fact source) when it is read, so a total
always equals a full recomputation and an undone fact takes its points with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class RecognitionSettings(Base):
    """A group's weights (points per fact) and the daily cap per giver; defaults when there is no row.

    The row is also the lock redemptions of the group take (content.recognition.rewards)."""

    __tablename__ = "recognition_settings"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), primary_key=True)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)  # fact kind -> points (content.recognition.weights)
    daily_cap: Mapped[int] = mapped_column(Integer, default=20)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Kudos(Base):
    """A "thank you" for a post: once per post and giver."""

    __tablename__ = "kudos"
    __table_args__ = (UniqueConstraint("object_id", "giver_uri"), Index("ix_kudos_group", "group_id", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    giver_uri: Mapped[str] = mapped_column(String(2048))
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BadgeAward(Base):
    """A badge a member (local or remote, by actor id) holds in one of our groups. Automatic badges are
    awarded once (the unique key); a manual one is ``manual:<slug>`` with the team member and reason."""

    __tablename__ = "badge_awards"
    __table_args__ = (UniqueConstraint("group_id", "member_uri", "badge"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), index=True)
    member_uri: Mapped[str] = mapped_column(String(2048), index=True)
    badge: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # None: automatic
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReceivedBadge(Base):
    """A badge a remote group awarded one of our people (its ``Add`` of an Award), for their profile."""

    __tablename__ = "received_badges"
    __table_args__ = (UniqueConstraint("award_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), index=True)
    award_uri: Mapped[str] = mapped_column(String(2048))
    group_uri: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reward(Base):
    """Something a group offers for points ("£5 credit", "Early access")."""

    __tablename__ = "rewards"
    __table_args__ = (CheckConstraint("cost > 0", name="reward_cost_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    cost: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Redemption(Base):
    """A member spent points on a reward; the team marks it fulfilled. ``cost`` is what it cost then."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_member", "group_id", "member_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id", ondelete="CASCADE"))
    member_uri: Mapped[str] = mapped_column(String(2048))
    cost: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="requested")  # requested | fulfilled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fulfilled_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)


class RecognitionOptOut(Base):
    """Someone who asked not to be ranked by the help they gave ("people who could help", people.matching)."""

    __tablename__ = "recognition_optouts"

    actor_uri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
