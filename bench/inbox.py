"""Inbox throughput (accepting signed POSTs, then processing them), as ratios to the RSA-2048 verify rate.

    .venv/bin/python bench/inbox.py [--activities 2000] [--members 50] [--clients 4] [--likes 0.5]
                                    [--shared-inboxes] [--database-url postgresql+asyncpg://...]
                                    [--profile accept|process] [--with-worker [--deliver]] [--no-drain]

Our web app (``madeopen.app.build_web_app``, no embedded workers) listens on a loopback port with
``allow_private_addresses``; one public local group has ``--members`` remote members, people on loopback
peers (``tests.support.peer.Peer``: real HTTP, real RSA keys, requests signed with our ``CavageSigner``).
Members have no shared inbox unless ``--shared-inboxes``, so every announce the group makes fans out into
one delivery row per member. Processing queues one fan-out row per announce; the delivery worker writes the
delivery rows when it expands it (issue #13, seventh pass), which step 4 measures apart. Nothing is
delivered: no delivery worker runs.

1. First contact: each member POSTs one Create{Note} to the group, one client, one at a time: our inbox
   fetches the member's key (its actor document) before it can verify. Then each POSTs a second one with
   the key cached; the difference of the mean latencies is the first-contact cost. The worker processes
   these seed posts (they become the targets of the Likes).
2. Accept: ``--activities`` signed activities (Create{Note} into the group and Likes of seed posts, in a
   shuffled mix, alternately to the group's inbox and to the shared inbox) are POSTed by ``--clients``
   concurrent clients in a separate process, signed beforehand; accepted/s counts the 202s. Before them,
   the same POSTs without their Signature header give the floor: the inbox answers 401 before it reads
   the body or touches the database, so that rate is aiohttp and our middlewares alone.
3. Process: ``InboundWorker.run_once`` (default batch) until the queue is empty; processed/s, and the rows
   that processing wrote (posts, votes, the group's announces and their delivery rows) per second.
   ``--no-drain`` skips it (the accept figures alone, in a fraction of the time).
4. Expand: the delivery worker's first step (``inbox_outbox.outbox.expand_fanouts``, transactions of its
   batch) until no fan-out row is left: the delivery rows per second and the CPU per delivery row and per
   processed activity. What processing no longer does, the delivery worker now does: add the two to compare
   with processing before the fan-out rows.

``--with-worker``: during the accept phase an ``InboundWorker.run_forever`` runs in the server's event loop,
as in ``madeopen run`` with both roles in one process, so the web role's queue writes meet the worker's
batch transactions (SQLite: one writer at a time); the accept latencies then show what that waiting costs
(the server CPU per POST then includes the worker's, so read the latencies, not the CPU).
``--deliver`` (with ``--with-worker``): all of ``madeopen run``'s workers run beside the accept phase, the
delivery worker included, and the members' inboxes are sinks (bench/lib/sink.py) in a process of their own:
the group's fan-out is expanded and POSTed while the POSTs arrive, so the web role's queue writes also meet the
delivery worker's claims, expansions and records at SQLite's write gate. Reported: the deliveries done
meanwhile.

Every accepted activity costs at least one RSA-2048 signature verification, so the figure that matters is
each rate divided by the bare ``cryptography`` RSA-2048 verify rate on this machine, now. The database is
SQLite in a temporary directory unless ``--database-url`` names an EMPTY PostgreSQL database (the script
creates the tables; use a throwaway database and drop it afterwards). ``--profile`` samples the event
loop's thread during one phase with pyinstrument when it can be imported (it is not a project dependency:
``PYTHONPATH=<a pip --target dir>``), else traces it with cProfile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import pstats
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from sqlalchemy import event, func, inspect, select, update  # noqa: E402

from actors import local  # noqa: E402
from inbox_outbox.inbound_worker import InboundWorker  # noqa: E402
from inbox_outbox.outbox import expand_fanouts  # noqa: E402
from bench.lib.processes import Clients, Posted, Request, Sinks  # noqa: E402
from madeopen.app import Services, build_services, build_web_app, prepare, settle_heap, threaded_workers  # noqa: E402
from madeopen.worker_thread import WorkerThread  # noqa: E402
from madeopen.settings import Settings  # noqa: E402
from storage.models import (  # noqa: E402
    Activity, Delivery, Fanout, InboundActivity, Membership, Object, Reaction, RemoteActor,
)
from tests.support.peer import Peer  # noqa: E402
from tests.support.peer_actor import PeerActor  # noqa: E402

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS2 = "https://www.w3.org/ns/activitystreams"
MEMBERS_PER_PEER = 50  # our inbox fetches at most 60 unknown keys per host a minute (actors.remote)
CONTENT = "<p>" + "Shall we plant the tomatoes next weekend? " * 12 + "</p>"

# --------------------------------------------------------------------------------------------------
# The bound


def rsa_verify_rate(seconds: float) -> float:
    """Bare cryptography RSA-2048 PKCS#1 v1.5 SHA-256 verifications/s of a 1 KiB message: best of 3."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message, pkcs1, sha256 = b"x" * 1024, padding.PKCS1v15(), hashes.SHA256()
    signature, public = key.sign(message, pkcs1, sha256), key.public_key()
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                public.verify(signature, message, pkcs1, sha256)
            count += 100
        best = max(best, count / elapsed)
    return best


# --------------------------------------------------------------------------------------------------
# Activities


@dataclass
class World:
    services: Services
    base: str  # our http://127.0.0.1:<port>
    group: str  # the group's id
    members: list[PeerActor]

    def create(self, author: PeerActor) -> tuple[str, dict[str, Any]]:
        """(note id, Create{Note}) into the group, Lemmy-style: group in cc and audience, public."""
        note_id = f"{author.peer.base_url}/comment/{uuid.uuid4().hex}"
        note = {"id": note_id, "type": "Note", "attributedTo": author.id, "to": [PUBLIC], "cc": [self.group],
                "audience": self.group, "content": CONTENT, "published": "2026-11-25T19:00:00Z"}
        return note_id, {"@context": AS2, "id": f"{author.peer.base_url}/activities/create/{uuid.uuid4().hex}",
                         "type": "Create", "actor": author.id, "to": [PUBLIC], "cc": [self.group],
                         "audience": self.group, "object": note}

    def like(self, voter: PeerActor, note_id: str) -> dict[str, Any]:
        return {"@context": AS2, "id": f"{voter.peer.base_url}/activities/like/{uuid.uuid4().hex}",
                "type": "Like", "actor": voter.id, "object": note_id, "audience": self.group}

    def signed(self, actor: PeerActor, activity: dict[str, Any], n: int) -> Request:
        """Alternately to the group's inbox (Lemmy) and to our shared inbox (Mastodon)."""
        url = f"{self.group}/inbox" if n % 2 == 0 else f"{self.base}/inbox"
        body = json.dumps(activity).encode()
        return url, actor.sign("POST", url, body), body


async def setup_world(services: Services, base: str, peers: list[Peer], members: int, shared: bool) -> World:
    async with services.sessions.begin() as session:
        group = await local.create_group(session, local.NewGroup(username="garden"))
    actors = []
    for n in range(members):
        peer = peers[n // MEMBERS_PER_PEER]
        overrides = {} if shared else {"endpoints": {}}  # no sharedInbox: one delivery row per member
        actors.append(peer.add_actor(f"m{n}", document_overrides=overrides))
    # Members who joined some time ago, but whose keys we do not hold yet: the first POST fetches them.
    async with services.sessions.begin() as session:
        rows = [
            RemoteActor(uri=a.id, actor_type="Person", username=a.username, domain=a.peer.host, inbox=a.inbox,
                        shared_inbox=f"{a.peer.base_url}/inbox" if shared else None)
            for a in actors
        ]
        session.add_all(rows)
        await session.flush()
        session.add_all(Membership(group_id=group.id, remote_actor_id=r.id, role="member", state="accepted")
                        for r in rows)
    return World(services, base, services.urls.group(group.username), actors)


async def inboxes_to_sinks(services: Services, world: World, ports: list[int], shared: bool) -> None:
    """``--deliver``: the members' inboxes move to the sinks (another process) once their keys are held, as if
    their instances received on other machines; our actor checks keep an inbox on the actor's own origin, so
    the rows are changed here, after the documents were read."""
    async with services.sessions.begin() as session:
        for n, member in enumerate(world.members):
            sink = f"http://127.0.0.1:{ports[n // MEMBERS_PER_PEER % len(ports)]}"
            await session.execute(update(RemoteActor).where(RemoteActor.uri == member.id).values(
                inbox=f"{sink}/users/{member.username}/inbox",
                shared_inbox=f"{sink}/inbox" if shared else None))


# --------------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Counts:
    objects: int
    reactions: int
    activities: int
    deliveries: int
    fanouts: int
    states: Counter[str]

    @property
    def rows(self) -> int:
        return self.objects + self.reactions + self.activities + self.deliveries + self.fanouts

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.objects - other.objects, self.reactions - other.reactions,
                      self.activities - other.activities, self.deliveries - other.deliveries,
                      self.fanouts - other.fanouts, self.states - other.states)


async def counts(services: Services) -> Counts:
    async with services.sessions() as session:
        async def count(model: Any) -> int:
            return await session.scalar(select(func.count()).select_from(model)) or 0

        rows = await session.execute(select(InboundActivity.state, func.count()).group_by(InboundActivity.state))
        states = Counter({state: n for state, n in rows})
        return Counts(await count(Object), await count(Reaction), await count(Activity), await count(Delivery),
                      await count(Fanout), states)


@dataclass
class Processed:
    activities: int
    seconds: float
    cpu: float
    written: Counts
    statements: int  # SQL statements the worker sent (a load-independent figure of its work)
    loop_cpu: float = 0.0  # of ``cpu``, the event loop's thread (the rest: the driver's threads)
    expansion: Expansion | None = None


@dataclass
class Expansion:
    """The delivery worker's expansion of the fan-out rows processing queued (step 4)."""

    fanouts: int
    deliveries: int
    seconds: float
    cpu: float
    statements: int


class StatementCounter:
    """Counts the SQL statements ``services``' engine sends while inside (an executemany counts once)."""

    def __init__(self, services: Services) -> None:
        self.engine = services.engine.sync_engine
        self.statements = 0

    def _count(self, *_: Any) -> None:
        self.statements += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


async def delivered(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "done")) or 0


async def drain(services: Services) -> Processed:
    assert services.fed is not None
    worker = InboundWorker(services.fed)
    before = await counts(services)
    with StatementCounter(services) as counter:
        taken, start, cpu, loop_cpu = 0, time.perf_counter(), time.process_time(), time.thread_time()
        while taken_now := await worker.run_once():
            taken += taken_now
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        loop_cpu = time.thread_time() - loop_cpu
    processed = Processed(taken, seconds, cpu, await counts(services) - before, counter.statements, loop_cpu)
    processed.expansion = await expand(services)
    return processed


async def expand(services: Services) -> Expansion:
    """Step 4: what the delivery worker does first, its own code, in transactions as it runs them."""
    before = await counts(services)
    with StatementCounter(services) as counter:
        start, cpu = time.perf_counter(), time.process_time()
        while True:
            async with services.sessions.begin() as session:
                if not await expand_fanouts(session, services.urls):
                    break
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = await counts(services)
    return Expansion(before.fanouts - after.fanouts, after.deliveries - before.deliveries, seconds, cpu,
                     counter.statements)


class Profile:
    """A profile of one phase, of the event loop's thread only (aiosqlite's thread and PostgreSQL are not
    seen). pyinstrument (sampling, little overhead) when it can be imported, else cProfile (which slows
    the Python side several times over: read its proportions, not its times)."""

    def __init__(self, enabled: bool) -> None:
        self.sampler: Any = None  # pyinstrument's Profiler
        self.tracer: cProfile.Profile | None = None
        if enabled:
            try:
                from pyinstrument import Profiler
            except ImportError:
                self.tracer = cProfile.Profile()
            else:
                self.sampler = Profiler(interval=0.0005, async_mode="disabled")

    def __enter__(self) -> Profile:
        if self.sampler is not None:
            self.sampler.start()
        if self.tracer is not None:
            self.tracer.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        if self.tracer is not None:
            self.tracer.disable()

    def report(self, title: str) -> None:
        if self.sampler is not None:
            print(f"\n--- profile of {title} (pyinstrument, event-loop thread) ---")
            print(self.sampler.output_text(unicode=True, timeline=False))
        if self.tracer is not None:
            print(f"\n--- profile of {title} (cProfile, event-loop thread) ---")
            stats = pstats.Stats(self.tracer).strip_dirs()
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)


class _Beside:
    """An inbound worker running while the POSTs arrive (``--with-worker``): as ``madeopen run`` places it, on a
    thread of its own with its own event loop and engine (madeopen/worker_thread.py), or with ``--worker-in-loop``
    in the server's event loop (where ``madeopen run`` ran it before issue #13's fifth accept pass)."""

    def __init__(self, services: Services, in_loop: bool, deliver: bool) -> None:
        assert services.fed is not None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: WorkerThread | None = None
        if in_loop:
            self._task = asyncio.create_task(InboundWorker(services.fed).run_forever(self._stop, idle=0.05))
        elif deliver:  # every worker of madeopen run, the delivery worker included
            self._thread = WorkerThread(lambda: threaded_workers(services.settings))
        else:
            self._thread = WorkerThread(lambda: threaded_workers(services.settings, _InboundRole))  # no deliveries

    async def start(self) -> None:
        if self._thread is not None:
            await self._thread.start()  # running before the first POST

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        if self._thread is not None:
            await self._thread.stop()


class _InboundRole:
    def __init__(self, services: Services) -> None:
        assert services.fed is not None
        self._stop = asyncio.Event()
        self._worker = InboundWorker(services.fed)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._worker.run_forever(self._stop, idle=0.05))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


@dataclass
class Results:
    first_contact: Posted
    warm: Posted
    floor: Posted
    floor_cpu: float
    accepted: Posted
    accept_cpu: float
    processed: Processed | None
    processed_beside: int  # by the worker running beside the accept phase (--with-worker)
    delivered_beside: int  # POSTs the delivery worker finished meanwhile (--deliver)
    creates: int
    likes: int


async def run(args: argparse.Namespace, clients: Clients, sinks: Sinks | None) -> Results:
    with tempfile.TemporaryDirectory() as tmp:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = Settings(domain=f"127.0.0.1:{port}", scheme="http", database_url=url, data_dir=Path(tmp),
                            secret_key="bench", allow_private_addresses=True,
                            signing_process=not args.no_signing_process)
        services = build_services(settings)
        async with services.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        if tables:
            await services.close()
            sys.exit(f"bench/inbox.py: {url} is not empty ({len(tables)} tables); give it an empty database")
        await prepare(services, auto_migrate=True)
        runner = web.AppRunner(build_web_app(services), access_log=None, handle_signals=False)
        if not args.no_settle_heap:
            settle_heap()  # as `madeopen run` does once its app is built
        await runner.setup()  # the app's cleanup closes the services
        peers = [await Peer().start() for _ in range(math.ceil(args.members / MEMBERS_PER_PEER))]
        try:
            await web.SockSite(runner, sock).start()
            world = await setup_world(services, base, peers, args.members, args.shared_inboxes)

            # 1. First contact, then the same members again with their keys cached; seed posts.
            seeds: list[str] = []
            first, warm = [], []
            for batch in (first, warm):
                for n, member in enumerate(world.members):
                    note_id, activity = world.create(member)
                    seeds.append(note_id)
                    batch.append(world.signed(member, activity, n))
            first_contact = await clients.post(first, 1)
            warm_posted = await clients.post(warm, 1)
            for label, posted in (("first-contact", first_contact), ("warm", warm_posted)):
                if posted.accepted != len(world.members):
                    raise SystemExit(f"{label} POSTs: expected all 202, got {dict(posted.statuses)}")
            seeded = await drain(services)
            if seeded.written.states["done"] != 2 * len(world.members):
                raise SystemExit(f"seed posts not all processed: {dict(seeded.written.states)}")
            if sinks is not None:
                await inboxes_to_sinks(services, world, sinks.ports, args.shared_inboxes)

            # 2. Accept: a shuffled mix of Creates and Likes (each vote a new member/post pair), signed now.
            rng = random.Random(1)
            likes = round(args.activities * args.likes)
            pairs = [(m, s) for m in world.members for s in seeds]
            rng.shuffle(pairs)
            if likes > len(pairs):
                print(f"note: only {len(pairs)} distinct votes exist; {likes - len(pairs)} Likes repeat one")
            kinds = ["like"] * likes + ["create"] * (args.activities - likes)
            rng.shuffle(kinds)
            requests, n_like = [], 0
            for n, kind in enumerate(kinds):
                if kind == "like":
                    voter, note_id = pairs[n_like % len(pairs)]
                    n_like += 1
                    requests.append(world.signed(voter, world.like(voter, note_id), n))
                else:
                    member = world.members[n % len(world.members)]
                    requests.append(world.signed(member, world.create(member)[1], n))

            # The floor: the same POSTs unsigned get their 401 from the inbox before any database work or
            # body read, through the same aiohttp server and middlewares.
            unsigned = [(url, {k: v for k, v in headers.items() if k.lower() != "signature"}, body)
                        for url, headers, body in requests]
            cpu = time.process_time()
            floor = await clients.post(unsigned, args.clients)
            floor_cpu = time.process_time() - cpu
            if floor.statuses[401] != len(unsigned):
                raise SystemExit(f"unsigned POSTs: expected all 401, got {dict(floor.statuses)}")

            before_accept = await counts(services)
            beside = _Beside(services, args.worker_in_loop, args.deliver) if args.with_worker else None
            if beside is not None:
                await beside.start()
            with Profile(args.profile == "accept") as profile:
                cpu = time.process_time()
                accepted = await clients.post(requests, args.clients)
                accept_cpu = time.process_time() - cpu
            profile.report("accepting")
            processed_beside = delivered_beside = 0
            if beside is not None:
                await beside.stop()
                processed_beside = (await counts(services) - before_accept).states["done"]
                delivered_beside = await delivered(services)
            if accepted.accepted != len(requests):
                print(f"warning: not all accepted: {dict(accepted.statuses)}")

            # 3. Process the queue.
            processed = None
            if not args.no_drain:
                with Profile(args.profile == "process") as profile:
                    processed = await drain(services)
                profile.report("processing")
            return Results(first_contact, warm_posted, floor, floor_cpu, accepted, accept_cpu, processed,
                           processed_beside, delivered_beside, args.activities - likes, likes)
        finally:
            for peer in peers:
                await peer.close()
            await runner.cleanup()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def report(args: argparse.Namespace, results: Results, bound: float) -> None:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    fan = (f"shared inboxes ({math.ceil(args.members / MEMBERS_PER_PEER)} delivery row(s) per announce)"
           if args.shared_inboxes else f"personal inboxes ({args.members} delivery rows per announce)")
    print(
        f"{args.activities} activities ({results.creates} Create{{Note}}, {results.likes} Like) from "
        f"{args.members} members of one public group, {fan}; {backend}; {args.clients} clients; "
        f"Python {sys.version.split()[0]}"
    )
    print(f"bare RSA-2048 verify: {bound:,.0f}/s = {1e6 / bound:,.0f} µs (the bound: one verification per activity)")
    print()
    print(f"  {'':<32} {'per s':>7}  {'x verify bound':>14}  {'server CPU':>10}")

    def row(label: str, rate: float, cpu: float | None, unit: str, note: str, ratio: bool = True) -> None:
        cpu_text = f"{cpu * 1e6:>7,.0f} µs{unit}" if cpu is not None else " " * 13
        ratio_text = f"{rate / bound:>14.4f}" if ratio else " " * 14
        print(f"  {label:<32} {rate:>7,.0f}  {ratio_text}  {cpu_text}  {note}".rstrip())

    a = results.accepted
    lat = sorted(a.latencies)
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99)]
    f = results.floor
    floor_rate = len(f.latencies) / f.elapsed
    row("accept: signed POST -> 202", a.accepted / a.elapsed, results.accept_cpu / max(a.accepted, 1), "   ",
        f"{a.accepted} of {len(lat)} in {a.elapsed:.2f} s; latency p50 {_ms(p50)}, p99 {_ms(p99)} "
        f"(p99/p50 {p99 / p50:.1f}); {a.accepted / a.elapsed / floor_rate:.2f} x floor")
    if args.with_worker and args.deliver:
        print(f"  {'':<32} (all of madeopen run's workers ran beside it on their thread: the inbound worker "
              f"processed {results.processed_beside}, the delivery worker made {results.delivered_beside:,} POSTs "
              "to the sinks; the CPU is every role's)")
    elif args.with_worker:
        print(f"  {'':<32} (an inbound worker ran beside it and processed {results.processed_beside}; "
              "the CPU is both roles')")
    row("  floor: unsigned POST -> 401", floor_rate, results.floor_cpu / len(f.latencies), "   ",
        "the same POSTs, refused before the body, the key or the database")
    if results.processed is not None:
        p, w = results.processed, results.processed.written
        row("process: InboundWorker.run_once", p.activities / p.seconds, p.cpu / max(p.activities, 1), "   ",
            f"{p.activities} in {p.seconds:.2f} s; " + ", ".join(f"{n} {state}" for state, n in sorted(w.states.items())))
        row("  rows written", w.rows / p.seconds, p.cpu / max(w.rows, 1), "/row", f"{w.rows:,} rows: {w.objects} posts, "
            f"{w.reactions} votes, {w.activities} announces, {w.fanouts:,} fan-out rows, {w.deliveries:,} delivery rows",
            ratio=False)
        print(f"  {'':<32} {p.statements:,} SQL statements: {p.statements / max(p.activities, 1):.2f} per activity")
        per = max(p.activities, 1)
        print(f"  {'':<32} CPU per activity: event loop {p.loop_cpu / per * 1e6:,.0f} µs, "
              f"driver threads {max(p.cpu - p.loop_cpu, 0) / per * 1e6:,.0f} µs (none on PostgreSQL: asyncpg runs in the loop)")
        x = p.expansion
        if x is not None and x.fanouts:
            row("expand: the delivery worker's step", x.deliveries / x.seconds, x.cpu / max(x.deliveries, 1), "/row",
                f"{x.fanouts:,} fan-out rows -> {x.deliveries:,} delivery rows in {x.seconds:.2f} s, {x.statements:,} "
                f"statements; {x.cpu / per * 1e6:,.0f} µs per processed activity", ratio=False)
            print(f"  {'':<32} processing + expansion: {(p.cpu + x.cpu) / per * 1e6:,.0f} µs CPU per activity")
    first = statistics.mean(results.first_contact.latencies)
    warm = statistics.mean(results.warm.latencies)
    print(f"  first contact: a member's first POST takes {_ms(first)}, its second {_ms(warm)} (one client, mean "
          f"of {args.members}): fetching and storing its key adds {_ms(first - warm)}, once per actor")
    print("  (server CPU: this process, all threads, per activity or row; a PostgreSQL server's own CPU is not in it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=int, default=2000, help="activities POSTed (default 2000)")
    parser.add_argument("--members", type=int, default=50, help="remote members of the group (default 50)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent POSTing clients (default 4)")
    parser.add_argument("--likes", type=float, default=0.5, help="share of Likes among the activities (0.5)")
    parser.add_argument("--shared-inboxes", action="store_true",
                        help="members have a shared inbox (one delivery row per peer, not per member)")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database (default: SQLite in a temporary directory)")
    parser.add_argument("--profile", choices=["accept", "process"], help="cProfile that phase and print the top")
    parser.add_argument("--with-worker", action="store_true",
                        help="an inbound worker runs in the server's process during the accept phase (on a "
                             "thread of its own, as madeopen run places it)")
    parser.add_argument("--worker-in-loop", action="store_true",
                        help="with --with-worker: the worker in the server's event loop (the placement before)")
    parser.add_argument("--deliver", action="store_true",
                        help="with --with-worker: every worker of madeopen run, the delivery worker POSTing the "
                             "group's fan-out to sinks in another process while the POSTs arrive")
    parser.add_argument("--no-drain", action="store_true", help="skip processing the queue after accepting")
    parser.add_argument("--no-signing-process", action="store_true",
                        help="with --deliver: every signature in the worker (MADEOPEN_SIGNING_PROCESS=off)")
    parser.add_argument("--no-settle-heap", action="store_true",
                        help="leave the garbage collector as Python starts it (madeopen run calls settle_heap)")
    args = parser.parse_args()
    if args.deliver and (not args.with_worker or args.worker_in_loop):
        parser.error("--deliver needs --with-worker (on the worker thread, not --worker-in-loop)")

    clients = Clients.start()  # before any event loop or thread exists: it forks
    sinks = Sinks.start(math.ceil(args.members / MEMBERS_PER_PEER)) if args.deliver else None
    try:
        results = asyncio.run(run(args, clients, sinks))
    finally:
        clients.stop()
        if sinks is not None:
            sinks.stop()
    report(args, results, rsa_verify_rate(0.5))


if __name__ == "__main__":
    main()
