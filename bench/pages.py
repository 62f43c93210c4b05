"""Group and thread pages under concurrent load, as ratios to a trivial response of the same server.

    .venv/bin/python bench/pages.py [--concurrency 16] [--seconds 5] [--replies 50] [--threads 40]
                                    [--database-url postgresql+asyncpg://...] [--federation]
                                    [--profile 'actor document']   # pyinstrument, a test extra

Our web app (``build_web_app``, no workers) serves on a loopback port from SQLite in a temporary
directory (or an EMPTY PostgreSQL database named by ``--database-url``). It holds one public group with
``--threads`` threads and one thread with ``--replies`` replies, nested up to four deep, a fifth of them
from remote members (their HTML stored as the inbox stores it: sanitised, with the policy version) and with votes. A separate process
runs ``--concurrency`` aiohttp clients, each sending GETs back to back for ``--seconds`` (after a one
second warm-up), and reports requests/s and latency percentiles. Four targets, one after another:

- **bound**: ``GET /static/site.css``, a small static file through the same middlewares (session, page
  values, CSRF; federation requests skip those three: web/browser_only.py): what the server does for any
  browser request. The pages' requests/s are reported as a ratio
  to its requests/s ("x bound"), their p99 latency as a multiple of its p99.
- **group page**: ``GET /groups/<name>`` (about, team, 30 threads with reply counts), anonymous.
- **thread page**: ``GET /objects/<uuid>`` of the thread with the replies, anonymous.
- **thread page, member**: the same logged in as a member of the group (a session to decrypt and
  check, the viewer's votes, a like/dislike form and a reply form per post).

With ``--federation`` the targets are instead the GETs peers make (unsigned, authorized fetch off):
a person's and the group's actor document and a post (``Accept: application/activity+json``), WebFinger,
NodeInfo 2.1 and host-meta; the bound is the same static file. A second line, **floor**, is a bare aiohttp
application in the same process answering the person's actor document bytes with no middleware and no
lookup: the least any aiohttp server does per GET on this machine, which the cached documents approach.

Server CPU per request is the server process's CPU time (all its threads, aiosqlite's included; not
PostgreSQL's) during the run, warm-up included, divided by the requests served in it, warm-up included.
The member logs in before that (one Argon2id password check is not a page's cost).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import random
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from yarl import URL  # noqa: E402
from sqlalchemy import select  # noqa: E402

from actors import local  # noqa: E402
from content.store import note_reply  # noqa: E402
from content.votes import add_reaction  # noqa: E402
from federation.html import SANITISE_POLICY_VERSION  # noqa: E402
from inbox_outbox.services import posts  # noqa: E402
from madeopen.app import Services, build_services, build_web_app, prepare  # noqa: E402
from madeopen.settings import Settings  # noqa: E402
from storage.models import LocalActor, Membership, Object, RemoteActor, utcnow  # noqa: E402

PASSWORD = "bench password 1234"
AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
HTML = "text/html,application/xhtml+xml,*/*;q=0.8"
REMOTE_HTML = (
    '<p>A remote <b>reply</b> with a <a href="https://remote.example/tags/tomato" class="mention hashtag">#tomato</a> '
    'and <i>some</i> text<script>alert(1)</script>, long enough to look like a real comment on a forum thread.</p>'
)


# --------------------------------------------------------------------------------------------------
# The load (a separate process, so the clients do not share the server's core)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(fraction * (len(values) - 1))))
    return values[index]


async def _log_in(url: str, login: tuple[str, str]) -> dict[str, str]:
    """The session cookies of ``login`` on the server of ``url``. Done before the CPU of a target is counted:
    one password check (Argon2id, ~0.25 s of CPU) is not part of serving pages."""
    base = url.split("/", 3)
    origin = f"{base[0]}//{base[2]}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get(f"{origin}/login", headers={"Accept": HTML}) as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
        assert token, "no CSRF token on /login"
        form = {"username": login[0], "password": login[1], "csrf_token": token.group(1)}
        async with client.post(f"{origin}/login", data=form, allow_redirects=False) as response:
            assert response.status == 303, f"log in failed: {response.status}"
        return {cookie.key: cookie.value for cookie in client.cookie_jar}


def log_in(url: str, login: tuple[str, str]) -> dict[str, str]:
    return asyncio.run(_log_in(url, login))


async def _load(url: str, concurrency: int, seconds: float, cookies: dict[str, str] | None,
                accept: str = HTML) -> dict[str, object]:
    jar = aiohttp.CookieJar(unsafe=True)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as client:
        if cookies:
            base = url.split("/", 3)
            jar.update_cookies(cookies, URL(f"{base[0]}//{base[2]}/"))

        latencies: list[float] = []
        errors = 0
        served = 0  # every answer, the warm-up's too: the server's CPU is counted over both
        stop_warmup = time.monotonic() + 1.0
        stop = stop_warmup + seconds

        async def worker() -> None:
            nonlocal errors, served
            while True:
                started = time.monotonic()
                if started >= stop:
                    return
                async with client.get(url, headers={"Accept": accept}) as response:
                    await response.read()
                    ok = response.status == 200
                finished = time.monotonic()
                served += 1
                if started >= stop_warmup:
                    if ok:
                        latencies.append(finished - started)
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return {"count": len(latencies), "served": served, "errors": errors, "seconds": seconds,
            "p50": _percentile(latencies, 0.5), "p99": _percentile(latencies, 0.99)}


def load(url: str, concurrency: int, seconds: float, cookies: dict[str, str] | None,
         accept: str = HTML) -> dict[str, object]:
    return asyncio.run(_load(url, concurrency, seconds, cookies, accept))


# --------------------------------------------------------------------------------------------------
# The data


async def seed(services: Services, threads: int, replies: int) -> tuple[str, str]:
    """One public group with ``threads`` threads and one with ``replies`` replies. Returns the paths of the
    group page and of that thread."""
    urls = services.urls
    rng = random.Random(7)
    async with services.sessions.begin() as session:
        ada = await local.create_person(session, local.NewPerson(username="ada", password=PASSWORD))
        people = [ada] + [
            await local.create_person(session, local.NewPerson(username=f"member{i}", password=PASSWORD))
            for i in range(9)
        ]
        group = await local.create_group(session, local.NewGroup(
            username="garden", title="Community Garden", owner="ada",
            summary="<p>Where we grow <strong>tomatoes</strong> and talk about it.</p>"))
        group.group.rules = "1. Be kind\n2. Stay on topic\n3. Share seeds"  # type: ignore[union-attr]
        for person in people[1:]:
            session.add(Membership(group_id=group.id, local_actor_id=person.id, role="member", state="accepted"))
        remote_authors = []
        for i in range(5):
            remote = RemoteActor(uri=f"https://remote.example/u/friend{i}", actor_type="Person", username=f"friend{i}",
                                 domain="remote.example", display_name=f"Friend {i}",
                                 inbox=f"https://remote.example/u/friend{i}/inbox", document={})
            session.add(remote)
            remote_authors.append(remote)
        await session.flush()
        for remote in remote_authors:
            session.add(Membership(group_id=group.id, remote_actor_id=remote.id, role="member", state="accepted"))
        await session.flush()

        for i in range(threads):
            author = people[i % len(people)]
            obj = await posts.create_post(session, urls, author, group, f"Thread number {i}: seeds and soil",
                                          f"Body of thread {i} with **some** Markdown.\n\n- one\n- two")
            for j in range(i % 4):
                await posts.reply(session, urls, people[(i + j + 1) % len(people)], obj.uri, f"Reply {j} to {i}")
        big = await posts.create_post(session, urls, ada, group, "Tomato blight: what works?",
                                      "My tomato leaves turn **brown**. What do you do?\n\n1. copper\n2. patience")
        thread_nodes = [big]
        for k in range(replies):
            parent = thread_nodes[0] if k < 10 else rng.choice(thread_nodes[-20:])
            if k % 5 == 4:  # a remote member's reply, stored as the inbox stores one
                remote = remote_authors[k % len(remote_authors)]
                now = utcnow()
                obj = Object(uri=f"https://remote.example/comment/{k}", local=False, type="Note",
                             author_uri=remote.uri, group_id=group.id, audience_uri=urls.group("garden"),
                             in_reply_to_uri=parent.uri, context_uri=big.uri, content=REMOTE_HTML, sanitised_version=SANITISE_POLICY_VERSION,
                             public=True,
                             document={"type": "Note"}, published=now, last_activity_at=now)
                session.add(obj)
                await session.flush()
                await note_reply(session, parent)
            else:
                obj = await posts.reply(session, urls, people[k % len(people)], parent.uri,
                                        f"Reply number {k}: I tried *this* and [that](https://example.org/{k}).")
            thread_nodes.append(obj)
            for voter in people[: k % 4]:
                await add_reaction(session, urls.person(voter.username), obj.uri, "like", None)
        for voter in people[:6]:
            await add_reaction(session, urls.person(voter.username), big.uri, "like", None)
        big_uri = big.uri
    async with services.sessions() as session:
        depth = 0
        row = await session.scalar(select(Object).where(Object.uri == thread_nodes[-1].uri))
        while row is not None and row.in_reply_to_uri:
            depth += 1
            row = await session.scalar(select(Object).where(Object.uri == row.in_reply_to_uri))
        assert await session.scalar(select(LocalActor.id).where(LocalActor.username == "garden"))
    print(f"seeded: {threads + 1} threads, {replies} replies in the big one (the last {depth} deep)")
    return "/groups/garden", big_uri[len(urls.base):]


# --------------------------------------------------------------------------------------------------
# The run


@dataclass
class Figure:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float


def _profiler() -> Any:
    """A pyinstrument profiler of this (the server's) process, started (the figures include its cost)."""
    from pyinstrument import Profiler  # a test extra: imported only with --profile

    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    return profiler


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _floor(actor_url: str) -> tuple[web.AppRunner, str]:
    """A bare aiohttp application answering the bytes of ``actor_url`` (module text: the floor)."""
    async with aiohttp.ClientSession() as client:
        async with client.get(actor_url, headers={"Accept": AS2_ACCEPT}) as response:
            body = await response.read()

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/activity+json", charset="utf-8",
                            headers={"Vary": "Accept"})

    app = web.Application()
    app.router.add_get("/actor", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/actor"


async def run(args: argparse.Namespace) -> None:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = Settings(domain=f"127.0.0.1:{port}", scheme="http", database_url=database_url,
                            data_dir=Path(tmp) / "data", secret_key="bench-secret", node_name="Bench node")
        services = build_services(settings)
        await prepare(services, auto_migrate=True)
        group_path, thread_path = await seed(services, args.threads, args.replies)
        runner = web.AppRunner(build_web_app(services), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        targets = [
            ("bound: GET /static/site.css", f"{base}/static/site.css", None, HTML),
            ("group page (anonymous)", f"{base}{group_path}", None, HTML),
            ("thread page (anonymous)", f"{base}{thread_path}", None, HTML),
            ("thread page (member)", f"{base}{thread_path}", ("member1", PASSWORD), HTML),
        ]
        floor_runner: web.AppRunner | None = None
        if args.federation:
            domain = quote(f"ada@127.0.0.1:{port}")
            floor_runner, floor_url = await _floor(f"{base}/users/ada")
            targets = [
                targets[0],
                ("floor: bare aiohttp, same bytes", floor_url, None, AS2_ACCEPT),
                ("actor document (person)", f"{base}/users/ada", None, AS2_ACCEPT),
                ("actor document (group)", f"{base}{group_path}", None, AS2_ACCEPT),
                ("WebFinger", f"{base}/.well-known/webfinger?resource=acct:{domain}", None, "application/jrd+json"),
                ("NodeInfo 2.1", f"{base}/nodeinfo/2.1", None, "application/json"),
                ("host-meta", f"{base}/.well-known/host-meta", None, "application/xrd+xml"),
                ("post (AS2)", f"{base}{thread_path}", None, AS2_ACCEPT),
            ]
        figures: list[Figure] = []
        profiles: list[str] = []
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            loop = asyncio.get_running_loop()
            for name, url, login, accept in targets:
                cookies = await loop.run_in_executor(pool, log_in, url, login) if login else None
                profiler = _profiler() if args.profile and args.profile in name else None
                cpu = time.process_time()
                result = await loop.run_in_executor(pool, load, url, args.concurrency, args.seconds, cookies, accept)
                cpu = time.process_time() - cpu
                if profiler is not None:
                    profiler.stop()
                    profiles.append(f"--- pyinstrument: {name} ---\n"
                                    + profiler.output_text(unicode=False, color=False, short_mode=False))
                count = int(result["count"])  # type: ignore[call-overload]
                figures.append(Figure(name, count / args.seconds, float(result["p50"]) * 1000,  # type: ignore[arg-type]
                                      float(result["p99"]) * 1000, int(result["errors"]),  # type: ignore[call-overload, arg-type]
                                      cpu / max(1, int(result["served"])) * 1e6))  # type: ignore[call-overload]
        await runner.cleanup()
        if floor_runner is not None:
            await floor_runner.cleanup()
        await services.close()

    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}; {args.concurrency} concurrent clients, {args.seconds:g} s per target after 1 s warm-up; "
          f"Python {sys.version.split()[0]}")
    bound = figures[0]
    print(f"{'':34}{'req/s':>8}{'x bound':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99 / bound p99':>17}{'CPU/req':>11}")
    for figure in figures:
        errors = f"  ({figure.errors} errors)" if figure.errors else ""
        print(f"  {figure.name:32}{figure.rate:8,.0f}{figure.rate / bound.rate:9.3f}{figure.p50_ms:9.1f}"
              f"{figure.p99_ms:9.1f}{figure.p99_ms / bound.p99_ms:17.1f}{figure.cpu_us:9,.0f} µs{errors}")
    for profile in profiles:
        print(profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per target (default 5)")
    parser.add_argument("--threads", type=int, default=40, help="threads in the group (default 40)")
    parser.add_argument("--replies", type=int, default=50, help="replies in the big thread (default 50)")
    parser.add_argument("--profile", metavar="TARGET",
                        help="pyinstrument profile of the targets whose name contains TARGET (e.g. 'actor document')")
    parser.add_argument("--federation", action="store_true",
                        help="measure the GETs peers make (actor documents, WebFinger, NodeInfo, host-meta, a post)")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: SQLite in a temporary directory)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
