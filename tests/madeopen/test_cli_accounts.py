"""`madeopen account suspend|unsuspend ACTOR` and `madeopen account list`, as an operator uses them: a
suspension of an account of another server hides its posts and ends its follows; bad input is refused in
one line and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from actors import local
from madeopen.app import Services
from storage.models import ActorSuspension, Follow, ModerationEntry, Object, RemoteActor
from tests.madeopen.test_cli import Madeopen, madeopen  # noqa: F401  (fixtures)

PASSWORD = "a long enough password"
ZED = "https://elsewhere.example/users/zed"


async def _zed_with_a_post_and_a_follow(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson("alice", PASSWORD))
        session.add(RemoteActor(uri=ZED, actor_type="Person", username="zed", domain="elsewhere.example",
                                inbox=f"{ZED}/inbox", document={"id": ZED}))
        session.add(Object(uri=f"{ZED}/posts/1", type="Note", author_uri=ZED, content="<p>spam</p>", document={}))
        session.add(Follow(follower_uri=ZED, followee_uri="https://node.test/users/alice", state="accepted"))


async def _state(services: Services) -> tuple[list[str], bool, int, list[str]]:
    async with services.sessions() as session:
        suspended = list(await session.scalars(select(ActorSuspension.actor_uri)))
        hidden = bool(await session.scalar(select(Object.deleted).where(Object.author_uri == ZED)))
        follows = await session.scalar(select(func.count()).select_from(Follow)) or 0
        log = list(await session.scalars(select(ModerationEntry.action).order_by(ModerationEntry.id)))
    return suspended, hidden, follows, log


async def test_suspend_list_and_unsuspend(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    await _zed_with_a_post_and_a_follow(services)
    suspended = await madeopen("account", "suspend", "zed@elsewhere.example", "--reason", "spam")
    assert suspended.code == 0, suspended.err
    assert "suspended zed@elsewhere.example: 1 posts hidden; ended 1 follows" in suspended.out
    assert await _state(services) == ([ZED], True, 0, ["suspend"])
    listed = await madeopen("account", "list")
    assert listed.code == 0 and listed.out.split()[:2] == ["zed@elsewhere.example", listed.out.split()[1]]
    assert ZED in listed.out and listed.out.rstrip().endswith("spam")

    lifted = await madeopen("account", "unsuspend", ZED)
    assert lifted.code == 0 and "1 posts shown again" in lifted.out, lifted.err
    assert await _state(services) == ([], False, 0, ["suspend", "unsuspend"])
    assert (await madeopen("account", "list")).out == ""


async def test_bad_input_is_one_line_and_changes_nothing(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    await _zed_with_a_post_and_a_follow(services)
    before = await _state(services)
    for args, fragment in (
        (("account", "suspend", "alice", "--reason", "spam"), "an account of this server"),
        (("account", "suspend", "https://node.test/users/alice", "--reason", "spam"), "an account of this server"),
        (("account", "suspend", "nobody", "--reason", "spam"), "no actor named"),
        (("account", "suspend", ZED, "--reason", "  "), "say why"),
        (("account", "unsuspend", ZED), "is not suspended"),
    ):
        result = await madeopen(*args)
        assert result.code == 1 and fragment in result.err and len(result.err.strip().splitlines()) == 1, (args, result)
    usage = await madeopen("account", "suspend", ZED)  # no --reason
    assert usage.code == 2 and "--reason" in usage.err and len(usage.err.strip().splitlines()) == 1
    assert await _state(services) == before
