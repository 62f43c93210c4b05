"""Uploads nobody posted, and the images of deleted posts, are removed a day later by the worker's prune
(actors.media_vacuum); what posts, avatars and the node use stays, and a form that still names a removed
upload says so instead of posting without it."""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from madeopen.app import Services
from madeopen.workers import Pruner, retention
from storage.models import LocalActor, Object
from tests.support.web_ui import UI, garden_with_member, png, ui  # noqa: F401  (fixture)

WEEK = timedelta(days=7)


async def _upload(ui: UI, title: str, *, alt: str, colour: tuple[int, int, int]) -> tuple[str, int]:
    """Start a thread with an image (posted when ``alt`` is given, else refused and kept pending): the
    image's media name and the answer's status."""
    files = {"image": ("photo.png", png(rgb=colour), "image/png")}
    response = await ui.post("/groups/garden/new", {"title": title, "body": "Look", "image_alt": alt}, files=files,
                             form_page="/groups/garden/new")
    if response.status == 303:
        page = await ui.page(response.headers["Location"])
        found = re.search(r'/media/([A-Za-z0-9_-]{22,40}\.png)', page)
    else:
        found = re.search(r'name="image_pending" value="([^"]+)"', await response.text())
    assert found, await response.text()
    return found.group(1), response.status


def _age(media: Path, days: float) -> None:
    then = time.time() - days * 86400
    for path in media.iterdir():
        os.utime(path, (then, then))


async def _served(ui: UI, name: str) -> int:
    return (await ui.get(f"/media/{name}")).status


async def test_a_day_old_upload_nobody_posted_is_removed_and_what_is_used_stays(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    posted, status = await _upload(ui, "Leeks", alt="A row of leeks", colour=(10, 200, 10))
    assert status == 303
    abandoned, status = await _upload(ui, "Beans", alt="", colour=(200, 10, 10))
    assert status == 400
    deleted, status = await _upload(ui, "Kale", alt="Kale leaves", colour=(10, 10, 200))
    async with services.sessions() as session:
        kale = await session.scalar(select(Object.id).where(Object.name == "Kale"))
    response = await ui.post(f"/posts/{kale}/delete", {"reason": ""}, form_page=f"/posts/{kale}/delete")
    assert response.status == 303, await response.text()
    response = await ui.post("/settings/profile", {"display_name": "Bea", "bio": ""},
                             files={"avatar": ("me.png", png(rgb=(90, 90, 90)), "image/png")},
                             form_page="/settings/profile")
    assert response.status == 303, await response.text()
    async with services.sessions() as session:
        avatar = await session.scalar(select(LocalActor.avatar).where(LocalActor.username == "bea"))
    media = services.settings.data_dir / "media"
    (media / "README.txt").write_text("the operator's own file")  # not one of our names
    _age(media, days=2)
    fresh, _ = await _upload(ui, "Peas", alt="", colour=(120, 120, 10))  # chosen a minute ago

    removed = await Pruner(services.sessions, retention(WEEK, WEEK), media_dir=media).run_once()

    assert removed >= 2
    assert {name: await _served(ui, name) for name in (posted, abandoned, deleted, avatar, fresh)} == {
        posted: 200, abandoned: 404, deleted: 404, avatar: 200, fresh: 200}
    assert (media / "README.txt").exists()

    # The form that chose the removed image is sent again: it says so and keeps what was typed.
    response = await ui.post("/groups/garden/new", {"title": "Beans", "body": "Look", "image_pending": abandoned,
                                                    "image_alt": "Bean flowers"}, form_page="/groups/garden/new")
    page = await response.text()
    assert response.status == 400 and "no longer kept" in page and 'value="Beans"' in page
    async with services.sessions() as session:
        assert await session.scalar(select(Object.id).where(Object.name == "Beans")) is None


async def test_nothing_is_removed_within_the_day(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    abandoned, _ = await _upload(ui, "Beans", alt="", colour=(200, 10, 10))
    media = services.settings.data_dir / "media"
    _age(media, days=0.9)
    assert await Pruner(services.sessions, retention(WEEK, WEEK), media_dir=media).run_once() == 0
    assert await _served(ui, abandoned) == 200
