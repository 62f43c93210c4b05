"""The `madeopen` command as an operator uses it: accounts and groups, errors, and "nothing half-written".

The command runs in-process (`madeopen.cli.main`, the console script's entry point) in a worker thread with
the operator's environment, so the many error cases stay fast; tests/madeopen/test_process.py runs the real
executable. After every refused command the database must hold exactly the rows it held before.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest import Subtests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from actors import local
from actors.passwords import verify_password
from madeopen import cli
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import Account, Group, LocalActor, Membership
from tests.conftest import FreshDatabase
from tests.support.smtp import free_port, smtp_server

PASSWORD = "a long enough password"
TABLES = (LocalActor, Account, Group, Membership)


@dataclass
class Result:
    code: int
    out: str
    err: str


class Madeopen:
    """Runs `madeopen ARGS...` against one database with the test node's settings, capturing its output."""

    def __init__(
        self, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.settings = settings
        self.database_url = settings.database_url
        self._capsys = capsys
        self._monkeypatch = monkeypatch  # undoes every variable set here when the test ends
        self.extra: dict[str, str] = {}  # further settings for the following commands (MADEOPEN_SMTP_URL)

    def _environment(self) -> None:
        for key in [k for k in os.environ if k.startswith("MADEOPEN_")]:
            self._monkeypatch.delenv(key)
        environment = {
            "MADEOPEN_DOMAIN": self.settings.domain,
            "MADEOPEN_SCHEME": self.settings.scheme,
            "MADEOPEN_DATABASE_URL": self.database_url,
            "MADEOPEN_DATA_DIR": str(self.settings.data_dir),
            "MADEOPEN_SECRET_KEY": self.settings.secret_key or "",
            **self.extra,
        }
        for key, value in environment.items():
            self._monkeypatch.setenv(key, value)

    async def __call__(self, *args: str | Path) -> Result:
        self._environment()
        self._capsys.readouterr()  # drop anything printed before this command

        def run() -> int:
            try:
                return cli.main([str(a) for a in args])
            except SystemExit as exc:  # argparse refuses bad arguments this way
                return int(exc.code or 0)

        # main() calls asyncio.run(); a thread keeps it off the test's own event loop.
        code = await asyncio.to_thread(run)
        out, err = self._capsys.readouterr()
        return Result(code, out, err)


@pytest.fixture
def madeopen(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Madeopen:
    monkeypatch.chdir(tmp_path)  # relative paths (a default SQLite file) land in the test's directory
    return Madeopen(settings, capsys, monkeypatch)


@pytest.fixture
def password_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "good": PASSWORD + "\nthe second line is ignored\n",
        "empty": "",
        "blank_first_line": "\n" + PASSWORD + "\n",
        "short": "short\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text(text)
    paths["latin1"] = tmp_path / "latin1.txt"
    paths["latin1"].write_bytes("pässwörd-pässwörd\n".encode("latin-1"))
    paths["missing"] = tmp_path / "missing.txt"
    paths["directory"] = tmp_path
    return paths


async def _counts(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        return {t.__tablename__: await session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


async def test_create_users_and_groups(
    madeopen: Madeopen, services: Services, password_files: dict[str, Path]
) -> None:
    good = password_files["good"]
    result = await madeopen("user", "create", "Alice", "--password-file", good, "--admin", "--email", "alice@example.org")
    assert result.code == 0, result.err
    assert "@alice@node.test" in result.out and "https://node.test/users/alice" in result.out
    assert result.err == ""

    assert (await madeopen("user", "create", "bob", "--password-file", good)).code == 0

    result = await madeopen(
        "group", "create", "Gardeners", "--kind", "project", "--private", "--owner", "ALICE", "--title", "Garden people"
    )
    assert result.code == 0, result.err
    assert "private project @gardeners@node.test" in result.out and "https://node.test/groups/gardeners" in result.out

    result = await madeopen("group", "create", "open_house")
    assert result.code == 0, result.err
    assert "public community @open_house@node.test" in result.out

    async with services.sessions() as session:
        alice = await local.find_person(session, "alice")
        bob = await local.find_person(session, "bob")
        gardeners = await local.find_group(session, "gardeners")
        open_house = await local.find_group(session, "open_house")
        memberships = list(await session.scalars(select(Membership)))
    assert alice.account is not None and bob.account is not None
    assert (alice.account.is_admin, alice.account.email) == (True, "alice@example.org")
    assert (bob.account.is_admin, bob.account.email) == (False, None)
    # Only the first line of the file is the password.
    assert verify_password(alice.account.password_hash, PASSWORD)
    assert gardeners.display_name == "Garden people"
    assert gardeners.group is not None and (gardeners.group.kind, gardeners.group.visibility) == ("project", "private")
    assert open_house.group is not None
    assert (open_house.group.kind, open_house.group.visibility) == ("community", "public")
    assert [(m.group_id, m.local_actor_id, m.role) for m in memberships] == [(gardeners.id, alice.id, "owner")]
    assert await _counts(services) == {"local_actors": 5, "accounts": 2, "groups": 2, "memberships": 1}


def _refused_commands(pw: dict[str, Path]) -> list[tuple[tuple[str | Path, ...], str]]:
    """(arguments, a fragment the error line must contain). alice, alice@example.org and gardeners exist."""
    good = pw["good"]
    return [
        # names: duplicates in any case, across people and groups, reserved and malformed ones
        (("user", "create", "ALICE", "--password-file", good), "already taken"),
        (("user", "create", "gardeners", "--password-file", good), "already taken"),
        (("group", "create", "Alice"), "already taken"),
        (("group", "create", "GARDENERS"), "already taken"),
        (("user", "create", "admin", "--password-file", good), "reserved"),
        (("user", "create", "Admin", "--password-file", good), "reserved"),
        (("group", "create", "nodeinfo"), "reserved"),
        (("user", "create", "bad name", "--password-file", good), "invalid name"),
        (("user", "create", "x" * 31, "--password-file", good), "invalid name"),
        (("group", "create", "garden-club"), "invalid name"),
        # email
        (("user", "create", "carol", "--password-file", good, "--email", "not-an-email"), "invalid email"),
        (("user", "create", "carol", "--password-file", good, "--email", "alice@example.org"), "already used"),
        # password file
        (("user", "create", "carol", "--password-file", pw["missing"]), "cannot read password file"),
        (("user", "create", "carol", "--password-file", pw["directory"]), "cannot read password file"),
        (("user", "create", "carol", "--password-file", pw["empty"]), "is empty"),
        (("user", "create", "carol", "--password-file", pw["blank_first_line"]), "is empty"),
        (("user", "create", "carol", "--password-file", pw["latin1"]), "not UTF-8"),
        (("user", "create", "carol", "--password-file", pw["short"]), "too short"),
        # owner and title
        (("group", "create", "garden2", "--owner", "nobody"), "nobody"),
        (("group", "create", "garden2", "--owner", "gardeners"), "no person named"),  # a group owns nothing
        (("group", "create", "garden2", "--title", "t" * 201), "too long"),
        # deleting an account: unknown names, groups, and no confirmation (stdin is not a terminal here)
        (("user", "delete", "nobody", "--yes"), "no person named 'nobody'"),
        (("user", "delete", "gardeners", "--yes"), "no person named 'gardeners'"),
        (("user", "delete", "alice"), "run again with --yes"),
    ]


def _bad_arguments(pw: dict[str, Path]) -> list[tuple[tuple[str | Path, ...], str]]:
    good = pw["good"]
    return [
        ((), "required"),
        (("frobnicate",), "invalid choice"),
        (("user", "create", "carol"), "--password-file"),
        (("user", "create", "--password-file", good), "required"),
        (("user", "rename", "alice"), "invalid choice"),
        (("user", "delete"), "required"),
        (("user", "delete", "alice", "--yes", "extra"), "unrecognized arguments"),
        (("user", "create", "carol", "--password-file", good, "extra"), "unrecognized arguments"),
        (("group",), "required"),
        (("group", "create", "garden2", "--kind", "club"), "invalid choice"),
        (("group", "create", "garden2", "--private=yes"), "ignored explicit argument"),
    ]


async def test_refused_commands_write_nothing(
    madeopen: Madeopen, services: Services, password_files: dict[str, Path], subtests: Subtests
) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(
            session, local.NewPerson(username="alice", password=PASSWORD, email="alice@example.org")
        )
        await local.create_group(session, local.NewGroup(username="gardeners"))
    before = await _counts(services)

    for args, fragment in _refused_commands(password_files):
        with subtests.test(args=" ".join(map(str, args))):
            result = await madeopen(*args)
            assert result.code == cli.EXIT_FAILURE
            assert result.out == ""
            # One clear line on stderr, no traceback.
            assert result.err.count("\n") == 1 and result.err.startswith("madeopen: error: "), result.err
            assert fragment in result.err
            assert await _counts(services) == before

    for args, fragment in _bad_arguments(password_files):
        with subtests.test(args=" ".join(map(str, args))):
            result = await madeopen(*args)
            assert result.code == cli.EXIT_USAGE
            assert result.out == ""
            assert "usage: madeopen" in result.err and fragment in result.err, result.err
            assert await _counts(services) == before


async def test_worker_refuses_an_unmigrated_database(madeopen: Madeopen, fresh_database: FreshDatabase) -> None:
    madeopen.database_url = await fresh_database(migrated=False)
    result = await madeopen("worker")
    assert result.code != 0
    assert result.out == ""
    assert "run 'madeopen migrate'" in result.err and result.err.count("\n") == 1


async def test_commands_need_a_migrated_database(
    madeopen: Madeopen, fresh_database: FreshDatabase, password_files: dict[str, Path], services: Services
) -> None:
    madeopen.database_url = await fresh_database(migrated=False)

    refused = await madeopen("user", "create", "alice", "--password-file", password_files["good"])
    assert refused.code != 0
    assert "run 'madeopen migrate'" in refused.err and refused.err.count("\n") == 1

    migrated = await madeopen("migrate")
    assert migrated.code == 0, migrated.err
    assert "was empty" in migrated.out
    again = await madeopen("migrate")
    assert again.code == 0 and "was" not in again.out  # nothing to do the second time

    # The refused command left nothing behind: alice is still free, and now she can be created.
    created = await madeopen("user", "create", "alice", "--password-file", password_files["good"])
    assert created.code == 0, created.err


async def test_unusable_database_is_one_line_naming_the_setting(
    madeopen: Madeopen, backend: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        madeopen.database_url = f"sqlite+aiosqlite:///{tmp_path}/no/such/directory/madeopen.db"
        reason = "does not exist"
    else:
        madeopen.database_url = make_url(madeopen.database_url).set(database="mo_test_missing").render_as_string(
            hide_password=False
        )
        reason = "mo_test_missing"
    for command in (("migrate",), ("group", "create", "gardeners")):
        result = await madeopen(*command)
        assert result.code != 0
        assert result.err.count("\n") == 1 and "MADEOPEN_DATABASE_URL" in result.err, result.err
        assert reason in result.err


async def test_user_delete_leaves_a_tombstone_and_refuses_the_last_admin(
    madeopen: Madeopen, services: Services, password_files: dict[str, Path]
) -> None:
    for name, admin in (("rosa", True), ("alice", False)):
        args = ("user", "create", name, "--password-file", password_files["good"]) + (("--admin",) if admin else ())
        assert (await madeopen(*args)).code == 0

    refused = await madeopen("user", "delete", "rosa", "--yes")
    assert refused.code == cli.EXIT_FAILURE and "only admin" in refused.err and refused.out == ""

    deleted = await madeopen("user", "delete", "Alice", "--yes")
    assert deleted.code == 0, deleted.err
    assert deleted.out.startswith(f"deleted @alice@{services.urls.domain}")
    again = await madeopen("user", "delete", "alice", "--yes")
    assert again.code == cli.EXIT_FAILURE and "has been deleted" in again.err
    taken = await madeopen("user", "create", "alice", "--password-file", password_files["good"])
    assert taken.code == cli.EXIT_FAILURE and "already taken" in taken.err
    async with services.sessions() as session:
        people = await session.scalars(select(LocalActor).where(LocalActor.actor_type == "person"))
        rows = {a.username: a.account for a in people}
    assert rows["alice"] is not None and rows["alice"].deleted_at is not None
    assert rows["rosa"] is not None and rows["rosa"].deleted_at is None and rows["rosa"].is_admin


async def test_mail_test_sends_through_smtp_and_lists_it(
    madeopen: Madeopen, services: Services
) -> None:
    with smtp_server() as (mailbox, port):
        madeopen.extra["MADEOPEN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        result = await madeopen("mail", "test", "admin@example.org")
    assert result.code == 0, result.err
    assert "sent mail" in result.out
    [message] = mailbox.to("admin@example.org")
    assert message["Subject"].startswith("Test mail from")
    listed = await madeopen("mail", "list")
    assert "sent" in listed.out and "admin@example.org" in listed.out


async def test_mail_test_reports_an_unreachable_server_and_keeps_the_mail(
    madeopen: Madeopen, services: Services
) -> None:
    madeopen.extra["MADEOPEN_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    result = await madeopen("mail", "test", "admin@example.org")
    assert result.code == 1 and "queued for retries" in result.err
    assert "pending" in (await madeopen("mail", "list")).out
    bad = await madeopen("mail", "test", "not an address")
    assert bad.code == 1 and "not a mail address" in bad.err


async def test_mail_test_without_smtp_writes_an_eml_file(madeopen: Madeopen, services: Services) -> None:
    result = await madeopen("mail", "test", "admin@example.org")
    assert result.code == 0, result.err
    path = Path(result.out.strip().rsplit(" via ", 1)[1])
    assert path.suffix == ".eml" and "To: admin@example.org" in path.read_text()


async def test_mail_list_failed_shows_only_refused_mail_with_the_reason(madeopen: Madeopen, services: Services) -> None:
    """A mail server that refuses a recipient for good: the mail is failed at once and listed with why."""
    with smtp_server(refuse={"gone@example.org": "550 5.1.1 no such mailbox"}) as (mailbox, port):
        madeopen.extra["MADEOPEN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        refused = await madeopen("mail", "test", "gone@example.org")
        assert refused.code == 1 and "given up" in refused.err
        assert (await madeopen("mail", "test", "admin@example.org")).code == 0
    failed = (await madeopen("mail", "list", "--failed")).out
    assert "gone@example.org" in failed and "failed" in failed and "550 5.1.1 no such mailbox" in failed
    assert "admin@example.org" not in failed
    assert "admin@example.org" in (await madeopen("mail", "list")).out
