"""Queues and what they need: inbound activities, our own activities, deliveries, remote host health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class InboundActivity(Base):
    """A verified activity waiting for the inbound worker. Stored before 202, so nothing accepted is lost."""

    __tablename__ = "inbound_activities"
    __table_args__ = (Index("ix_inbound_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[str | None] = mapped_column(String(2048), unique=True, nullable=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    key_id: Mapped[str] = mapped_column(String(2048))
    recipient: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # None: the shared inbox
    body: Mapped[str] = mapped_column(Text)
    # pending | done | failed | seen: done, then its body dropped by the retention prune (storage/queue.py);
    # the row stays a while longer because its unique activity_id is what refuses a re-sent copy.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The QueueWorker holding the lease: when that worker is gone, the row is released at once rather
    # than when the lease runs out (inbox_outbox/worker_registry.py).
    claimed_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QueueWorker(Base):
    """A running worker process, known by its heartbeat (inbox_outbox/worker_registry.py)."""

    __tablename__ = "queue_workers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Processes with the same host key share a process-id namespace, so one can tell whether another's
    # pid still runs; the pid alone means nothing on another machine or container.
    host_key: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Activity(Base):
    """An activity this node published (dereferenceable at its id forever; the actor's outbox)."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_actor_published", "actor_uri", "published"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(32))
    object_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    document: Mapped[dict] = mapped_column(JSON)
    published: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Delivery(Base):
    """One POST of one activity to one inbox; committed with the action that caused it (DESIGN.md §2)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_host_state", "host", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    inbox: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    bypass_host_health: Mapped[bool] = mapped_column(Boolean, default=False)  # Follow requests
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Fanout(Base):
    """Activities of a group to its remote members, not yet written as one delivery per inbox (issue #13,
    seventh pass; Mastodon's DistributionWorker is the same idea).

    Processing an inbound post or vote writes this row (one per activity) instead of ~50-75 delivery rows;
    the delivery worker expands it (``inbox_outbox.outbox.expand_fanouts``): in one transaction it writes
    the deliveries to the group's accepted remote members *as they are then* and deletes the row, so a
    crash loses nothing and a repeat writes nothing twice (``deliveries`` is unique per activity and inbox).
    No lease: the expansion is one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
    workers expand disjoint rows). The deliveries keep this row's ``created_at`` (their give-up window
    counts from when the group published). The group's, the signer's or the activity's deletion takes the
    row with it (ON DELETE CASCADE)."""

    __tablename__ = "fanouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), unique=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    # Whom it reaches: the accepted remote members of this group (inbox_outbox.addressing.group_member_targets).
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Host(Base):
    """Delivery health of a remote host (PROTOCOL.md "Host health")."""

    __tablename__ = "hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    first_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failure_days: Mapped[int] = mapped_column(Integer, default=0)
    unavailable: Mapped[bool] = mapped_column(Boolean, default=False)


class DomainBlock(Base):
    """A remote host this node refuses (``block``: 403 at the inbox, nothing delivered to or fetched from
    it) or keeps off its public listings (``silence``; actors.blocks)."""

    __tablename__ = "domain_blocks"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    severity: Mapped[str] = mapped_column(String(16), default="block", server_default="block")  # block | silence
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DomainAllow(Base):
    """A host this node federates with in allowlist mode (MADEOPEN_FEDERATION_MODE=allowlist)."""

    __tablename__ = "domain_allows"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
