"""Projects and their tasks (issue #14): a project is a group of kind ``project`` (storage.models.actors.Group)
with a row here; tasks, their assignees and comments, and invitations to join.

Tasks of a project on another server are kept here too, as copies (``group_id`` None, ``project_uri`` the
remote project's id): what a person of ours assigned there sees under "my tasks".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class Project(Base):
    """What makes one of our groups a project: the thread it came from, open or closed, done or not."""

    __tablename__ = "projects"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), primary_key=True)
    origin_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)  # an idea or concern
    joining: Mapped[str] = mapped_column(String(16), default="open")  # open | invite (closed: invitations only)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | done
    outcome: Mapped[str] = mapped_column(Text, default="")  # Markdown, the closing note
    started_by_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProjectTask(Base):
    """A task (a ForgeFed ``Ticket``): ours (``group_id`` set) or a copy of another server's."""

    __tablename__ = "project_tasks"
    __table_args__ = (Index("ix_project_tasks_project", "project_uri", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    project_uri: Mapped[str] = mapped_column(String(2048))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text, default="")  # Markdown (ours)
    content: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | doing | done
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    document: Mapped[dict] = mapped_column(JSON, default=dict)  # the Ticket as peers get it (or sent us)


class TaskAssignee(Base):
    __tablename__ = "task_assignees"
    __table_args__ = (UniqueConstraint("task_id", "actor_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("project_tasks.id", ondelete="CASCADE"))
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)


class TaskComment(Base):
    """A reply to a task by someone in the team."""

    __tablename__ = "task_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("project_tasks.id", ondelete="CASCADE"), index=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    author_uri: Mapped[str] = mapped_column(String(2048))
    source: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectInvite(Base):
    """An invitation to join a project: sent by one of our projects (``group_id`` set), or received by one
    of our people from a project of another server (``group_id`` None)."""

    __tablename__ = "project_invites"
    __table_args__ = (UniqueConstraint("project_uri", "actor_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_uri: Mapped[str] = mapped_column(String(2048))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True)
    project_name: Mapped[str] = mapped_column(String(500), default="")
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)  # the invited person
    invited_by_uri: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | declined
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # the Invite
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
