"""Delivery with one and with two worker processes on one PostgreSQL database (issue #13: two deliver ≥ 1.8x one).

    .venv/bin/python bench/scale.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/mo_bench_scale
                                    [--followers 1000] [--instances 20] [--latency 0.02] [--repeat 2]

The set-up is bench/fanout.py's (its helpers are reused): one local group with ``--followers`` remote
followers (personal inboxes) on ``--instances`` loopback sinks (``bench/lib/sink.py``; ``--aiohttp-instances``:
aiohttp servers, as before issue #13) in a separate process that answer 202 after ``--latency``; the group announces one post (``announce_to_members``: two deliveries per follower). Then
1, resp. 2, worker processes (each its own ``build_services`` and ``DeliveryWorker.run_forever`` with the
production defaults, started and connected before the clock starts) deliver the queue; the clock stops
when every row is done. Several workers claim disjoint rows with ``FOR UPDATE SKIP LOCKED``; SQLite runs
one claimer per node (DESIGN.md), so this bench is PostgreSQL only.

- **deliveries/s** per run, best of ``--repeat``; **x one**: the two-process rate over the one-process rate
  of the same run.
- **worker CPU per delivery**: the workers' own CPU (process time, summed) while delivering, with their
  signing processes' (``federation.signing_process``, started by each worker once it is busy).
- **CPU-normalised**: deliveries over the CPU time of the busiest worker process: the rate each process
  would reach on a core of its own (the workers' own scaling, whatever else shares the machine).
- **machine CPU per delivery**: every core's busy time (``/proc/stat``) while delivering: the workers, the
  instances, PostgreSQL, this script's polling, and whatever else runs on the machine. Two processes cannot
  deliver faster than ``cores / machine CPU per delivery``: the **ceiling** printed next to the ratio.

Two processes can only beat one by what the machine has to spare: on 2 cores the instances and PostgreSQL
share them too, so read the ratio next to the load average it was taken at.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT))

from sqlalchemy import func, select  # noqa: E402

from actors import local  # noqa: E402
from inbox_outbox.delivery import DeliveryWorker  # noqa: E402
from madeopen.app import build_services, prepare, settle_heap  # noqa: E402
from madeopen.settings import Settings  # noqa: E402
from storage.models import Delivery  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_fanout", Path(__file__).with_name("fanout.py"))
assert _spec is not None and _spec.loader is not None
fanout: Any = importlib.util.module_from_spec(_spec)
sys.modules["bench_fanout"] = fanout
_spec.loader.exec_module(fanout)


def _settings(url: str, data_dir: str) -> Settings:
    return Settings(domain=fanout.DOMAIN, scheme="https", database_url=url, data_dir=Path(data_dir),
                    secret_key="bench", allow_private_addresses=True)


def _worker(url: str, data_dir: str, ready: Any, go: Any, stop: Any, results: Any) -> None:
    async def main() -> None:
        services = build_services(_settings(url, data_dir))
        await prepare(services, auto_migrate=False)
        assert services.fed is not None
        worker = DeliveryWorker(services.fed)
        settle_heap()  # as `madeopen work` does once started
        loop = asyncio.get_running_loop()
        ready.set()
        await loop.run_in_executor(None, go.wait)
        child = fanout.ChildCpu(services.fed.client.signing)
        cpu = time.process_time()
        stopping = asyncio.Event()
        running = asyncio.create_task(worker.run_forever(stopping))
        await loop.run_in_executor(None, stop.wait)
        stopping.set()
        await running
        # With its signing process's CPU (federation.signing_process), as bench/fanout.py counts it.
        results.put(time.process_time() - cpu + child.spent())
        await services.close()

    asyncio.run(main())


@dataclass
class Run:
    processes: int
    deliveries: int
    seconds: float
    cpu: float  # the workers'
    machine_cpu: float  # every core's busy time
    busiest: float  # the CPU time of the busiest worker process


    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds


async def deliver_with(processes: int, url: str, data_dir: str, services: Any, group: Any, n: int) -> Run:
    from inbox_outbox.fanout import announce_to_members
    from storage.models import LocalActor

    await fanout.clear_queues(services)
    inner = {
        "id": f"https://{fanout.DOMAIN}/activities/scale-{processes}-{n}", "type": "Create",
        "actor": f"https://{fanout.DOMAIN}/users/ann", "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": f"https://{fanout.DOMAIN}/objects/scale-{processes}-{n}", "type": "Note",
                   "content": "<p>" + "Shall we plant the tomatoes next weekend? " * 25 + "</p>"},
    }
    async with services.sessions.begin() as session:
        actor = await session.get(LocalActor, group.id)
        await announce_to_members(session, services.urls, actor, inner)
    expected = await fanout.expected_deliveries(services, group.id)
    if not expected:
        raise SystemExit("bench/scale.py: the announce queued nothing to deliver")

    ctx = multiprocessing.get_context("spawn")
    go, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    readies = [ctx.Event() for _ in range(processes)]
    workers = [ctx.Process(target=_worker, args=(url, data_dir, ready, go, stop, results), daemon=True)
               for ready in readies]
    for process in workers:
        process.start()
    for ready in readies:
        await asyncio.get_running_loop().run_in_executor(None, ready.wait, 120)
    start, busy = time.perf_counter(), fanout.machine_cpu_seconds()
    go.set()
    while True:
        async with services.sessions() as session:
            done = int(await session.scalar(select(func.count()).where(Delivery.state == "done")) or 0)
        if done >= expected:
            break
        if time.perf_counter() - start > 600:
            raise SystemExit(f"only {done} of {expected} delivered after 600 s")
        await asyncio.sleep(0.02)
    elapsed, busy = time.perf_counter() - start, fanout.machine_cpu_seconds() - busy
    stop.set()
    cpus = [results.get(timeout=60) for _ in workers]
    for process in workers:
        process.join(timeout=30)
    return Run(processes, expected, elapsed, sum(cpus), busy, max(cpus))


async def run(args: argparse.Namespace, ports: list[int]) -> list[Run]:
    with tempfile.TemporaryDirectory() as tmp:
        services = build_services(_settings(args.database_url, tmp))
        try:
            await prepare(services, auto_migrate=True)
            async with services.sessions.begin() as session:
                group = await local.create_group(session, local.NewGroup(username="garden"))
            await fanout.add_followers(services, group, ports, args.followers, False)
            runs = []
            for n in range(args.repeat):
                for processes in (1, 2):
                    runs.append(await deliver_with(processes, args.database_url, tmp, services, group, n))
            return runs
        finally:
            await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="an EMPTY PostgreSQL database (the script migrates it)")
    parser.add_argument("--followers", type=int, default=1000, help="remote followers of the group (default 1000)")
    parser.add_argument("--instances", type=int, default=20, help="simulated remote instances (default 20)")
    parser.add_argument("--latency", type=float, default=0.02, help="each inbox answers after this many s (0.02)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per worker count; the best counts (default 2)")
    parser.add_argument("--aiohttp-instances", action="store_true",
                        help="serve the instances with aiohttp (as before issue #13) instead of minimal sinks")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("bench/scale.py: PostgreSQL only (SQLite runs one claimer per node)")

    kind = "aiohttp" if args.aiohttp_instances else "sink"
    instances = fanout.Instances.start(args.instances, args.latency, kind)
    try:
        runs = asyncio.run(run(args, instances.ports))
    finally:
        instances.stop()
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    print(f"{args.followers} followers on {args.instances} instances, {args.latency * 1000:g} ms inbox latency, "
          f"PostgreSQL; {kind} instances; worker defaults (64 in flight, 4 per host); load average {load}; Python {sys.version.split()[0]}")
    best = {p: max((r for r in runs if r.processes == p), key=lambda r: r.rate) for p in (1, 2)}
    for processes, result in best.items():
        print(f"  {processes} worker process{'es' if processes > 1 else '  '}: {result.deliveries} deliveries in "
              f"{result.seconds:6.2f} s = {result.rate:7,.0f}/s = {result.rate / best[1].rate:.2f} x one; "
              f"worker CPU {result.cpu / result.deliveries * 1e6:,.0f} µs per delivery, "
              f"machine CPU {result.machine_cpu / result.deliveries * 1e6:,.0f} µs")
    cores = os.cpu_count() or 1
    ceiling = cores * best[2].deliveries / best[2].machine_cpu
    print(f"  ceiling for 2 processes on {cores} cores at the 2-process run's machine CPU per delivery: "
          f"{ceiling:,.0f}/s = {ceiling / best[1].rate:.2f} x one")
    # What the workers themselves allow, each on a core of its own and the rest of the machine elsewhere:
    # the deliveries over the busiest process's CPU time (a worker that got less of the work counts as idle).
    own = {p: r.deliveries / r.busiest for p, r in best.items()}
    print(f"  CPU-normalised (each process on a core of its own): 1 process {own[1]:,.0f}/s, 2 processes "
          f"{own[2]:,.0f}/s = {own[2] / own[1]:.2f} x one (per-process CPU {best[2].busiest:.2f} s of "
          f"{best[2].cpu:.2f} s)")


if __name__ == "__main__":
    main()
