"""How long the first requests take after ``madeopen run`` starts (issue #13: modules loaded on first use
must not make the first request pathologically slow).

    .venv/bin/python bench/first_request.py [CHECKOUT]

A fresh SQLite database (migrated, one group ``garden`` created, each by its own ``madeopen`` command), then
``madeopen run`` of CHECKOUT (default: this one) with private addresses allowed, and a loopback peer
(tests.support.peer) with one actor. Once the node says it serves and its port accepts, and 2 s later (the
workers' first rounds), the client times, first and second each: ``GET /groups/garden``, ``GET /``, and a
signed ``Create{Note}`` POSTed to the group's inbox (the first from a key the node fetches from the peer).
Then the node is stopped and started again on the same data directory (a restart: the templates it compiled
are found under the data directory) and timed the same way. Printed as JSON, for the first start and the
restart: milliseconds and status per request, and the node's VmRSS afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rss import MADEOPEN, _free_port  # noqa: E402
from tests.support.peer import Peer  # noqa: E402
from tests.support.peer_actor import PeerActor  # noqa: E402


async def _timed(session: aiohttp.ClientSession, method: str, url: str, **kwargs: object) -> list[float]:
    start = time.perf_counter()
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        await response.read()
    return [round((time.perf_counter() - start) * 1000, 1), response.status]


def _environment(directory: Path, port: int, tree: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MADEOPEN_")}
    env.update(
        PYTHONPATH=str(tree), MADEOPEN_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'node.db'}",
        MADEOPEN_DATA_DIR=str(directory / "data"), MADEOPEN_SCHEME="http", MADEOPEN_HOST="127.0.0.1",
        MADEOPEN_PORT=str(port), MADEOPEN_DOMAIN=f"127.0.0.1:{port}", MADEOPEN_SECRET_KEY="bench-first-request",
        MADEOPEN_ALLOW_PRIVATE_ADDRESSES="true",
    )
    return env


async def _wait_for_port(port: int) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            await asyncio.sleep(0.01)


async def _serve_and_time(tree: Path, env: dict[str, str], port: int, actor: PeerActor) -> dict[str, object]:
    base = f"http://127.0.0.1:{port}"
    node = subprocess.Popen([sys.executable, "-c", MADEOPEN, "run"], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert node.stdout is not None
        await asyncio.get_running_loop().run_in_executor(None, node.stdout.readline)  # "serving"
        await _wait_for_port(port)  # no HTTP request before the timed ones
        await asyncio.sleep(2)
        out: dict[str, object] = {}
        async with aiohttp.ClientSession() as session:
            for label, path in (("group page", "/groups/garden"), ("home", "/")):
                for turn in ("first", "second"):
                    out[f"{label} {turn}"] = await _timed(session, "GET", base + path)
            inbox = f"{base}/groups/garden/inbox"
            for turn in ("first", "second"):
                body = json.dumps(actor.create_note("<p>Hello</p>", to=f"{base}/groups/garden")).encode()
                out[f"inbox POST {turn}"] = await _timed(session, "POST", inbox, data=body,
                                                         headers=actor.sign("POST", inbox, body))
        status = Path(f"/proc/{node.pid}/status").read_text()
        out["VmRSS MB"] = round(int(status.split("VmRSS:")[1].split()[0]) / 1024, 1)
        return out
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=20)


async def measure(tree: Path) -> dict[str, object]:
    """The node's first start on a new data directory, then a restart on the same one (which finds the
    templates the first compiled, as every later start of a deployed node does)."""
    with tempfile.TemporaryDirectory(prefix="madeopen-first-") as tmp:
        port = _free_port()
        env = _environment(Path(tmp), port, tree)
        for command in (["migrate"], ["group", "create", "garden"]):
            subprocess.run([sys.executable, "-c", MADEOPEN, *command], cwd=tree, env=env, check=True,
                           capture_output=True)
        async with Peer() as peer:
            actor = peer.add_actor("alice")
            first = await _serve_and_time(tree, env, port, actor)
            return {"first start": first, "restart": await _serve_and_time(tree, env, port, actor)}


def main() -> None:
    tree = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    print(f"{tree}; load average {os.getloadavg()[0]:.1f}")
    print(json.dumps(asyncio.run(measure(tree))))


if __name__ == "__main__":
    main()
