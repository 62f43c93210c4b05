"""Profiles of people and groups, local and remote, in one searchable shape (the people finder).

One ``profiles`` row per actor we know that people may look for: local people and groups, and remote
``Person``/``Group``/``Organization`` actors. Local rows hold what the member typed; remote rows what
their server published (our own terms, or Mastodon-style hashtags and ``PropertyValue`` fields).
``profile_tags`` holds the tags once more, one row per tag, keyed for exact lookups.

Location privacy: ``latitude``/``longitude`` are what the member entered and only ever shown to them;
``search_lat``/``search_lon`` are what others may see and search (rounded to the chosen precision, NULL
when hidden). Distance search reads only the latter, so no radius query can narrow a city-level or
hidden location down. ``search_text`` likewise never holds a hidden place name.

Full-text indexes (created by migration 0003 with dialect-specific DDL; they are not ORM columns, so
``alembic revision --autogenerate`` must not be trusted to keep them - review its output):

- **SQLite** (FTS5, ``porter unicode61 remove_diacritics 2`` tokenizer):
  ``profiles_fts`` is an external-content FTS5 table over ``profiles.search_text`` (rowid = profiles.id),
  kept in sync by three triggers on ``profiles``. ``objects_fts(title, body)`` (rowid = objects.id) holds
  the plain text of posts; triggers on ``objects`` only queue the changed ids in ``search_pending``, and
  ``people.index.sync`` turns the HTML into text in Python before every search (SQLite has no HTML
  stripping in SQL).
- **PostgreSQL**: ``profiles.search_vector`` and ``objects.search_vector`` are stored generated
  ``tsvector`` columns (``english`` configuration; post titles weigh more than bodies; HTML tags are
  skipped by the text search parser) with GIN indexes. Nothing to keep in sync.
- **Both**: triggers on ``local_actors`` (name, summary, discoverable), ``groups`` (visibility) and
  ``accounts`` (suspended, awaiting approval) queue the local actor in ``search_pending``; the same
  ``people.index.sync`` refreshes its profile row. Remote actors are indexed in the transaction that
  stores them (``actors.remote``).

SQLite batch migrations (``batch_alter_table``) copy a table and lose its triggers: a later revision that
batch-alters ``objects``, ``profiles``, ``local_actors``, ``groups`` or ``accounts`` must create them again
(tests/people/test_schema.py checks they exist).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from storage.models.actors import LocalActor
from storage.models.base import Base, utcnow

TAG_KINDS = ("skill", "soft_skill", "interest", "wanted")


class Profile(Base):
    __tablename__ = "profiles"
    __table_args__ = (
        CheckConstraint("(local_actor_id IS NULL) != (remote_actor_id IS NULL)", name="profile_one_actor"),
        Index("ix_profiles_kind_name", "kind", "discoverable", "name"),
        Index("ix_profiles_search_lat", "search_lat", "search_lon"),  # bounding-box prefilter
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_actors.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    remote_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("remote_actors.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # person | group
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))  # the actor's server
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # its profile page
    name: Mapped[str] = mapped_column(String(500), default="")
    about: Mapped[str] = mapped_column(Text, default="")  # the summary as plain text
    headline: Mapped[str] = mapped_column(String(200), default="")
    skills: Mapped[list] = mapped_column(JSON, default=list)  # tag labels, in the member's order
    soft_skills: Mapped[list] = mapped_column(JSON, default=list)
    interests: Mapped[list] = mapped_column(JSON, default=list)
    skills_wanted: Mapped[list] = mapped_column(JSON, default=list)  # groups: what they need
    links: Mapped[list] = mapped_column(JSON, default=list)  # [{"label": ..., "url": ...}]
    location_name: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)  # as entered: the owner's eyes only
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    location_precision: Mapped[str] = mapped_column(String(8), default="hidden")  # exact | city | hidden
    search_lat: Mapped[float | None] = mapped_column(Float, nullable=True)  # published: rounded, NULL if hidden
    search_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=False)
    private: Mapped[bool] = mapped_column(Boolean, default=False)  # a group whose members are for members
    search_text: Mapped[str] = mapped_column(Text, default="")  # what the full-text index reads
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # ``LocalActor.profile`` (declared from this side, so the actors module stays as it is): loaded with
    # the actor, for the actor document. The database cascades deletes.
    local_actor: Mapped[LocalActor | None] = relationship(
        LocalActor, backref=backref("profile", uselist=False, lazy="joined", passive_deletes=True)
    )


class ProfileTag(Base):
    """One tag of a profile: ``key`` matches (case, spaces, hyphens folded), ``label`` is shown."""

    __tablename__ = "profile_tags"
    __table_args__ = (
        PrimaryKeyConstraint("profile_id", "kind", "key"),
        Index("ix_profile_tags_key", "key", "kind", "profile_id"),  # covers "who has this tag"
    )

    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # skill | soft_skill | interest | wanted
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))


class SearchPending(Base):
    """Rows whose search data is stale: filled by triggers, emptied by ``people.index.sync``."""

    __tablename__ = "search_pending"
    __table_args__ = (PrimaryKeyConstraint("kind", "ref_id"),)

    kind: Mapped[str] = mapped_column(String(16))  # local (local_actors.id) | remote | object (SQLite only)
    ref_id: Mapped[int] = mapped_column(Integer)
