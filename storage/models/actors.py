"""Tables of people, groups, memberships and remote actors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import Index, false, func

from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, utcnow


class LocalActor(Base):
    """A person, group or the instance actor hosted here. Usernames share one namespace (WebFinger acct:)."""

    __tablename__ = "local_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # person | group | application
    username: Mapped[str] = mapped_column(String(64), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    rsa_private_pem: Mapped[str] = mapped_column(Text)
    rsa_public_pem: Mapped[str] = mapped_column(Text)
    ed25519_private_pem: Mapped[str] = mapped_column(Text)
    ed25519_public_pem: Mapped[str] = mapped_column(Text)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    avatar: Mapped[str | None] = mapped_column(String(64), nullable=True)  # file name under data_dir/media
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account | None] = relationship(back_populates="actor", uselist=False, lazy="joined")
    group: Mapped[Group | None] = relationship(back_populates="actor", uselist=False, lazy="joined")


class Account(Base):
    """Login data of a local person."""

    __tablename__ = "accounts"

    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Only a confirmed (or admin-set) address; one waiting for its link is ``pending_email`` (migration 0016).
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    pending_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # A sign-up that cannot log in until its address is confirmed (flagged suspended meanwhile, as approval).
    confirmation_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspension_reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # shown to the person
    approval_pending: Mapped[bool] = mapped_column(Boolean, default=False)  # sign-up awaiting an admin
    # Set when the account was deleted: the row stays as a tombstone (migration 0007).
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    actor: Mapped[LocalActor] = relationship(back_populates="account")


# Addresses are looked up without regard to case (actors/addresses.py); migration 0016.
Index("ix_accounts_email_lower", func.lower(Account.email))


class Group(Base):
    """A community, business or project hosted here."""

    __tablename__ = "groups"

    actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # community | business | project
    visibility: Mapped[str] = mapped_column(String(16))  # public | private
    posting_restricted_to_mods: Mapped[bool] = mapped_column(Boolean, default=False)
    rules: Mapped[str] = mapped_column(Text, default="", server_default="")  # Markdown; migration 0005
    # The kind the composer offers first (content.kinds.THREAD_KINDS); moderators choose. Migration 0007.
    default_kind: Mapped[str] = mapped_column(String(16), default="discussion", server_default="discussion")
    # Group settings (migration 0016): only members start threads (the team always may; replies follow
    # the group's visibility), the banner image (a media file name, AS2 ``image``), and the description
    # as the owner typed it (``LocalActor.summary`` keeps the rendered HTML peers read).
    members_start_threads: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    banner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description_source: Mapped[str | None] = mapped_column(Text, nullable=True)

    actor: Mapped[LocalActor] = relationship(back_populates="group")


class Membership(Base):
    """A local person or a remote actor in a local group, with a role and a state."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "local_actor_id"),
        UniqueConstraint("group_id", "remote_actor_id"),
        CheckConstraint("(local_actor_id IS NULL) != (remote_actor_id IS NULL)", name="one_member"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), index=True)
    local_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_actors.id", ondelete="CASCADE"), nullable=True, index=True
    )
    remote_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("remote_actors.id", ondelete="CASCADE"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # owner | admin | moderator | staff | member
    state: Mapped[str] = mapped_column(String(16), default="accepted")  # pending | accepted | banned
    # The Follow that made it: Accept/Reject name it as their object (FEP-1b12 joining).
    follow_activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RemoteActor(Base):
    """A cached actor of another server."""

    __tablename__ = "remote_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_type: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255), index=True)
    display_name: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    outbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    followers: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    document: Mapped[dict] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RemoteKey(Base):
    """A public key of a remote actor, found by the ``keyId`` of a signature."""

    __tablename__ = "remote_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("remote_actors.id", ondelete="CASCADE"), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NodeSetting(Base):
    """Operator-editable node settings (name, description, registration mode, branding)."""

    __tablename__ = "node_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
