"""Reading a group (issue #16): the thread list shows the author's avatar, the reply count, the last reply
(who and when), "New" and "N new replies" markers for a logged-in member (content.reading) and numbered
pages; About/Rules/Team come after the threads; the member list is short and links to the people finder."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from actors import local
from content.thread_views import THREADS_PAGE
from inbox_outbox.services import posts
from madeopen.app import Services
from storage.models import Membership, Object, utcnow
from tests.support.web_ui import UI, create_person, second_ui, ui  # noqa: F401  (fixtures)
from tests.web.test_groups_ui import _text


async def _thread(services: Services, author: str, title: str, group_name: str = "garden") -> tuple[str, str]:
    async with services.sessions.begin() as session:
        person = await local.find_person(session, author)
        group = await local.find_group(session, group_name)
        thread = await posts.create_post(session, services.urls, person, group, title, "Hello.")
        return thread.uri, "/" + thread.uri.split("/", 3)[3]


async def _reply(services: Services, author: str, parent: str, body: str) -> None:
    async with services.sessions.begin() as session:
        person = await local.find_person(session, author)
        await posts.reply(session, services.urls, person, parent, body)


def _item(page: str, title: str) -> str:
    """The list item of the thread called ``title``."""
    found = re.search(r'<li class="thread-item[^"]*">(?:(?!</li>).)*?>' + re.escape(title) + r"</a>.*?</li>", page, re.S)
    assert found, f"no thread {title!r} in the list"
    return found.group(0)


async def test_thread_list_avatars_last_reply_and_unread_markers(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    await create_person(services, "bea")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Garden"))
    await second_ui.log_in("bea")
    await second_ui.post("/groups/garden/join", {}, form_page="/groups/garden")
    old_uri, _ = await _thread(services, "ada", "Old news")
    async with services.sessions.begin() as session:  # bea joined a day ago: older threads are not news
        await session.execute(update(Membership).values(created_at=utcnow() - timedelta(days=1)))
        await session.execute(update(Object).where(Object.uri == old_uri).values(published=utcnow() - timedelta(days=2)))
    beans, beans_path = await _thread(services, "ada", "Beans")
    await _reply(services, "ada", beans, "Sow in May.")

    page = await second_ui.page("/groups/garden")
    item = _item(page, "Beans")
    assert 'src="/users/ada/avatar"' in item
    assert "1 reply" in _text(item) and "last reply by ada" in _text(item)
    assert '<span class="badge badge--new">New</span>' in item
    assert "badge--new" not in _item(page, "Old news")  # started before bea joined
    assert page.index('id="threads-heading"') < page.index('id="about-heading"')  # threads first

    await second_ui.page(beans_path)  # bea reads it
    assert "badge--new" not in _item(await second_ui.page("/groups/garden"), "Beans")
    await _reply(services, "ada", beans, "Or June.")
    await _reply(services, "ada", beans, "Not April.")
    await _reply(services, "bea", beans, "Thanks!")  # her own reply is not unread to her
    item = _item(await second_ui.page("/groups/garden"), "Beans")
    assert "2 new replies" in _text(item) and "last reply by bea" in _text(item)
    await second_ui.page(beans_path)
    assert "new repl" not in _text(_item(await second_ui.page("/groups/garden"), "Beans"))

    visitor = _item(await ui.page("/groups/garden"), "Beans")  # nobody logged in: no markers
    assert "badge--new" not in visitor and "4 replies" in _text(visitor)


async def test_front_page_shows_new_and_unread_markers_per_group(ui: UI, second_ui: UI, services: Services) -> None:
    """The front page's latest activity marks threads as the group page does, each by when the reader
    joined its group: a thread of a group they are not in is never "New" to them."""
    await create_person(services, "ada")
    await create_person(services, "bea")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Garden"))
        await local.create_group(session, local.NewGroup(username="orchard", owner="ada", title="Orchard"))
    await second_ui.log_in("bea")
    await second_ui.post("/groups/garden/join", {}, form_page="/groups/garden")
    old_uri, _ = await _thread(services, "ada", "Old news")
    async with services.sessions.begin() as session:  # bea joined the garden a day ago
        await session.execute(update(Membership).values(created_at=utcnow() - timedelta(days=1)))
        await session.execute(update(Object).where(Object.uri == old_uri).values(published=utcnow() - timedelta(days=2)))
    beans, beans_path = await _thread(services, "ada", "Beans")
    await _thread(services, "ada", "Apples", "orchard")  # public, but bea is not a member

    front = await second_ui.page("/")
    assert '<span class="badge badge--new">New</span>' in _item(front, "Beans")
    assert "thread-item--unread" in _item(front, "Beans")
    assert "badge--new" not in _item(front, "Old news")  # started before bea joined
    assert "badge--new" not in _item(front, "Apples")  # not her group
    assert re.search(r'>Garden</a> <span class="badge">yours</span>', front)
    assert not re.search(r'>Orchard</a> <span class="badge">yours</span>', front)

    await second_ui.page(beans_path)  # bea reads it, then two replies come
    await _reply(services, "ada", beans, "Sow in May.")
    await _reply(services, "ada", beans, "Or June.")
    item = _item(await second_ui.page("/"), "Beans")
    assert "2 new replies" in _text(item) and ">New<" not in item

    visitor = await ui.page("/")  # nobody logged in: no markers
    assert "badge--new" not in visitor and "Beans" in visitor


async def test_thread_pages_are_numbered_and_members_link_to_the_finder(ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Garden"))
    for number in range(2 * THREADS_PAGE + 1):
        await _thread(services, "ada", f"Thread {number}")
    page = await ui.page("/groups/garden?page=2")
    pager = page[page.index('aria-label="Pages of threads"'):]
    for number in (1, 2, 3):
        assert f'page={number}"' in pager
    assert re.search(r'page=2" aria-current="page"><span class="visually-hidden">Page </span>2<', pager)
    assert 'href="/people?group=garden"' in page
