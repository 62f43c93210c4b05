"""A suspended person, and a sign-up waiting for approval, as peers and visitors see them (the rules are in
actors.accounts, "Standing"): the suspended actor keeps a profile-less document marked ``suspended`` and its
WebFinger, its page, collections and own posts answer 403 while its posts in groups stay readable, peers
hear of it by ``Update{Person}``, and unsuspending brings everything back; a pending sign-up is 404."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from sqlalchemy import select

from actors import account_admin, accounts, local, node_settings
from inbox_outbox.services import posts
from madeopen.app import Services
from storage.models import Activity, Follow, Membership, NodeSetting, Object, RemoteActor
from tests.actors.test_documents import suspended_definitions
from tests.conftest import TEST_DOMAIN
from tests.inbox_outbox.groups_support import queued
from tests.support.web_ui import PASSWORD, UI, create_person, png, second_ui, ui  # noqa: F401

AS2 = "application/activity+json"
BASE = f"https://{TEST_DOMAIN}"
TROLL = f"{BASE}/users/troll"
COLLECTIONS = ("outbox", "followers", "following", "featured")
FAN_INBOX = "https://peer.example/inbox"
AVATAR = "troll-avatar-0123456789abcdef.png"


async def _as2(ui: UI, path: str) -> ClientResponse:
    return await ui.client.get(path, headers={"Accept": AS2}, allow_redirects=False)


async def _webfinger(ui: UI, name: str) -> ClientResponse:
    return await ui.client.get("/.well-known/webfinger", params={"resource": f"acct:{name}@{TEST_DOMAIN}"})


def _path(uri: str) -> str:
    assert uri.startswith(BASE + "/"), uri
    return uri[len(BASE):]


async def _create_activity(services: Services, obj: Object) -> str:
    async with services.sessions() as session:
        uri = await session.scalar(select(Activity.uri).where(Activity.type == "Create", Activity.object_uri == obj.uri))
    assert uri is not None
    return uri


async def _troll_with_posts(services: Services) -> tuple[Object, Object]:
    """troll has a profile, a remote follower, a post on the profile and a post in a group."""
    await create_person(services, "root_ada", admin=True)
    await create_person(services, "troll")
    async with services.sessions.begin() as session:
        troll = await local.find_person(session, "troll")
        troll.display_name, troll.summary = "King Troll", "I sell **boats**"
        troll.avatar = AVATAR
        media_dir = services.settings.data_dir / "media"
        media_dir.mkdir(parents=True, exist_ok=True)
        (media_dir / AVATAR).write_bytes(png())
        harbour = await local.create_group(session, local.NewGroup(username="harbour", owner="root_ada"))
        session.add(Membership(group_id=harbour.id, local_actor_id=troll.id, role="member", state="accepted"))
        session.add(RemoteActor(uri="https://peer.example/users/fan", actor_type="Person", username="fan",
                                domain="peer.example", inbox="https://peer.example/users/fan/inbox",
                                shared_inbox=FAN_INBOX))
        session.add(Follow(follower_uri="https://peer.example/users/fan", followee_uri=TROLL, state="accepted"))
    async with services.sessions.begin() as session:
        troll = await local.find_person(session, "troll")
        harbour = await local.find_group(session, "harbour")
        own = await posts.create_post(session, services.urls, troll, None, "", "Buy my boats")
        in_group = await posts.create_post(session, services.urls, troll, harbour, "Boats", "Anyone sailing?")
    return own, in_group


async def _avatar(ui: UI) -> tuple[int, str]:
    """What troll's avatar address answers: a redirect to the picture, or the placeholder's initial."""
    response = await ui.client.get("/users/troll/avatar", allow_redirects=False)
    if response.status != 200:
        return response.status, response.headers.get("Location", "")
    assert response.content_type == "image/svg+xml"
    svg = await response.text()
    start = svg.index(">", svg.index("<text"))
    return response.status, svg[start: svg.index("</text>") + len("</text>")]


async def _updates_to_the_fan(services: Services) -> list[dict[str, Any]]:
    return [q.activity for q in await queued(services, "Update") if q.inbox == FAN_INBOX]


async def _admin_does(ui: UI, action: str) -> None:
    fields = {"reason": "trolling"} if action == "suspend" else {}
    response = await ui.post(f"/admin/users/troll/{action}", fields, form_page="/admin/users")
    assert response.status == 303, await response.text()


async def test_suspension_withholds_the_person_and_unsuspending_restores_it(
    ui: UI, second_ui: UI, services: Services
) -> None:
    own, in_group = await _troll_with_posts(services)
    await ui.log_in("root_ada")
    visitor = second_ui
    assert (await _avatar(visitor))[0] == 302  # the uploaded picture, while the account is active
    for path in (_path(in_group.uri), "/groups/harbour"):  # the thread and the group's list of threads
        assert "King Troll" in await visitor.page(path), path
    await _admin_does(ui, "suspend")

    # The actor document stays (keys, inbox, collection ids) but says `suspended` and shows no profile.
    response = await _as2(visitor, "/users/troll")
    assert response.status == 200
    document = await response.json(content_type=None)
    assert document["suspended"] is True
    assert suspended_definitions(document["@context"]) == ["toot:suspended"]
    assert document["id"] == TROLL and document["type"] == "Person" and document["preferredUsername"] == "troll"
    assert document["name"] == "troll" and document["summary"] == "" and document["discoverable"] is False
    assert document["publicKey"]["owner"] == TROLL and document["inbox"] == f"{TROLL}/inbox"
    assert "King Troll" not in str(document) and "boats" not in str(document) and "icon" not in document
    # WebFinger still resolves it, as Mastodon's does for a suspension (a 410 makes Mastodon delete its copy).
    assert (await _webfinger(visitor, "troll")).status == 200

    # Its collections and its page answer 403 and say why; the page shows nothing of the person.
    for name in COLLECTIONS:
        response = await _as2(visitor, f"/users/troll/{name}")
        assert response.status == 403, name
        assert "suspended" in (await response.json())["error"], name
    page = await visitor.page("/users/troll", status=403)
    assert "Account suspended" in page and f"@troll@{TEST_DOMAIN} is suspended" in page
    assert "King Troll" not in page and "boats" not in page

    # Its own post is withheld with it; its post in a group stays readable (it is the group's conversation).
    own_activity, group_activity = await _create_activity(services, own), await _create_activity(services, in_group)
    for path in (_path(own.uri), f"{_path(own.uri)}/replies", _path(own_activity)):
        assert (await _as2(visitor, path)).status == 403, path
    await visitor.page(_path(own.uri), status=403)
    for path in (_path(in_group.uri), f"{_path(in_group.uri)}/replies", _path(group_activity)):
        assert (await _as2(visitor, path)).status == 200, path
    # Shown as its document shows the person: the username only, and the placeholder for the avatar.
    thread = await visitor.page(_path(in_group.uri))
    assert "Anyone sailing?" in thread and ">troll</a>" in thread and "King Troll" not in thread
    threads = await visitor.page("/groups/harbour")
    assert "Boats" in threads and "King Troll" not in threads
    assert await _avatar(visitor) == (200, ">T</text>")  # the username's initial, not the display name's

    # The remote follower's server heard of it: Update{Person} with the suspended document, signed by troll.
    [update] = await _updates_to_the_fan(services)
    assert update["actor"] == TROLL and update["object"]["id"] == TROLL and update["object"]["suspended"] is True
    # The Update's own @context defines the term (the embedded actor document has none of its own).
    assert suspended_definitions(update["@context"]) == ["toot:suspended"] and "@context" not in update["object"]
    assert [q.signer for q in await queued(services, "Update")] == ["troll"]

    await _admin_does(ui, "unsuspend")

    document = await (await _as2(visitor, "/users/troll")).json(content_type=None)
    assert "suspended" not in document and document["name"] == "King Troll" and "boats" in document["summary"]
    assert (await _webfinger(visitor, "troll")).status == 200
    for name in COLLECTIONS:
        assert (await _as2(visitor, f"/users/troll/{name}")).status == 200, name
    outbox = await (await _as2(visitor, "/users/troll/outbox?page=1")).json(content_type=None)
    assert own_activity in str(outbox)
    page = await visitor.page("/users/troll")
    assert "King Troll" in page and "boats" in page
    assert (await _avatar(visitor))[0] == 302 and "King Troll" in await visitor.page(_path(in_group.uri))
    for path in (_path(own.uri), _path(own_activity), _path(in_group.uri)):
        assert (await _as2(visitor, path)).status == 200, path
    # And the peers hear that it is lifted: a second Update, with the whole profile again.
    _, lifted = await _updates_to_the_fan(services)
    assert "suspended" not in lifted["object"] and lifted["object"]["name"] == "King Troll"
    await second_ui.log_in("troll")


async def test_a_sign_up_waiting_for_approval_is_not_there(ui: UI, services: Services) -> None:
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.REGISTRATION, value="approval"))
        session.add(NodeSetting(key=node_settings.EMAIL_REQUIRED, value="0"))
    async with services.sessions.begin() as session:
        await accounts.sign_up(session, accounts.SignUp("newbie", PASSWORD, PASSWORD))

    async def answers(name: str) -> list[tuple[int, str]]:
        found = []
        for path in (f"/users/{name}", *(f"/users/{name}/{c}" for c in COLLECTIONS)):
            response = await _as2(ui, path)
            found.append((response.status, (await response.text()).replace(name, "NAME")))
        response = await ui.get(f"/users/{name}")
        found.append((response.status, (await response.text()).replace(name, "NAME")))
        response = await _webfinger(ui, name)
        found.append((response.status, (await response.text()).replace(name, "NAME")))
        response = await ui.get(f"/users/{name}/avatar")
        found.append((response.status, (await response.text()).replace(name, "NAME")))
        return found

    # Exactly what a name that does not exist gets: nobody can tell that the sign-up is there.
    pending = await answers("newbie")
    assert [status for status, _ in pending] == [404] * 8
    assert pending == await answers("nobody")

    await create_person(services, "root_ada", admin=True)
    async with services.sessions.begin() as session:
        admin = await local.find_person(session, "root_ada")
        await account_admin.approve(session, admin.id, "newbie")
    assert [status for status, _ in await answers("newbie")] == [200] * 8
