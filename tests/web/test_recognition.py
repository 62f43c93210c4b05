"""Recognition's forms without a browser (issue #17): the owner's weights (out of range: 400 with the
message next to the field, the typed values kept, nothing saved), the CSV export (owners only; a bad date
is a 400; the file matches the ledger), who sees the team page, the JSON leaderboard and the Award
document peers dereference."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from actors import local
from content.recognition import weights
from content.recognition.ledger import ledger
from inbox_outbox.services import posts, recognition
from madeopen.app import Services
from storage.models import BadgeAward
from tests.support.web_ui import UI, create_person, shop_with_team, ui  # noqa: F401  (fixtures)


async def _setup(services: Services) -> str:
    """shop (owner ada; erin a member, sam staff); erin's reply got kudos from sam; returns the reply's id."""
    await shop_with_team(services)
    async with services.sessions.begin() as session:
        ada, erin, sam = [await local.find_person(session, n) for n in ("ada", "erin", "sam")]
        group = await local.find_group(session, "shop")
        thread = await posts.create_post(session, services.urls, ada, group, "Hello", "Say hi", "discussion")
        reply = await posts.reply(session, services.urls, erin, thread.uri, "Hi!")
        await recognition.give_kudos(session, services.urls, sam, reply.uri)
        await recognition.grant_badge(session, services.urls, sam, group, services.urls.person("erin"), "Star", "Kind")
    return reply.uri


async def test_weights_form_checks_ranges(ui: UI, services: Services) -> None:  # noqa: F811
    await _setup(services)
    await ui.log_in("ada")
    fields = {kind: str(default) for kind, (_, default) in weights.WEIGHT_KINDS.items()} | {"daily_cap": "20"}
    response = await ui.post("/groups/shop/recognition/weights", fields | {"answer": "5000"})
    text = await response.text()
    assert response.status == 400 and 'id="weights-answer-error"' in text and "0 to 1000" in text
    assert 'value="5000"' in text  # kept
    async with services.sessions() as session:
        group = await local.find_group(session, "shop")
        assert (await weights.load(session, group.id)).of("answer") == 15  # unchanged
    response = await ui.post("/groups/shop/recognition/weights", fields | {"team_kudos": "30", "daily_cap": "50"})
    assert response.status == 303
    async with services.sessions() as session:
        assert (await ledger(session, services.urls, group.id)).total(services.urls.person("erin")) == 30


async def test_export_is_the_owners_and_matches_the_ledger(ui: UI, services: Services) -> None:  # noqa: F811
    await _setup(services)
    await ui.log_in("sam")
    assert (await ui.get("/groups/shop/recognition/export")).status == 403
    assert (await ui.get("/groups/shop/recognition/team")).status == 200  # staff see the team page
    await ui.post("/logout", {}, form_page="/groups/shop")
    await ui.log_in("erin")
    assert (await ui.get("/groups/shop/recognition/team")).status == 403
    await ui.post("/logout", {}, form_page="/groups/shop")
    await ui.log_in("ada")
    bad = await ui.get("/groups/shop/recognition/export?from=yesterday")
    assert bad.status == 400 and "YYYY-MM-DD" in await bad.text()
    response = await ui.get("/groups/shop/recognition/export?from=2000-01-01")
    assert response.status == 200 and response.content_type == "text/csv"
    assert 'filename="shop-points-2000-01-01-now.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(row["member"], row["points_earned"]) for row in rows] == [(services.urls.person("erin"), "10")]


async def test_leaderboard_json_and_award_document(ui: UI, services: Services) -> None:  # noqa: F811
    await _setup(services)
    response = await ui.client.get("/api/groups/shop/leaderboard?period=week")
    board = json.loads(await response.text())
    assert board["leaders"] == [{"rank": 1, "id": services.urls.person("erin"), "name": "erin", "points": 10,
                                 "badges": ["Star"]}]
    assert (await ui.client.get("/api/groups/shop/leaderboard?period=year")).status == 400
    async with services.sessions() as session:
        award = await session.scalar(select(BadgeAward))
    response = await ui.client.get(f"/groups/shop/badges/{award.id}", headers={"Accept": "application/activity+json"})
    document = json.loads(await response.text())
    assert document["type"] == "Award" and document["recipient"] == services.urls.person("erin")
    assert document["id"].endswith(f"/groups/shop/badges/{award.id}") and document["name"] == "Star"


async def test_parallel_redeem_requests_never_overspend(ui: UI, services: Services) -> None:  # noqa: F811
    """Four redemptions of an 8-point reward sent at once by a member with 10 points: one goes through."""
    import asyncio

    from storage.models import Redemption

    await _setup(services)
    async with services.sessions.begin() as session:
        ada = await local.find_person(session, "ada")
        group = await local.find_group(session, "shop")
        mug = await recognition.create_reward(session, services.urls, ada, group, "Mug", "8", "")
    await ui.log_in("erin")
    token = await ui.token("/groups/shop/recognition")
    responses = await asyncio.gather(*(ui.post("/groups/shop/recognition/redeem", {"reward": str(mug.id)}, token=token)
                                       for _ in range(4)))
    assert [r.status for r in responses] == [303] * 4  # each told (a notice), none a server error
    async with services.sessions() as session:
        assert [r.cost for r in await session.scalars(select(Redemption))] == [8]
    page = await ui.page("/groups/shop/recognition")
    assert "2 points to spend" in page and "costs 8 points; you have 2" in page


async def test_opting_out_of_the_help_ranking(ui: UI, services: Services) -> None:  # noqa: F811
    from content.recognition import ranking

    await create_person(services, "erin")
    await ui.log_in("erin")
    page = await ui.page("/settings/recognition")
    assert 'name="ranked"' in page and "checked" in page.split('name="ranked"', 1)[1].split(">", 1)[0]
    assert (await ui.post("/settings/recognition", {}, form_page="/settings/recognition")).status == 303
    async with services.sessions() as session:
        assert not await ranking.ranked(session, services.urls.person("erin"))
    page = await ui.page("/settings/recognition")
    assert "checked" not in page.split('name="ranked"', 1)[1].split(">", 1)[0]
    await ui.post("/settings/recognition", {"ranked": "on"}, form_page="/settings/recognition")
    async with services.sessions() as session:
        assert await ranking.ranked(session, services.urls.person("erin"))
