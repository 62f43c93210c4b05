"""Group fan-out delivery throughput, as a ratio to the RSA-2048 sign rate measured in the same run.

    .venv/bin/python bench/fanout.py [--followers 1000] [--instances 20] [--latency 0.02]
                                     [--database-url postgresql+asyncpg://...]

One local group with N remote followers spread over M simulated instances (minimal HTTP/1.1 sinks on
loopback, ``bench/lib/sink.py``, in a separate process, each answering 202 after ``--latency`` seconds;
``--aiohttp-instances`` serves them with aiohttp instead, as before issue #13) publishes one post:
``inbox_outbox.fanout.announce_to_members`` queues the FEP-1b12 Announce of the Create and the
Announce of the object (the boost), as one fan-out row each, and the delivery worker's ``run_forever``
(production defaults: 64 in flight, 4 per host) expands them into one delivery per inbox and delivers
them: since issue #13's seventh pass the expansion (writing the delivery rows, which processing did before)
is inside the measured time and CPU. Twice: with shared inboxes off (one POST per follower) and on
(one POST per instance).

Every delivery is one RSA-2048 signature, so one core cannot deliver faster than it signs: the figure
that matters is deliveries/s divided by bare ``cryptography`` RSA-2048 signs/s on this machine, now.
The database is SQLite in a temporary directory unless ``--database-url`` names a fresh PostgreSQL
database (its tables are created; use a throwaway database).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cryptography  # noqa: E402
from aiohttp import web  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from actors import local  # noqa: E402
from bench.lib.sink import start_sinks  # noqa: E402
from federation.signing_process import SigningProcess  # noqa: E402
from inbox_outbox.addressing import group_member_inboxes  # noqa: E402
from inbox_outbox.delivery import Attempt, DeliveryWorker  # noqa: E402
from inbox_outbox.fanout import announce_to_members  # noqa: E402
from madeopen.app import Services, build_services, prepare, settle_heap  # noqa: E402
from madeopen.settings import Settings  # noqa: E402
from storage.models import Activity, Delivery, Fanout, Host, LocalActor, Membership, RemoteActor  # noqa: E402

DOMAIN = "made.bench"


# --------------------------------------------------------------------------------------------------
# Simulated instances (a separate process, so their work does not share our core)


def _serve(count: int, latency: float, conn: multiprocessing.connection.Connection, kind: str = "sink") -> None:
    async def sinks() -> None:
        servers, ports = await start_sinks(count, latency)
        conn.send(ports)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        for server in servers:
            server.close()

    async def main() -> None:
        async def inbox(request: web.Request) -> web.Response:
            await request.read()
            if latency:
                await asyncio.sleep(latency)
            return web.Response(status=202)

        app = web.Application()
        app.router.add_post("/{tail:.*}", inbox)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        ports = []
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            site = web.SockSite(runner, sock)
            await site.start()
            ports.append(sock.getsockname()[1])
        conn.send(ports)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        await runner.cleanup()

    asyncio.run(sinks() if kind == "sink" else main())


@dataclass
class Instances:
    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection
    ports: list[int]

    @classmethod
    def start(cls, count: int, latency: float, kind: str = "sink") -> Instances:
        """``kind``: "sink" (bench/lib/sink.py, a few µs a request) or "aiohttp" (an aiohttp server,
        ~0.1-0.2 ms a request: what the benches used before issue #13)."""
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.Process(target=_serve, args=(count, latency, theirs, kind), daemon=True)
        process.start()
        return cls(process, ours, ours.recv())

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


# --------------------------------------------------------------------------------------------------
# The sign bound


def rsa_sign_rate(seconds: float) -> tuple[float, float]:
    """Bare cryptography RSA-2048 PKCS#1 v1.5 SHA-256 signs of a 1 KiB message: per second of wall-clock
    time and per second of this process's CPU time (on a busy machine the second is the one to compare
    with the worker's CPU per delivery), best of 3 rounds each."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message, pkcs1, sha256 = b"x" * 1024, padding.PKCS1v15(), hashes.SHA256()
    best = best_cpu = 0.0
    for _ in range(3):
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(20):
                key.sign(message, pkcs1, sha256)
            count += 20
        best = max(best, count / elapsed)
        best_cpu = max(best_cpu, count / (time.process_time() - cpu))
    return best, best_cpu


_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_cpu_seconds(seconds: float = 0.3) -> float:
    """CPU seconds of one bare RSA-2048 sign now (a 1 KiB message, as ``rsa_sign_rate``). Taken right before
    and after each fan-out: a shared machine's speed drifts by tens of per cent within a minute, so a
    bound taken once at the end can be far from the one the worker ran at."""
    message, pkcs1, sha256 = b"x" * 1024, padding.PKCS1v15(), hashes.SHA256()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for _ in range(10):
            _KEY.sign(message, pkcs1, sha256)
        count += 10
    return (time.process_time() - cpu) / count


# --------------------------------------------------------------------------------------------------
# One run


class CountingWorker(DeliveryWorker):
    """Notices the moment the last expected delivery is recorded."""

    def __init__(self, *args: object, expected: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.expected = expected
        self.recorded = 0
        self.finished = asyncio.Event()

    async def _record(self, attempts: list[Attempt]) -> None:  # type: ignore[override]
        await super()._record(attempts)
        self.recorded += len(attempts)
        if self.recorded >= self.expected:
            self.finished.set()


@dataclass
class Result:
    shared: bool
    deliveries: int
    queue_seconds: float
    deliver_seconds: float
    cpu_seconds: float  # of this process (the worker) and its signing process while delivering
    child_cpu_seconds: float  # of those, the signing process's
    machine_busy: float  # cores of the whole machine busy meanwhile (all processes: sinks, PostgreSQL too)
    done: int
    sign_cpu: float  # a bare sign's CPU seconds, the mean of one taken right before and one right after

    @property
    def rate(self) -> float:
        return self.deliveries / self.deliver_seconds


async def add_followers(services: Services, group: LocalActor, ports: list[int], followers: int, shared: bool) -> None:
    async with services.sessions.begin() as session:
        await session.execute(delete(Membership).where(Membership.group_id == group.id))
        await session.execute(delete(RemoteActor))
        actors = []
        for n in range(followers):
            base = f"http://127.0.0.1:{ports[n % len(ports)]}"
            actors.append(
                RemoteActor(
                    uri=f"{base}/users/u{n}", actor_type="Person", username=f"u{n}", domain=base.split("//")[1],
                    inbox=f"{base}/users/u{n}/inbox", shared_inbox=f"{base}/inbox" if shared else None,
                )
            )
        session.add_all(actors)
        await session.flush()
        session.add_all(
            Membership(group_id=group.id, remote_actor_id=a.id, role="member", state="accepted") for a in actors
        )


async def clear_queues(services: Services) -> None:
    """Before a run: no delivery, fan-out or activity row of an earlier one, and no host's record of health."""
    async with services.sessions.begin() as session:
        for model in (Delivery, Fanout, Activity, Host):
            await session.execute(delete(model))


async def expected_deliveries(services: Services, group_id: int) -> int:
    """The deliveries the queued fan-out rows will give: not written yet, the worker expands each fan-out
    row into one delivery per member inbox."""
    async with services.sessions() as session:
        fanouts = await session.scalar(select(func.count()).select_from(Fanout)) or 0
        return int(fanouts) * len(await group_member_inboxes(session, group_id))


async def fan_out_once(services: Services, group: LocalActor, shared: bool) -> Result:
    assert services.fed is not None
    await clear_queues(services)
    inner = {
        "id": f"https://{DOMAIN}/activities/post-{shared}", "type": "Create", "actor": f"https://{DOMAIN}/users/ann",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": f"https://{DOMAIN}/objects/post-{shared}", "type": "Note",
                   "content": "<p>" + "Shall we plant the tomatoes next weekend? " * 25 + "</p>"},
    }
    start = time.perf_counter()
    async with services.sessions.begin() as session:
        actor = await session.get(LocalActor, group.id)
        assert actor is not None
        await announce_to_members(session, services.urls, actor, inner)
    queued = time.perf_counter() - start
    expected = await expected_deliveries(services, group.id)
    worker = CountingWorker(services.fed, expected=expected)
    sign_before = sign_cpu_seconds()
    stop = asyncio.Event()
    child = ChildCpu(services.fed.client.signing)
    machine_start = machine_cpu_seconds()
    start, cpu_start = time.perf_counter(), time.process_time()
    running = asyncio.create_task(worker.run_forever(stop))
    await asyncio.wait_for(worker.finished.wait(), timeout=600)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    machine_busy = (machine_cpu_seconds() - machine_start) / elapsed
    child_cpu = child.spent()
    stop.set()
    await running
    sign_after = sign_cpu_seconds()
    async with services.sessions() as session:
        done = await session.scalar(select(func.count()).where(Delivery.state == "done")) or 0
    return Result(
        shared, expected, queued, elapsed, cpu + child_cpu, child_cpu, machine_busy, done, (sign_before + sign_after) / 2
    )


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot: every core's time but idle and iowait (proc(5))."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class ChildCpu:
    """CPU seconds a worker's signing process (``federation.signing_process``) spends from now on: none
    while it does not run; one started meanwhile counts from its start."""

    def __init__(self, signing: SigningProcess | None) -> None:
        self._signing = signing
        self._pid = signing.pid if signing else None
        self._start = child_cpu_seconds(self._pid)

    def spent(self) -> float:
        pid = self._signing.pid if self._signing else None
        return child_cpu_seconds(pid) - (self._start if pid == self._pid else 0.0)


def child_cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds of a running process (the signing process), 0 if there is none."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (proc(5))


async def run(args: argparse.Namespace, ports: list[int]) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = Settings(domain=DOMAIN, scheme="https", database_url=url, data_dir=Path(tmp),
                            secret_key="bench", allow_private_addresses=True,
                            signing_process=not args.no_signing_process)
        services = build_services(settings)
        try:
            await prepare(services, auto_migrate=True)
            async with services.sessions.begin() as session:
                group = await local.create_group(session, local.NewGroup(username="garden"))
            settle_heap()  # as `madeopen run` / `madeopen work` do once started
            results = []
            for shared in (False, True):
                await add_followers(services, group, ports, args.followers, shared)
                for _ in range(args.repeat):
                    results.append(await fan_out_once(services, group, shared))
            return results
        finally:
            await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=1000, help="remote followers of the group (default 1000)")
    parser.add_argument("--instances", type=int, default=20, help="simulated remote instances (default 20)")
    parser.add_argument("--latency", type=float, default=0.02, help="each inbox answers after this many s (0.02)")
    parser.add_argument("--repeat", type=int, default=3, help="fan-outs per mode; the best counts (default 3)")
    parser.add_argument("--database-url", help="a throwaway database (default: SQLite in a temporary directory)")
    parser.add_argument("--aiohttp-instances", action="store_true",
                        help="serve the instances with aiohttp (as before issue #13) instead of minimal sinks")
    parser.add_argument("--no-signing-process", action="store_true",
                        help="MADEOPEN_SIGNING_PROCESS=false: every signature made in the worker's own process")
    args = parser.parse_args()

    instances = Instances.start(args.instances, args.latency, "aiohttp" if args.aiohttp_instances else "sink")
    try:
        results = asyncio.run(run(args, instances.ports))
    finally:
        instances.stop()
    bound, cpu_bound = rsa_sign_rate(0.5)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{args.followers} followers on {args.instances} instances, {args.latency * 1000:g} ms inbox latency, "
        f"{backend}; {'aiohttp' if args.aiohttp_instances else 'sink'} instances; worker defaults (64 in flight, "
        f"4 per host); signing process {'off' if args.no_signing_process else 'on'}; load average {_load()}; "
        f"Python {sys.version.split()[0]}, cryptography {cryptography.__version__}"
    )
    print(f"bare RSA-2048 sign: {bound:,.0f}/s (the bound: one signature per delivery); "
          f"{cpu_bound:,.0f} per CPU second ({1e6 / cpu_bound:,.0f} µs each)")
    for shared in (False, True):
        best = max((r for r in results if r.shared == shared), key=lambda r: r.rate)
        assert best.done == best.deliveries, f"only {best.done} of {best.deliveries} delivered"
        label = "shared inboxes on " if shared else "shared inboxes off"
        print(
            f"  {label}: {best.deliveries:>5} deliveries in {best.deliver_seconds:6.2f} s = "
            f"{best.rate:7,.0f}/s = {best.rate / bound:.2f} x sign bound; "
            f"queued in {best.queue_seconds * 1000:,.0f} ms"
        )
        print(f"    the post reached all {args.followers} followers {best.queue_seconds + best.deliver_seconds:.2f} s "
              f"after the group published it")
        per = best.cpu_seconds / best.deliveries
        print(
            f"    worker CPU {per * 1e6:,.0f} µs per delivery (of which the signing process "
            f"{best.child_cpu_seconds / best.deliveries * 1e6:,.0f}; a bare sign is {1e6 / cpu_bound:,.0f} µs of CPU); "
            f"CPU-bound rate {1 / per:,.0f}/s = {1 / per / cpu_bound:.2f} x sign bound"
        )
        print(f"    the machine meanwhile: {best.machine_busy:.2f} of {os.cpu_count()} cores busy (every process)")
        print(f"    a bare sign around this run: {best.sign_cpu * 1e6:,.0f} µs of CPU = "
              f"{best.sign_cpu / per:.2f} x the worker's CPU per delivery")


def _load() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


if __name__ == "__main__":
    main()
