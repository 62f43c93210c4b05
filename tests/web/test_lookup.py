"""Across servers: the lookup box finds people and groups on a real loopback peer and follows/joins them;
bad handles get clear errors and change nothing; visitors follow from their own server (remote follow);
our people land on /authorize_interaction from elsewhere."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from urllib.parse import quote, unquote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from madeopen.app import Services
from storage.models import Delivery, Follow, Membership, RemoteActor
from tests.inbox_outbox.content_support import ContentPeer, group, lemmy_page
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import settings  # noqa: F401  (fixtures)
from tests.support.servers import free_port
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

SUBSCRIBE = "http://ostatus.org/schema/1.0/subscribe"


class FediversePeer(ContentPeer):
    """A peer whose WebFinger also names a remote-follow ("subscribe") page, as Mastodon's does, except
    for the accounts in ``no_subscribe``; and which serves one ordinary HTML page at /about."""

    def __init__(self) -> None:
        super().__init__()
        self.no_subscribe: set[str] = set()

    async def start(self) -> FediversePeer:
        await super().start()
        return self

    async def _webfinger(self, request: web.Request) -> web.Response:
        response = await super()._webfinger(request)
        user = request.query.get("resource", "").removeprefix("acct:").rpartition("@")[0]
        if response.status != 200 or user in self.no_subscribe:
            return response
        jrd = json.loads(response.body)
        jrd["links"].append({"rel": SUBSCRIBE, "template": f"{self.base_url}/authorize_interaction?uri={{uri}}"})
        return web.json_response(jrd, content_type="application/jrd+json")


@pytest.fixture
async def peer() -> AsyncIterator[FediversePeer]:
    async with FediversePeer() as running:
        yield running


@pytest.fixture
def bob(peer: FediversePeer) -> PeerActor:
    return peer.add_actor("bob", name="Bob Builder", summary="<p>I build <b>sheds</b></p><script>x()</script>")


@pytest.fixture
def lemmings(peer: FediversePeer) -> PeerActor:
    return peer.add_actor("lemmings", actor_type="Group", name="Lemmings", summary="<p>A community</p>")


async def _counts(services: Services) -> tuple[int, int, int, int]:
    """(remote actors cached, follows, memberships, deliveries queued)."""
    async with services.sessions() as session:
        values = []
        for model in (RemoteActor, Follow, Membership, Delivery):
            values.append(await session.scalar(select(func.count()).select_from(model)) or 0)
    return tuple(values)  # type: ignore[return-value]


async def _follow_rows(services: Services) -> list[tuple[str, str, str]]:
    async with services.sessions() as session:
        rows = await session.execute(select(Follow.follower_uri, Follow.followee_uri, Follow.state).order_by(Follow.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def _logged_in(ui: UI, services: Services, name: str = "alice") -> None:
    await create_person(services, name)
    await ui.log_in(name)


async def _lookup(ui: UI, query: str, status: int = 200) -> str:
    return await ui.page(f"/lookup?q={quote(query, safe='')}", status=status)


# --------------------------------------------------------------------------------------------------
# Finding and following


async def test_find_a_remote_person_by_handle_and_follow_them(
    ui: UI, services: Services, peer: FediversePeer, bob: PeerActor
) -> None:
    await _logged_in(ui, services)
    page = await _lookup(ui, f"@{bob.handle}")
    assert "Bob Builder" in page and f"@{bob.handle}" in page
    assert "<b>sheds</b>" in page and "<script>" not in page  # remote HTML sanitised
    assert 'action="/follow"' in page and ">Follow</button>" in page

    response = await ui.post("/follow", {"uri": bob.id, "name": "Bob Builder", "next": f"/lookup?q=@{bob.handle}"},
                             form_page="/lookup")
    assert response.status == 303 and response.headers["Location"] == f"/lookup?q=@{bob.handle}"
    assert await _follow_rows(services) == [("http://node.test/users/alice", bob.id, "pending")]
    async with services.sessions() as session:
        inboxes = list(await session.scalars(select(Delivery.inbox)))
    assert inboxes == [bob.inbox] or inboxes == [f"{peer.base_url}/inbox"]  # the Follow is on its way

    page = await _lookup(ui, f"@{bob.handle}")
    assert "You asked to follow Bob Builder; waiting for them to accept." in page  # the notice
    assert "waiting for them to accept" in page and ">Cancel request</button>" in page

    response = await ui.post("/unfollow", {"uri": bob.id, "name": "Bob Builder"}, form_page="/lookup")
    assert response.status == 303 and unquote(response.headers["Location"]) == f"/lookup?q={bob.id}"
    assert await _follow_rows(services) == []


async def test_find_a_remote_group_lemmy_style_and_join_it(
    ui: UI, services: Services, peer: FediversePeer, lemmings: PeerActor
) -> None:
    await _logged_in(ui, services)
    page = await _lookup(ui, f"!{lemmings.handle}")
    assert "Lemmings" in page and ">Join group</button>" in page and "Group · on " + peer.host in page
    response = await ui.post("/follow", {"uri": lemmings.id, "name": "Lemmings"}, form_page="/lookup")
    assert response.status == 303
    assert await _follow_rows(services) == [("http://node.test/users/alice", lemmings.id, "pending")]
    page = await ui.page(response.headers["Location"])
    assert "You asked to join Lemmings; you are in once the group accepts." in page
    assert "You asked to join; waiting for the group to accept." in page


async def test_find_by_actor_url_and_by_post_url(
    ui: UI, services: Services, peer: FediversePeer, bob: PeerActor, lemmings: PeerActor
) -> None:
    await _logged_in(ui, services)
    page = await _lookup(ui, bob.id)
    assert "Bob Builder" in page and ">Follow</button>" in page

    post = peer.serve(lemmy_page(bob, lemmings.id, name="Seed swap", content="<p>Saturday at ten</p>"))
    page = await _lookup(ui, post["id"])
    assert "Seed swap" in page and "Saturday at ten" in page
    # The post's group and its author, each with its button: the group first.
    assert page.index("Lemmings") < page.index("Bob Builder")
    assert ">Join group</button>" in page and ">Follow</button>" in page


async def test_local_handles_and_urls_find_our_own_people_and_groups(ui: UI, services: Services) -> None:
    await _logged_in(ui, services)
    await create_person(services, "dora")
    await group(services, "garden", owner="dora")
    page = await _lookup(ui, "@dora@node.test")
    assert "@dora@node.test" in page and "on this server" in page and ">Follow</button>" in page
    response = await ui.post("/follow", {"uri": "http://node.test/users/dora", "name": "dora"}, form_page="/lookup")
    assert response.status == 303
    assert await _follow_rows(services) == [("http://node.test/users/alice", "http://node.test/users/dora", "accepted")]
    assert "You follow them." in await _lookup(ui, "http://node.test/users/dora")

    page = await _lookup(ui, "!garden@node.test")
    assert ">Join group</button>" in page
    await ui.post("/follow", {"uri": "http://node.test/groups/garden", "name": "garden"}, form_page="/lookup")
    assert "You are a member." in await _lookup(ui, "http://node.test/groups/garden")
    assert "This is you." in await _lookup(ui, "@alice@node.test")


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("hello", 400, "is not a handle or a link"),
        ("@@", 400, "is not a handle or a link"),
        ("@nobody@PEER", 404, "knows nobody called nobody"),
        ("@someone@UNREACHABLE", 502, "could not reach 127.0.0.1:"),
        ("PEER_URL/users/bob/followers", 422, "is not a person, group or post"),
        ("PEER_URL/users/nobody", 404, "there is nothing at"),
        ("@nobody@node.test", 404, "there is nobody called nobody on this server"),
        ("x" * 3000, 400, "too long"),
    ],
)
async def test_bad_lookups_say_what_is_wrong_and_change_nothing(
    ui: UI, services: Services, peer: FediversePeer, bob: PeerActor, query: str, status: int, message: str
) -> None:
    await _logged_in(ui, services)
    unreachable = f"127.0.0.1:{free_port()}"  # nothing listens there
    query = query.replace("PEER_URL", peer.base_url).replace("PEER", peer.host).replace("UNREACHABLE", unreachable)
    before = await _counts(services)
    page = await _lookup(ui, query, status=status)
    assert message in html.unescape(page), page[:3000]
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert 'action="/follow"' not in page
    assert await _counts(services) == before


async def test_an_ordinary_web_page_is_not_an_actor(ui: UI, services: Services) -> None:
    async def about(_: web.Request) -> web.Response:
        return web.Response(text="<h1>Hello</h1>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/about", about)

    async with TestServer(app, host="127.0.0.1") as server:
        await _logged_in(ui, services)
        page = await _lookup(ui, f"http://127.0.0.1:{server.port}/about", status=422)
        assert "is an ordinary web page, not a person, group or post" in page
    assert await _counts(services) == (0, 0, 0, 0)


async def test_lookup_and_follow_need_a_logged_in_person(ui: UI, services: Services, bob: PeerActor) -> None:
    response = await ui.get("/lookup?q=x")
    assert response.status == 303 and response.headers["Location"].startswith("/login?next=/lookup")
    response = await ui.post("/follow", {"uri": bob.id})
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    assert await _counts(services) == (0, 0, 0, 0)
    response = await ui.post("/follow", {"uri": bob.id}, with_token=False)
    assert response.status == 403  # no CSRF token: refused before anything else


# --------------------------------------------------------------------------------------------------
# Remote follow (visitors) and authorize_interaction (our people coming from elsewhere)


async def test_visitor_follows_from_their_own_server(
    ui: UI, services: Services, peer: FediversePeer, bob: PeerActor
) -> None:
    await create_person(services, "alice")
    await group(services, "garden", owner="alice")
    # Person pages include _remote_follow.html (group pages do too: web/routes/groups.py, not tested here).
    page = await ui.page("/users/alice")
    assert "Follow from your server" in page and 'value="http://node.test/users/alice"' in page

    response = await ui.post("/remote-follow", {"handle": f"@{bob.handle}", "uri": "http://node.test/groups/garden"},
                             form_page="/users/alice")
    assert response.status == 303
    # (the Location may carry the id percent-encoded or not: ':' and '/' are allowed in a query)
    assert unquote(response.headers["Location"]) == f"{peer.base_url}/authorize_interaction?uri=http://node.test/groups/garden"
    assert await _counts(services) == (0, 0, 1, 0)  # only alice's ownership: nothing was stored or sent


@pytest.mark.parametrize(
    ("handle", "uri", "status", "message"),
    [
        ("", "http://node.test/users/alice", 400, "type your fediverse address"),
        ("not an address", "http://node.test/users/alice", 400, "is not a fediverse address"),
        ("https://elsewhere.example/@me", "http://node.test/users/alice", 400, "is not a fediverse address"),
        ("alice@node.test", "http://node.test/users/alice", 400, "that address is on this server"),
        ("nobody@PEER", "http://node.test/users/alice", 404, "knows nobody called nobody"),
        ("quiet@PEER", "http://node.test/users/alice", 422, "does not offer following from other servers"),
        ("bob@PEER", "http://node.test/users/nobody", 404, "no person or group"),
        ("bob@PEER", "https://elsewhere.example/users/x", 404, "no person or group"),
    ],
)
async def test_remote_follow_errors_are_shown_on_the_form(
    ui: UI, services: Services, peer: FediversePeer, bob: PeerActor, handle: str, uri: str, status: int, message: str
) -> None:
    peer.add_actor("quiet")
    peer.no_subscribe.add("quiet")
    await create_person(services, "alice")
    response = await ui.post("/remote-follow", {"handle": handle.replace("PEER", peer.host), "uri": uri, "name": "Alice"},
                             form_page="/users/alice")
    page = html.unescape(await response.text())
    assert response.status == status, page[:2000]
    assert message in page and 'role="alert"' in page
    assert 'action="/remote-follow"' in page and 'aria-invalid="true"' in page  # the form again, to correct
    assert await _counts(services) == (0, 0, 0, 0)


async def test_authorize_interaction_logs_in_first_then_offers_the_follow(
    ui: UI, services: Services, peer: FediversePeer, lemmings: PeerActor
) -> None:
    await create_person(services, "alice")
    target = f"/authorize_interaction?uri={quote(lemmings.id, safe='')}"
    response = await ui.get(target)
    assert response.status == 303
    login = response.headers["Location"]
    assert login.startswith("/login?next=")
    page = await ui.page(login)
    next_value = html.unescape(re.search(r'name="next" value="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    assert unquote(next_value) == unquote(target)
    response = await ui.post("/login", {"username": "alice", "password": "correct horse battery", "next": next_value})
    assert response.status == 303 and unquote(response.headers["Location"]) == unquote(target)
    page = await ui.page(target)
    assert "Follow from your account here" in page and "Lemmings" in page and ">Join group</button>" in page
    assert 'name="next" value="/authorize_interaction?uri=' in page  # the button brings them back here
    response = await ui.post("/follow", {"uri": lemmings.id, "name": "Lemmings", "next": target}, form_page=target)
    assert response.status == 303 and unquote(response.headers["Location"]) == unquote(target)
    assert await _follow_rows(services) == [("http://node.test/users/alice", lemmings.id, "pending")]
    # acct: URIs (what some servers put in the template) work too
    page = await ui.page(f"/authorize_interaction?uri={quote('acct:' + lemmings.handle, safe='')}")
    assert "waiting for the group to accept" in page
