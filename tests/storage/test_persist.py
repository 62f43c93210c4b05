"""storage/persist.py: a row written with its table's INSERT is what a flush would have written, and the
instance behaves as a flushed one (its id, every column loaded, later changes flushed, a rollback undoes it)."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, String, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from madeopen.app import Services
from storage.models import LocalActor, Object
from storage.persist import insert_now


class _Scratch(DeclarativeBase):
    """Classes insert_now must refuse, mapped on metadata of their own (no table of ours is touched)."""


class _ServerDefaultOnly(_Scratch):
    __tablename__ = "server_default_only"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), server_default=text("'x'"))


def _post(uri: str) -> Object:
    return Object(uri=uri, type="Note", author_uri="https://remote.example/users/ann", content="<p>hi</p>",
                  document={"id": uri, "type": "Note"})


async def test_the_row_and_the_instance_are_as_after_a_flush(services: Services) -> None:
    async with services.sessions.begin() as session:
        post = _post("https://remote.example/notes/1")
        await insert_now(session, post)
        assert post.id is not None and post in session and not session.new and not session.dirty
        # Every column holds what a flush would have given it, without a statement to load it.
        assert (post.local, post.deleted, post.locked, post.like_count, post.net_votes, post.name) == (
            False, False, False, 0, 0, "")
        assert post.published is not None and post.last_activity_at is not None
        post.like_count = 3  # a later change is flushed as an UPDATE
    async with services.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == "https://remote.example/notes/1"))
        assert stored is not None and stored.id == post.id
        assert (stored.like_count, stored.content, stored.document, stored.public) == (
            3, "<p>hi</p>", {"id": "https://remote.example/notes/1", "type": "Note"}, True)


async def test_a_rollback_undoes_it(services: Services) -> None:
    async with services.sessions.begin() as session:
        await insert_now(session, _post("https://remote.example/notes/2"))
        await session.rollback()
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Object)
                                    .where(Object.uri == "https://remote.example/notes/2")) == 0


@pytest.mark.parametrize("cls, reason", [
    (LocalActor, "as a flush would"),  # relationships: a flush would also write the related rows
    (_ServerDefaultOnly, "server default of _ServerDefaultOnly.kind"),  # NULL would be sent over the default
])
async def test_rows_it_cannot_write_as_a_flush_are_refused(cls: type, reason: str) -> None:
    with pytest.raises(TypeError, match=reason):
        await insert_now(None, cls())  # type: ignore[arg-type]  # refused before any session is used
