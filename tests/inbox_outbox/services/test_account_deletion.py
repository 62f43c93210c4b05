"""inbox_outbox.services.account_deletion: who hears of a deleted account (every server that kept a copy of
the person, one POST per shared inbox), the Delete's shape, and the content policy. What peers would
receive is read from the delivery queue; tests/web/test_account_data.py delivers it to a real peer."""

from __future__ import annotations

from sqlalchemy import select, update

from actors import local
from actors.account_deletion import discard_spent_keys
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.services import account_deletion, posts
from inbox_outbox.services.account_deletion import DeletedContent
from madeopen.app import Services
from storage.models import Activity, Delivery, Follow, LocalActor, Membership, Object, RemoteActor
from tests.inbox_outbox.groups_support import make_group, make_person, person_uri, queued

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _remote(host: str, name: str, actor_type: str = "Person", *, shared: bool = True) -> RemoteActor:
    return RemoteActor(
        uri=f"https://{host}/users/{name}", actor_type=actor_type, username=name, domain=host,
        inbox=f"https://{host}/users/{name}/inbox", shared_inbox=f"https://{host}/inbox" if shared else None,
    )


async def test_every_server_that_knew_them_hears_it_once(services: Services) -> None:
    await make_person(services, "cleo")
    await make_person(services, "olga")
    await make_group(services, "garden", owner="olga")
    cleo = person_uri("cleo")
    async with services.sessions.begin() as session:
        fan, fan2 = _remote("fans.example", "fan"), _remote("fans.example", "fan2")  # one shared inbox
        friend = _remote("friends.example", "friend", shared=False)  # whom cleo follows
        lemmings = _remote("lemmy.example", "lemmings", "Group")  # a remote group she posted in
        joined = _remote("piefed.example", "makers", "Group")  # a remote group she joined
        member = _remote("members.example", "gardener")  # a remote member of our group she is in
        stranger = _remote("strangers.example", "nobody")  # knows nothing of her
        session.add_all([fan, fan2, friend, lemmings, joined, member, stranger])
        await session.flush()
        session.add_all([
            Follow(follower_uri=fan.uri, followee_uri=cleo, state="accepted"),
            Follow(follower_uri=fan2.uri, followee_uri=cleo, state="accepted"),
            Follow(follower_uri=cleo, followee_uri=friend.uri, state="accepted"),
            Follow(follower_uri=cleo, followee_uri=joined.uri, state="accepted"),
        ])
        garden = await local.find_group(session, "garden")
        person = await local.find_person(session, "cleo")
        session.add(Membership(group_id=garden.id, local_actor_id=person.id, role="member", state="accepted"))
        session.add(Membership(group_id=garden.id, remote_actor_id=member.id, role="member", state="accepted"))
    async with services.sessions.begin() as session:
        person = await local.find_person(session, "cleo")
        lemmings_row = await session.scalar(select(RemoteActor).where(RemoteActor.uri.like("%lemmings")))
        assert lemmings_row is not None
        await posts.create_post(session, services.urls, person, lemmings_row, "Hello", "Hello lemmings")
        await posts.create_post(session, services.urls, person, await local.find_group(session, "garden"), "Hi", "Hi")
        await posts.create_post(session, services.urls, person, None, "", "On my own")

    before = len(await queued(services))
    async with services.sessions.begin() as session:
        deletion = await account_deletion.delete_account(session, services.urls, None, "cleo", DeletedContent.REMOVE)
    assert deletion.posts_removed == 3

    deletes = await queued(services, "Delete")
    assert len(await queued(services)) == before + len(deletes)  # nothing else was sent
    assert sorted(d.inbox for d in deletes) == [
        "https://fans.example/inbox", "https://friends.example/users/friend/inbox", "https://lemmy.example/inbox",
        "https://members.example/inbox", "https://piefed.example/inbox",
    ]
    assert {d.signer for d in deletes} == {"cleo"}
    [activity] = {d.activity["id"]: d.activity for d in deletes}.values()
    assert activity["type"] == "Delete" and activity["actor"] == cleo and activity["object"] == cleo
    assert activity["to"] == [PUBLIC] and activity["cc"] == [f"{cleo}/followers"] and activity["removeData"] is True
    async with services.sessions() as session:
        left = await session.scalars(select(Object).where(Object.author_uri == cleo, Object.deleted.is_(False)))
        assert list(left) == []
        assert list(await session.scalars(select(Follow))) == []
        assert [m.remote_actor_id for m in await session.scalars(select(Membership).where(
            Membership.group_id == garden.id, Membership.role == "member"))] == [member.id]


async def test_a_person_nobody_knows_sends_nothing(services: Services) -> None:
    await make_person(services, "quiet")
    async with services.sessions.begin() as session:
        await account_deletion.delete_account(session, services.urls, None, "quiet", DeletedContent.ANONYMISE)
    assert await queued(services) == []


async def test_nothing_is_sent_in_the_name_of_a_deleted_account_once_its_key_is_gone(services: Services) -> None:
    await make_person(services, "cleo")
    async with services.sessions.begin() as session:
        await account_deletion.delete_account(session, services.urls, None, "cleo", DeletedContent.REMOVE)
        cleo = await local.find_actor(session, "cleo")
        cleo_id = cleo.id
        stray = Activity(uri=f"{services.urls.base}/activities/stray", actor_uri=person_uri("cleo"), type="Note",
                         document={"type": "Note"})
        session.add(stray)
        await session.flush()
        session.add(Delivery(activity_id=stray.id, signer_id=cleo_id, inbox="https://fans.example/inbox",
                             host="fans.example"))
    assert await discard_spent_keys(services.sessions) == 0  # a pending delivery still needs the key...
    async with services.sessions.begin() as session:
        await session.execute(update(LocalActor).where(LocalActor.id == cleo_id).values(rsa_private_pem=""))
    assert services.fed is not None
    await DeliveryWorker(services.fed).run_once()  # ...and were it gone anyway, the worker carries on
    async with services.sessions() as session:
        row = await session.scalar(select(Delivery))
        assert row is not None and row.state == "dead" and "deleted" in (row.last_error or "")
