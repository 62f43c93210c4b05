"""Reply counts agree everywhere after deletes (issue #16): the group's thread list, the board (HTML and
JSON), the thread page's heading and the "Everything here" timeline all count the live replies of a
thread at any depth. Before the fix the timeline showed the stored counter (direct replies only, never
lowered by a delete) and the thread page counted deleted replies."""

from __future__ import annotations

import json
import re

from actors import local
from madeopen.app import Services
from inbox_outbox.services import post_edits, posts
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)
from tests.web.test_groups_ui import _text


async def test_reply_counts_agree_after_deletes(ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    urls = services.urls
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Garden"))
        ada = await local.find_person(session, "ada")
        group = await local.find_group(session, "garden")
        thread = await posts.create_post(session, urls, ada, group, "Beans", "When to sow?", "question")
        first = await posts.reply(session, urls, ada, thread.uri, "In May.")
        await posts.reply(session, urls, ada, first.uri, "Or June.")  # nested
        await posts.reply(session, urls, ada, first.uri, "Not in April.")
        doomed = await posts.reply(session, urls, ada, thread.uri, "Spam.")
        await posts.reply(session, urls, ada, doomed.uri, "Is this spam?")  # keeps the deleted one in the tree
        thread_path, doomed_uri = "/" + thread.uri.split("/", 3)[3], doomed.uri
    async with services.sessions.begin() as session:
        ada = await local.find_person(session, "ada")
        await post_edits.delete_post(session, urls, ada, doomed_uri)

    await ui.log_in("ada")
    assert "4 replies" in _text(await ui.page("/groups/garden"))
    assert "4 replies" in _text(await ui.page("/groups/garden/board"))
    board = json.loads(await (await ui.client.get("/api/groups/garden/board")).text())
    assert [item["replies"] for item in board["threads"]] == [4]
    assert re.search(r'<h2 id="replies-heading">4 replies</h2>', await ui.page(thread_path))
    timeline = await ui.page("/local")
    block = timeline[timeline.index('aria-label="Beans"'):]
    assert re.search(r'<p class="counts">(\d+) repl', block).group(1) == "4"  # type: ignore[union-attr]
