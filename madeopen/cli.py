"""The ``madeopen`` command (DESIGN.md §3 CLI). Errors: one line on stderr, non-zero exit, nothing written.

The services that only an admin command uses (account deletion, membership moderation, the delivery
report, domain blocks, mail) are imported by that command's function: ``madeopen run`` keeps them out of
its resident memory (issue #13, bench/rss.py; tests/madeopen/test_startup_modules.py). aiohttp, with the
rest of the app, is imported once the command is known: a server command first sets up its process
(``_server_process``), and aiohttp makes SSL contexts when it is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from actors import local
from actors.errors import DomainError
from madeopen import __version__
from madeopen.memory import limit_malloc_arenas
from madeopen.settings import SettingsError, load_settings
from madeopen.trust_store import prefer_hashed_directory
from storage.migrate import SchemaOutdated

if TYPE_CHECKING:
    from madeopen.app import Services

EXIT_USAGE = 2
EXIT_FAILURE = 1
CACHE_DIR = "cache"  # under MADEOPEN_DATA_DIR: what a server process keeps between starts (compiled templates)


class CliError(Exception):
    """A failure to report as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr too (the usage folded into it), exit 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} ({usage})\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="madeopen", description="Made Open federated group server")
    parser.add_argument("--version", action="version", version=f"madeopen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="migrate if needed, then serve web and the delivery worker in one process")
    sub.add_parser("web", help="serve the web role only (schema must be current)")
    sub.add_parser("worker", help="run the delivery worker only")
    sub.add_parser("migrate", help="apply database migrations")

    user = sub.add_parser("user", help="manage local accounts").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a local account")
    create.add_argument("name")
    create.add_argument("--password-file", required=True, type=Path, help="file whose first line is the password")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--email")
    remove = user.add_parser("delete", help="delete a local account for good (a tombstone; peers are told)")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    group = sub.add_parser("group", help="manage groups").add_subparsers(dest="action", required=True)
    gcreate = group.add_parser("create", help="create a group")
    gcreate.add_argument("name")
    gcreate.add_argument("--kind", choices=local.GROUP_KINDS, default="community")
    gcreate.add_argument("--private", action="store_true")
    gcreate.add_argument("--owner", help="local username of the owner")
    gcreate.add_argument("--title", default="")
    for action, text in (
        ("approve", "accept a pending request to join a private group"),
        ("reject", "refuse a pending request to join"),
        ("ban", "ban an actor from the group (announced to members as a Block)"),
    ):
        moderate = group.add_parser(action, help=text)
        moderate.add_argument("group", help="local group name")
        moderate.add_argument("actor", help="actor id URL or name@host handle")
        if action == "ban":
            moderate.add_argument("--remove-data", action="store_true", help="also remove their posts in the group")
            moderate.add_argument("--reason", default="")

    sub.add_parser("deliveries", help="delivery queue state per remote host")

    mail = sub.add_parser("mail", help="outgoing mail (README: Mail)").add_subparsers(dest="action", required=True)
    mail_test = mail.add_parser("test", help="queue one test mail to ADDRESS and send it now")
    mail_test.add_argument("address")
    mail_list = mail.add_parser("list", help="the newest queued mail and its state (failed ones with the error)")
    mail_list.add_argument("--failed", action="store_true", help="only mail given up after its retries")

    domain = sub.add_parser("domain", help="block, silence or allow other servers (README: Moderation)")
    domain_actions = domain.add_subparsers(dest="action", required=True)
    for action, text in (
        ("block", "refuse the host's traffic, send it nothing, end follows and memberships with its actors"),
        ("silence", "keep the host's posts off the local timeline and its people out of the people finder"),
        ("unblock", "lift a block or silence"),
        ("allow", "put the host on the allowlist (MADEOPEN_FEDERATION_MODE=allowlist)"),
        ("disallow", "take the host off the allowlist"),
    ):
        command = domain_actions.add_parser(action, help=text)
        command.add_argument("host", help="a bare domain (covers its subdomains), or host:port")
        if action in ("block", "silence", "allow"):
            command.add_argument("--reason", default="")
    domain_actions.add_parser("list", help="blocked, silenced and allowed hosts")

    account = sub.add_parser("account", help="suspend accounts of other servers (README: Moderation)")
    account_actions = account.add_subparsers(dest="action", required=True)
    suspend = account_actions.add_parser("suspend", help="refuse their traffic, hide their posts, end their "
                                         "follows and memberships (nothing is deleted)")
    suspend.add_argument("actor", help="actor id URL or name@host handle of an account of another server")
    suspend.add_argument("--reason", required=True, help="why (written in the moderation log)")
    unsuspend = account_actions.add_parser("unsuspend", help="lift a suspension: their posts are shown again")
    unsuspend.add_argument("actor", help="actor id URL or name@host handle")
    account_actions.add_parser("list", help="suspended accounts of other servers")
    return parser


def _check_sqlite_directory(database_url: str) -> None:
    """SQLite creates the file but never its directory; say so before aiosqlite fails less clearly."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    directory = Path(url.database).parent
    if not directory.is_dir():
        raise CliError(f"MADEOPEN_DATABASE_URL: the directory {directory} of the SQLite database does not exist")


def _read_password(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read password file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CliError(f"password file {path} is not UTF-8 text") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise CliError(f"password file {path} is empty")
    return lines[0]


async def _with_services(services: Services, action: Callable[[], Awaitable[None]]) -> None:
    from madeopen.app import prepare

    try:
        await prepare(services, auto_migrate=False)
        await action()
    finally:
        await services.close()


async def _user_create(services: Services, args: argparse.Namespace) -> None:
    password = _read_password(args.password_file)
    new = local.NewPerson(username=args.name, password=password, email=args.email, is_admin=args.admin)

    async def action() -> None:
        async with services.sessions.begin() as session:
            actor = await local.create_person(session, new)
        print(f"created user @{actor.username}@{services.urls.domain}: {services.urls.person(actor.username)}")

    await _with_services(services, action)


def _confirm_deletion(name: str, yes: bool) -> None:
    """Deleting is for good: ask at a terminal, and refuse without ``--yes`` anywhere else (a script)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"deleting {name} cannot be undone: run again with --yes to confirm")
    answer = input(f"Delete the account {name} for good? Type its name to confirm: ")
    if answer.strip().lower() != name.lower():
        raise CliError("not confirmed; nothing was deleted")


async def _user_delete(services: Services, args: argparse.Namespace) -> None:
    from actors import account_deletion, media
    from inbox_outbox.services import account_deletion as account_services
    from inbox_outbox.services.deleted_content import DeletedContent

    policy = DeletedContent(services.settings.deleted_account_content)

    async def action() -> None:
        async with services.sessions.begin() as session:
            await account_deletion.check_admin_deletion(session, None, args.name)  # unknown names: before asking
        _confirm_deletion(args.name, args.yes)
        async with services.sessions.begin() as session:
            deletion = await account_services.delete_account(session, services.urls, None, args.name, policy)
        media.discard(services.settings.data_dir / "media", deletion.discard)
        print(f"deleted @{deletion.username}@{services.urls.domain} ({deletion.posts_removed} posts removed); "
              "other servers are told by the worker")

    await _with_services(services, action)


async def _group_create(services: Services, args: argparse.Namespace) -> None:
    new = local.NewGroup(
        username=args.name, kind=args.kind, private=args.private, title=args.title, owner=args.owner
    )

    async def action() -> None:
        async with services.sessions.begin() as session:
            actor = await local.create_group(session, new)
        visibility = "private" if args.private else "public"
        print(f"created {visibility} {args.kind} @{actor.username}@{services.urls.domain}: "
              f"{services.urls.group(actor.username)}")

    await _with_services(services, action)


async def _group_moderate(services: Services, args: argparse.Namespace) -> None:
    from inbox_outbox.services import membership

    async def action() -> None:
        assert services.fed is not None
        if args.action == "approve":
            await membership.approve_join(services.fed, args.group, args.actor)
            print(f"approved {args.actor} in {args.group}")
        elif args.action == "reject":
            await membership.reject_join(services.fed, args.group, args.actor)
            print(f"rejected {args.actor}'s request to join {args.group}")
        else:
            await membership.ban(
                services.fed, args.group, args.actor, remove_data=args.remove_data, reason=args.reason
            )
            print(f"banned {args.actor} from {args.group}")

    await _with_services(services, action)


async def _deliveries(services: Services) -> None:
    from inbox_outbox import delivery_report

    async def action() -> None:
        print(delivery_report.render_table(await delivery_report.queue_state(services.sessions),
                                           unexpanded=await delivery_report.unexpanded(services.sessions)))

    await _with_services(services, action)


async def _mail(services: Services, args: argparse.Namespace) -> None:
    from actors import mail
    from madeopen.app import mail_transport

    async def action() -> None:
        if args.action == "list":
            for item in await mail.list_mail(services.sessions, failed_only=args.failed):
                line = f"{item.id:6} {item.state:8} {item.attempts:3} {item.created_at:%Y-%m-%d %H:%M} {item.recipient}  {item.subject}"
                print(line + (f"\n       error: {item.error}" if item.error and item.state != "sent" else ""))
            return
        settings = services.settings
        async with services.sessions.begin() as session:
            mail_id = await mail.enqueue(session, mail.Mail(
                to=args.address, subject=f"Test mail from {settings.node_name}",
                text=f"This is a test mail from {settings.base_url}. Mail works.\n"), settings.sender)
        # Sent right here so the admin sees the outcome; a failure stays queued for the worker's retries.
        await mail.MailWorker(services.sessions, mail_transport(settings)).run_once()
        sent = {item.id: item for item in await mail.list_mail(services.sessions)}.get(mail_id)
        if sent is None or sent.state != "sent":
            then = "given up (the server refuses it for good)" if sent and sent.state == "failed" else "queued for retries"
            raise CliError(f"mail {mail_id} to {args.address} not sent ({sent.error if sent else 'unknown'}); {then}")
        where = settings.smtp_url and urlsplit(settings.smtp_url).hostname or settings.data_dir / "mail" / f"{mail_id:08d}.eml"
        print(f"sent mail {mail_id} to {args.address} via {where}")

    await _with_services(services, action)


async def _domain(services: Services, args: argparse.Namespace) -> None:
    from actors import blocks

    async def action() -> None:
        async with services.sessions.begin() as session:
            if args.action in ("block", "silence"):
                host, severed = await blocks.set_domain(session, args.host, args.action, reason=args.reason)
                print(f"{blocks.PAST[args.action]} {host}" + (f"; ended {severed} follows and memberships" if severed else ""))
            elif args.action == "unblock":
                print(f"unblocked {await blocks.remove_domain(session, args.host)}")
            elif args.action in ("allow", "disallow"):
                host = await blocks.set_allowed(session, args.host, args.action == "allow", reason=getattr(args, "reason", ""))
                print(f"{'allowed' if args.action == 'allow' else 'took off the allowlist'} {host}")
            else:
                entries = await blocks.list_domains(session)
                mode = services.settings.federation_mode
                print(f"federation mode: {mode}")
                for entry in entries:
                    print(f"{entry.severity:8} {entry.domain:40} {entry.created_at}  {entry.reason}".rstrip())

    await _with_services(services, action)


async def _account(services: Services, args: argparse.Namespace) -> None:
    from inbox_outbox.services import suspensions

    async def action() -> None:
        assert services.fed is not None
        if args.action == "suspend":
            handle, done = await suspensions.suspend(services.fed, args.actor, reason=args.reason, actor_uri=None)
            print(f"suspended {handle}: {done.posts} posts hidden; ended {done.severed} follows and memberships")
        elif args.action == "unsuspend":
            name, done = await suspensions.unsuspend(services.fed, args.actor, actor_uri=None)
            print(f"lifted the suspension of {name}: {done.posts} posts shown again")
        else:
            for listed in await suspensions.listed(services.fed):
                print(f"{listed.handle:40} {listed.since:%Y-%m-%d}  {listed.uri}  {listed.reason}".rstrip())

    await _with_services(services, action)


async def _migrate(services: Services) -> None:
    from madeopen.app import migrate_database

    try:
        before, after = await migrate_database(services)
    finally:
        await services.close()
    print(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))


async def _work(services: Services) -> None:
    """The worker role alone: inbound and delivery workers until SIGTERM/SIGINT, then a clean stop
    (claims not finished by then return to the queue when their lease expires)."""
    from madeopen.app import build_workers, prepare, settle_heap

    try:
        await prepare(services, auto_migrate=False)
        workers = build_workers(services)
        settle_heap()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, workers.stop_event.set)
        workers.start()
        print(f"Made Open {__version__} worker for {services.settings.base_url} started", flush=True)
        await workers.stop_event.wait()
        await workers.stop()
    finally:
        await services.close()


def _serve(services: Services, *, auto_migrate: bool) -> None:
    from aiohttp import web

    from madeopen.app import build_web_app, prepare, settle_heap
    from web.responses import keep_compiled_templates

    settings = services.settings
    keep_compiled_templates(settings.data_dir / CACHE_DIR)

    async def app_factory() -> web.Application:
        await prepare(services, auto_migrate=auto_migrate)
        # Only after the schema check: a refused start must not claim to be serving.
        print(f"Made Open {__version__} serving {settings.base_url} on http://{settings.host}:{settings.port}", flush=True)
        app = build_web_app(services, with_workers=auto_migrate)  # run: web + workers
        settle_heap()
        return app

    web.run_app(app_factory(), host=settings.host, port=settings.port, print=None, access_log=None)


def _server_process() -> None:
    """What a long-running process sets up before the app is imported (issue #13: idle RSS)."""
    limit_malloc_arenas()  # before the database's threads start (madeopen/memory.py)
    prefer_hashed_directory()  # before aiohttp's import makes its SSL contexts (madeopen/trust_store.py)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        _check_sqlite_directory(settings.database_url)
        if args.command in ("run", "web", "worker"):
            _server_process()
        from madeopen.app import build_services

        services = build_services(settings)
        if args.command in ("run", "web"):
            _serve(services, auto_migrate=args.command == "run")
        elif args.command == "worker":
            asyncio.run(_work(services))
        elif args.command == "migrate":
            asyncio.run(_migrate(services))
        elif args.command == "user" and args.action == "delete":
            asyncio.run(_user_delete(services, args))
        elif args.command == "user":
            asyncio.run(_user_create(services, args))
        elif args.command == "group" and args.action == "create":
            asyncio.run(_group_create(services, args))
        elif args.command == "group":
            asyncio.run(_group_moderate(services, args))
        elif args.command == "deliveries":
            asyncio.run(_deliveries(services))
        elif args.command == "mail":
            asyncio.run(_mail(services, args))
        elif args.command == "domain":
            asyncio.run(_domain(services, args))
        elif args.command == "account":
            asyncio.run(_account(services, args))
    except (SettingsError, CliError, DomainError, SchemaOutdated) as exc:
        print(f"madeopen: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except DBAPIError as exc:
        # A missing database, unknown role or unopenable SQLite path: one line, not a traceback.
        reason = str(exc.orig).strip() or type(exc.orig).__name__
        print(f"madeopen: error: MADEOPEN_DATABASE_URL: the database failed: {reason.splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"madeopen: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())
