"""Content and relations between actors: objects (posts), follows, reactions, pins, reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


# The board (content.board) lists thread starts of a kind (idea, concern, question): partial indexes over
# those rows only, one per sort key, alone and after a kind or status filter (migration 0011). The predicate
# is given here for SQLite only: SQLAlchemy imports a dialect to check its ``<dialect>_`` keyword arguments,
# and ``postgresql_where=`` would load the PostgreSQL dialect (~2 MB) on SQLite nodes too (issue #13,
# bench/README.md). PostgreSQL's copy is added by ``board_indexes_for_postgresql`` where it is used.
_ON_BOARD = text("kind IS NOT NULL")
_BOARD_PREFIX = "ix_board_"
_BOARD_SORTS = {"top": "net_votes", "new": "published", "answered": "answered_at", "trending": "trend_votes"}


def _board_indexes() -> tuple[Index, ...]:
    made = []
    for sort, column in _BOARD_SORTS.items():
        for prefix, columns in (("", ()), ("kind_", ("kind",)), ("status_", ("status",))):
            # ``deleted`` last: filtered (and counted) from the index, without reading the table.
            made.append(Index(f"{_BOARD_PREFIX}{prefix}{sort}", "group_id", *columns, column, "id", "deleted",
                              sqlite_where=_ON_BOARD))
    # Counts per kind and status of remote groups' boards (ours are kept in board_counts).
    made.append(Index(f"{_BOARD_PREFIX}counts", "group_id", "kind", "status", "deleted", sqlite_where=_ON_BOARD))
    return tuple(made)


def board_indexes_for_postgresql() -> None:
    """Give the board's partial indexes their predicate on PostgreSQL too (``postgresql_where``), as
    migration 0011 creates them; for DDL and Alembic's comparisons made from the models. Idempotent."""
    for index in Object.__table__.indexes:
        if index.name is not None and index.name.startswith(_BOARD_PREFIX):
            index.dialect_options["postgresql"]["where"] = _ON_BOARD


class Object(Base):
    """A post-like object (Note, Page, Article, Question, Event), local or remote, possibly in a group.

    ``document`` is the object as AS2 JSON (for local objects the one we serve; for remote ones the
    validated, sanitised copy). The columns are what queries need.

    Board columns (content.kinds, content.statuses, content.answers): ``kind`` is set on thread starts
    that are an idea, concern or question (None: a discussion, or a reply); ``status`` is the idea's or
    concern's status, or ``solved``/``unsolved`` for a question; ``net_votes`` is likes minus dislikes,
    ``trend_votes`` the same over the last 7 days (content.votes: moved with each vote, aged by the pruner);
    ``answered_at`` the last official response or accepted answer; ``official`` marks a reply that is an
    official response of the group's team.
    """

    __tablename__ = "objects"
    __table_args__ = (
        Index("ix_objects_group_published", "group_id", "published"),
        Index("ix_objects_context", "context_uri"),
        Index("ix_objects_reply", "in_reply_to_uri"),
        *_board_indexes(),
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
    # Remote posts: the version of the sanitising policy ``content`` was cleaned with
    # (federation.html.SANITISE_POLICY_VERSION); NULL for local posts and for rows stored before it existed.
    sanitised_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
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
    boost_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))  # rows of ``boosts``
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Our people's posts in a remote group wait for the group's Announce (content.acceptance):
    # pending | accepted | refused; NULL for every other post (nothing to wait for).
    acceptance: Mapped[str | None] = mapped_column(String(16), nullable=True)
    refusal: Mapped[str | None] = mapped_column(Text, nullable=True)  # why, when the group said (or timed out)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # idea | concern | question
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    net_votes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    trend_votes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # net, last 7 days
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    accepted_answer_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    duplicate_of_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    official: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Hidden (``deleted``) only because an admin suspended its remote author (actors.suspensions): lifting
    # the suspension brings back exactly these rows, never a post its author or a moderator deleted.
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class ObjectRecipient(Base):
    """One id a remote post is addressed to (its ``to``/``cc``, ``audience`` and mentions).

    Who may read a non-public post from elsewhere follows from these rows (content.audience): the people
    named, and the followers of an actor whose followers collection is named (a followers-only post of
    someone our person follows; a private remote group's post for its members). Local posts need none:
    their group or author decides.
    """

    __tablename__ = "object_recipients"
    __table_args__ = (UniqueConstraint("object_id", "uri"), Index("ix_object_recipients_uri", "uri"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    uri: Mapped[str] = mapped_column(String(2048))


class BoardCount(Base):
    """How many live board threads of a kind and status one of our groups has (the board's counts).

    Kept by database triggers on ``objects`` (migration 0011), so no code path can forget it; read-only
    for the application."""

    __tablename__ = "board_counts"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)  # '' when none
    count: Mapped[int] = mapped_column(Integer, default=0)


class StatusChange(Base):
    """One change of a thread's status by the group's team, with its official response (a reply)."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    response_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # the official reply
    duplicate_of_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ThreadFollower(Base):
    """Someone who follows a thread (told of its replies and status changes), or ``muted`` it (told of
    nothing in it); moves to the original with a duplicate. Our people follow the threads they start."""

    __tablename__ = "thread_followers"
    __table_args__ = (UniqueConstraint("object_id", "actor_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    actor_uri: Mapped[str] = mapped_column(String(2048), index=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


class PersonBlock(Base):
    """One of our people blocks someone, local or remote (Mastodon's block; actors.person_blocks)."""

    __tablename__ = "person_blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_uri", name="uq_person_blocks"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id", ondelete="CASCADE"))
    blocked_uri: Mapped[str] = mapped_column(String(2048))
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # the Block we sent, if remote
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

class ActorSuspension(Base):
    """An admin of this node suspended one remote account (Mastodon's suspend of a remote account, Lemmy's
    ban from site; actors.suspensions)."""

    __tablename__ = "actor_suspensions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    suspended_by: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # None: the command line
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reaction(Base):
    """A Like or Dislike (Lemmy votes) of an object."""

    __tablename__ = "reactions"
    __table_args__ = (
        UniqueConstraint("actor_uri", "object_uri", "kind"),
        Index("ix_reactions_created", "created_at"),  # the board's "trending" sort: votes of the last 7 days
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    object_uri: Mapped[str] = mapped_column(String(2048), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # like | dislike
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Boost(Base):
    """Someone's boost of a post we hold: an ``Announce{<post id>}`` by a person (Mastodon's reblog; a group's
    FEP-1b12 relay is distribution, not a boost), counted in ``Object.boost_count`` (content.boosts)."""

    __tablename__ = "boosts"
    __table_args__ = (UniqueConstraint("actor_uri", "object_uri"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_uri: Mapped[str] = mapped_column(String(2048))
    object_uri: Mapped[str] = mapped_column(String(2048), index=True)
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
    """A report, kept for the group's moderators (or the node's admins when no group is concerned).

    From a remote ``Flag`` (``activity_uri`` is its id) or one of our members (``activity_uri`` is the id
    of our own Flag, forwarded to the reported server or not). ``outcome`` says what the moderator did:
    removed | banned | suspended | dismissed (migration 0007)."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True)
    reporter_uri: Mapped[str] = mapped_column(String(2048))
    object_uris: Mapped[list] = mapped_column(JSON, default=list)
    content: Mapped[str] = mapped_column(Text, default="")
    activity_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    resolved_by_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ModerationEntry(Base):
    """One line of the moderation log: who did what to whom, when and why (per group, or node-wide).

    ``actor_uri`` None: the node operator at the command line. ``group_id`` None: a node-wide act
    (suspensions, domain blocks, reports about no group)."""

    __tablename__ = "moderation_log"
    __table_args__ = (Index("ix_moderation_log_group_id", "group_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.actor_id", ondelete="CASCADE"), nullable=True)
    actor_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2048), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
