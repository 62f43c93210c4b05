"""`madeopen domain block|silence|unblock|allow|disallow HOST` and `madeopen domain list`, as an operator
uses them: what a block does to existing follows, and bad input refused in one line, changing nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from actors import local
from madeopen import cli
from madeopen.app import Services
from storage.models import DomainAllow, DomainBlock, Follow, ModerationEntry
from tests.madeopen.test_cli import Madeopen, madeopen  # noqa: F401  (fixtures)

PASSWORD = "a long enough password"


async def _rows(services: Services) -> dict[str, object]:
    async with services.sessions() as session:
        blocks = {row.domain: (row.severity, row.reason) for row in await session.scalars(select(DomainBlock))}
        allows = set(await session.scalars(select(DomainAllow.domain)))
        follows = await session.scalar(select(func.count()).select_from(Follow)) or 0
        log = [(row.action, row.target) for row in await session.scalars(select(ModerationEntry).order_by(ModerationEntry.id))]
    return {"blocks": blocks, "allows": allows, "follows": follows, "log": log}


async def test_block_silence_allow_and_list(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson("alice", PASSWORD))
        session.add(Follow(follower_uri="https://node.test/users/alice", followee_uri="https://social.spam.example/u/x",
                           state="accepted"))
        session.add(Follow(follower_uri="https://spam.example/u/y", followee_uri="https://node.test/users/alice",
                           state="accepted"))
        session.add(Follow(follower_uri="https://node.test/users/alice", followee_uri="https://friendly.example/u/z",
                           state="accepted"))

    silenced = await madeopen("domain", "silence", "loud.example", "--reason", "too noisy")
    assert silenced.code == 0 and "silenced loud.example" in silenced.out, silenced.err
    blocked = await madeopen("domain", "block", "Spam.Example.", "--reason", "spam")
    assert blocked.code == 0 and "blocked spam.example; ended 2 follows" in blocked.out, blocked.err
    allowed = await madeopen("domain", "allow", "partner.example:8443")
    assert allowed.code == 0, allowed.err

    rows = await _rows(services)
    assert rows["blocks"] == {"loud.example": ("silence", "too noisy"), "spam.example": ("block", "spam")}
    assert rows["allows"] == {"partner.example:8443"} and rows["follows"] == 1  # friendly.example's stays
    assert rows["log"] == [("domain_silence", "loud.example"), ("domain_block", "spam.example"),
                           ("domain_allow", "partner.example:8443")]

    listed = await madeopen("domain", "list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    assert lines[0] == "federation mode: open"
    assert lines[1].split()[:2] == ["silence", "loud.example"] and lines[1].endswith("too noisy")
    assert lines[2].split()[:2] == ["block", "spam.example"]
    assert lines[3].split()[:2] == ["allow", "partner.example:8443"]

    assert (await madeopen("domain", "unblock", "spam.example")).code == 0
    assert (await madeopen("domain", "disallow", "partner.example:8443")).code == 0
    rows = await _rows(services)
    assert rows["blocks"] == {"loud.example": ("silence", "too noisy")} and rows["allows"] == set()


async def test_bad_input_is_one_line_and_changes_nothing(madeopen: Madeopen, services: Services) -> None:  # noqa: F811
    assert (await madeopen("domain", "block", "spam.example")).code == 0
    before = await _rows(services)
    for args, fragment in (
        (("domain", "block", "https://evil.example/users/x"), "is not a host name"),
        (("domain", "silence", "evil example"), "is not a host name"),
        (("domain", "block", "evil.example:99999"), "is not a host name"),
        (("domain", "unblock", "never.example"), "neither blocked nor silenced"),
        (("domain", "disallow", "never.example"), "not on the allowlist"),
    ):
        result = await madeopen(*args)
        assert result.code == cli.EXIT_FAILURE and result.out == ""
        assert result.err.count("\n") == 1 and result.err.startswith("madeopen: error: "), result.err
        assert fragment in result.err, result.err
        assert await _rows(services) == before

    for args in (("domain", "banish", "evil.example"), ("domain", "block"), ("domain",)):
        result = await madeopen(*args)
        assert result.code == cli.EXIT_USAGE and "usage: madeopen domain" in result.err, result.err
        assert result.err.count("\n") == 1 and result.err.startswith("madeopen domain"), result.err
        assert await _rows(services) == before
