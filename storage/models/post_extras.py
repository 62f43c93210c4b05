"""What a post carries besides its text (issue #16): attached images and files, and its hashtags.

Kept as rows rather than read from ``objects.document``, so that thread pages, timelines and tag pages
(which leave the document unloaded) show them with one query per page.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PostAttachment(Base):
    """One attachment of a post: an image we store (``local``: ``url`` is on our /media/) or a remote
    post's file, which we only link to. ``name`` is the alt text (AS2 ``name``, as Mastodon sends it)."""

    __tablename__ = "post_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))  # Image | Document
    url: Mapped[str] = mapped_column(String(2048))
    media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(String(1500), default="")
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)  # bytes, of a file we store
    local: Mapped[bool] = mapped_column(Boolean, default=False)


class PostHashtag(Base):
    """A hashtag of a post (``tag`` lower-case, without '#'), ours or received as an AS2 ``Hashtag``."""

    __tablename__ = "post_hashtags"
    __table_args__ = (Index("ix_post_hashtags_tag", "tag", "object_id"),)

    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
