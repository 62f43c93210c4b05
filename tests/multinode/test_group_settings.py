"""Group settings changed on node A reach the group's members elsewhere as ``Update{Group}``: node B (a real
Made Open) re-fetches the group and shows the new title, description and banner; a bare Lemmy-like peer
member receives the signed Update with the whole group document (issue #16)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from inbox_outbox.services import group_settings
from storage.models import RemoteActor
from tests.multinode.conftest import Databases, members_elsewhere, no_tracebacks
from tests.support.cluster import eventually, running_nodes
from tests.support.peer import InboxDelivery, Peer
from tests.support.web_ui import png


async def test_group_settings_reach_a_second_node_and_a_bare_peer(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer() as peer:
        peer.route_origin(a.base_url, a.base_url)
        await a.create_person("olga")
        await a.create_group("garden", owner="olga")
        garden = a.group("garden")
        await members_elsewhere(a, b, peer, "garden", person="bea", peer_actor="pat")

        change = group_settings.GroupSettings(
            title="Garden Club", description="We grow **beans**.", rules="Be kind.", kind="project",
            default_kind="idea", thread_starters="team", banner=group_settings.media.Upload(png(40, 10)),
        )
        async with a.services.sessions.begin() as session:
            await group_settings.save(session, a.services.urls, "garden", change, by="olga",
                                      media_dir=a.services.settings.data_dir / "media")

        async def refreshed() -> RemoteActor | None:
            async with b.services.sessions() as session:
                found = await session.scalar(select(RemoteActor).where(RemoteActor.uri == garden))
            return found if found is not None and found.display_name == "Garden Club" else None

        copy = await eventually(refreshed, what="B's copy of the garden with its new title")
        assert "<strong>beans</strong>" in copy.summary
        assert copy.document["postingRestrictedToMods"] is True
        assert copy.document["image"]["url"].startswith(f"{a.base_url}/media/")

        async def update_of_group() -> InboxDelivery | None:
            for delivery in peer.inbox:
                inner = delivery.activity.get("object")
                if delivery.activity.get("type") == "Update" and isinstance(inner, dict) and inner.get("type") == "Group":
                    return delivery
            return None

        delivery = await eventually(update_of_group, what="the peer's Update{Group}")
        assert delivery.verified and delivery.key_id is not None and delivery.key_id.startswith(garden)
        update = delivery.activity
        assert update["actor"] == garden and update["object"]["id"] == garden
        assert update["object"]["name"] == "Garden Club" and update["object"]["image"]["type"] == "Image"
        no_tracebacks(tmp_path)
