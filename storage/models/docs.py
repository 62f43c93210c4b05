"""A group's living documents (issue #18; content.docs): pages, their revisions, proposed edits and the
marks on comments. A doc's text is also an ``objects`` row (an ``Article`` by the group), so comments are
ordinary replies and the doc federates, is searched and shown like any post."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class DocSettings(Base):
    """Who edits a group's docs directly: ``team`` (owners, admins, moderators, staff), ``members`` or
    ``anyone`` logged in. Everyone else who may read proposes edits. No row: team."""

    __tablename__ = "doc_settings"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), primary_key=True)
    editors: Mapped[str] = mapped_column(String(16), default="team")


class Doc(Base):
    """A page of a group's docs; ``head`` is the number of its latest revision."""

    __tablename__ = "docs"
    __table_args__ = (Index("ix_docs_group", "group_id", "deleted", "title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("docs.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    head: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocRevision(Base):
    """One save of a doc: the whole text, who saved it, when and why. ``proposal_id``: an accepted
    proposed edit (its proposer is the author); ``restored_from``: the revision number brought back."""

    __tablename__ = "doc_revisions"
    __table_args__ = (UniqueConstraint("doc_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[int] = mapped_column(ForeignKey("docs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(300), default="")
    author_uri: Mapped[str] = mapped_column(String(2048))
    accepted_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    proposal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class DocProposal(Base):
    """A proposed edit: the whole revised text on top of revision ``base``, with the proposer's reason.

    ``state``: open | changes (the team asked for changes) | accepted | declined. ``uri``: our id of it
    (and of remote ones, the ``Offer`` activity's id in ``offer_uri``)."""

    __tablename__ = "doc_proposals"
    __table_args__ = (Index("ix_doc_proposals_doc_state", "doc_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[int] = mapped_column(ForeignKey("docs.id", ondelete="CASCADE"))
    base: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    proposer_uri: Mapped[str] = mapped_column(String(2048))
    offer_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    response: Mapped[str] = mapped_column(Text, default="")
    decided_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the revision it became
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocCommentMark(Base):
    """What a comment (a reply ``objects`` row in the doc's thread) says about the doc: the section it is
    about (a heading's anchor; NULL: the whole doc) and whether it was resolved."""

    __tablename__ = "doc_comment_marks"

    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True)
    doc_id: Mapped[int] = mapped_column(ForeignKey("docs.id", ondelete="CASCADE"), index=True)
    anchor: Mapped[str | None] = mapped_column(String(80), nullable=True)
    resolved_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
