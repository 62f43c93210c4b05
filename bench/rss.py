"""Idle resident memory of ``madeopen run`` (issue #13: ≤ 80 MB), reproducibly.

    .venv/bin/python bench/rss.py [--repeat 3] [--settle 3] [--unit deploy/madeopen.service] [--importtime | --layers]

For each run: a fresh SQLite database in a temporary directory is migrated by ``madeopen migrate`` (its
own process, so Alembic is never imported by the measured one), then ``madeopen run`` starts on a free
loopback port with the worktree's code (this script's parent directory is the working directory and
``PYTHONPATH``). Once ``GET /`` has answered, the script waits ``--settle`` seconds and reads ``VmRSS``
(and ``RssAnon``, ``RssFile``) from ``/proc/<pid>/status``, then stops the node with SIGTERM. The node is
then started again on the same data directory and measured the same way: that restart is the figure, as
every start of a deployed node but its first one is a restart (it finds the templates it compiled before
under ``$MADEOPEN_DATA_DIR/cache``); the first start is printed beside it.
Reported: each run and the median ``VmRSS``. ``--unit`` adds the ``Environment=`` settings of a systemd unit
to the measured process's environment (``deploy/madeopen.service``: as the deploy units run it, e.g.
``PYTHONOPTIMIZE=2``, ``MALLOC_ARENA_MAX=2``); when it sets ``PYTHONOPTIMIZE``, the worktree and the
virtualenv are first compiled with ``python -OO -m compileall``, the deploy's own step.

``--importtime`` instead writes ``python -X importtime`` of the measured process's start-up to
``rss-importtime.txt`` in the temporary directory's place (the current directory) for reading where
imports go. ``--layers`` instead imports what ``madeopen run`` imports in a fresh interpreter, one layer
at a time (``LAYERS``: the interpreter, asyncio with ssl, aiohttp, SQLAlchemy, ...), and prints the RSS
each layer adds: where the megabytes of an idle node come from before it starts.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MADEOPEN = "from madeopen.cli import main; raise SystemExit(main())"
# (label, modules imported; None: the ORM's mappers configured), in the order start-up needs them.
LAYERS: list[tuple[str, list[str] | None]] = [
    ("asyncio with ssl", ["asyncio", "ssl"]),
    ("aiohttp (client and server, the SSL contexts its connector makes)", ["aiohttp", "aiohttp.web"]),
    ("SQLAlchemy with its ORM, asyncio layer, aiosqlite", ["sqlalchemy.orm", "sqlalchemy.ext.asyncio",
                                                           "sqlalchemy.dialects.sqlite.aiosqlite"]),
    ("cryptography (Fernet cookies, RSA and Ed25519 keys)", ["cryptography.fernet", "aiohttp_session.cookie_storage",
                                                             "cryptography.hazmat.primitives.asymmetric.rsa",
                                                             "cryptography.hazmat.primitives.asymmetric.ed25519"]),
    ("Jinja2", ["jinja2"]),
    ("our ORM models (storage.models)", ["storage.models"]),
    ("the mappers configured", None),
    ("web.app (middlewares, sessions, the URL table, the inbox route)", ["web.app"]),
    ("the home page's modules (web.routes.home)", ["web.routes.home"]),
    ("madeopen.cli with the workers", ["madeopen.cli"]),
]
LAYERS_SCRIPT = """
import gc, json, sys
def rss():
    gc.collect()
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1])
out = [["the interpreter", rss()]]
for label, modules in json.loads(sys.argv[1]):
    if modules is None:
        from sqlalchemy.orm import configure_mappers
        configure_mappers()
    for name in modules or ():
        __import__(name)
    out.append([label, rss()])
print(json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unit_environment(unit: Path) -> dict[str, str]:
    """The variables a systemd unit's ``Environment=`` lines set (systemd.exec(5): space-separated, quoted)."""
    settings = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for assignment in shlex.split(line.removeprefix("Environment=")):
                key, _, value = assignment.partition("=")
                settings[key] = value
    return settings


UNIT_ENVIRONMENT: dict[str, str] = {}  # --unit's


def _environment(directory: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MADEOPEN_")}
    env.update(UNIT_ENVIRONMENT)
    env.update(
        PYTHONPATH=str(ROOT),
        MADEOPEN_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'node.db'}",
        MADEOPEN_DATA_DIR=str(directory / "data"),
        MADEOPEN_SCHEME="http",
        MADEOPEN_HOST="127.0.0.1",
        MADEOPEN_PORT=str(port),
        MADEOPEN_DOMAIN=f"127.0.0.1:{port}",
        MADEOPEN_SECRET_KEY="bench-rss-secret",
    )
    return env


def _status(pid: int) -> dict[str, int]:
    """The ``Rss*``/``VmRSS`` lines of /proc/<pid>/status, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            values[key] = int(rest.split()[0])
    return values


def _wait_for_answer(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"madeopen run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no answer from {url} within {timeout:.0f} s")


def _start_and_read(env: dict[str, str], port: int, settle: float, importtime: bool) -> dict[str, int]:
    flags = ["-X", "importtime"] if importtime else []
    stderr = open(Path.cwd() / "rss-importtime.txt", "w") if importtime else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, *flags, "-c", MADEOPEN, "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait_for_answer(f"http://127.0.0.1:{port}/", process)
        time.sleep(settle)
        return _status(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if importtime:
            stderr.close()


def measure(settle: float, *, importtime: bool = False) -> tuple[dict[str, int], dict[str, int]]:
    """The node's first start on a new data directory, then its restart on the same one (what every later
    start of a deployed node is: compiled templates kept under the data directory)."""
    with tempfile.TemporaryDirectory(prefix="madeopen-rss-") as tmp:
        directory = Path(tmp)
        port = _free_port()
        env = _environment(directory, port)
        subprocess.run([sys.executable, "-c", MADEOPEN, "migrate"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        first = _start_and_read(env, port, settle, importtime=False)
        return first, _start_and_read(env, port, settle, importtime)


def compile_as_deployed() -> None:
    """The units run with ``PYTHONOPTIMIZE=2`` after ``python -OO -m compileall`` (deploy/UPGRADING.md). Without
    those ``.opt-2.pyc`` files every start compiles every module from source (in a shell with
    ``PYTHONDONTWRITEBYTECODE``, every time), which leaves ~0.4 MB more in the heap: do the deploy's step."""
    # The whole checkout as the deploy compiles it (`compileall -q .`) but its hidden directories (a virtualenv
    # linked in, caches), then the virtualenv's packages where the interpreter finds them.
    checkout = ["-x", re.escape(str(ROOT)) + r"/\.", str(ROOT)]
    for targets in (checkout, [p for p in sys.path if p.endswith("site-packages")]):
        subprocess.run([sys.executable, "-OO", "-m", "compileall", "-q", *targets], check=True,
                       stdout=subprocess.DEVNULL)


def layers() -> None:
    """The RSS each import layer adds in a fresh interpreter (same environment as a measured run)."""
    import json

    with tempfile.TemporaryDirectory(prefix="madeopen-rss-") as tmp:
        env = _environment(Path(tmp), _free_port())
        done = subprocess.run([sys.executable, "-c", LAYERS_SCRIPT, json.dumps(LAYERS)], cwd=ROOT, env=env,
                              check=True, capture_output=True, text=True)
    before = 0
    for label, kilobytes in json.loads(done.stdout):
        print(f"  {(kilobytes - before) / 1024:5.1f} MB  {label} (total {kilobytes / 1024:.1f})")
        before = kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "Idle RSS of madeopen run.").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the first answer")
    parser.add_argument("--unit", type=Path, help="take the Environment= settings of this systemd unit")
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--layers", action="store_true", help="the RSS each import layer adds, then exit")
    args = parser.parse_args()
    if args.unit:
        UNIT_ENVIRONMENT.update(unit_environment(args.unit))
        print(f"with {args.unit}'s environment: {' '.join(f'{k}={v}' for k, v in UNIT_ENVIRONMENT.items())}")
    if args.layers:
        print(f"RSS added by each import layer in a fresh interpreter; Python {sys.version.split()[0]}")
        layers()
        return
    print(f"madeopen run, SQLite (migrated beforehand), VmRSS {args.settle:g} s after the first answer of GET /; "
          f"Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f}")
    if UNIT_ENVIRONMENT.get("PYTHONOPTIMIZE"):
        compile_as_deployed()
    if args.importtime:
        measure(args.settle, importtime=True)
        print(f"import times in {Path.cwd() / 'rss-importtime.txt'}")
        return
    firsts, readings = [], []
    for run in range(1, args.repeat + 1):
        first, values = measure(args.settle)
        firsts.append(first["VmRSS"])
        readings.append(values["VmRSS"])
        print(f"  run {run}: VmRSS {values['VmRSS'] / 1024:.1f} MB "
              f"(anonymous {values['RssAnon'] / 1024:.1f}, file {values['RssFile'] / 1024:.1f}); "
              f"its first start on a new data directory {first['VmRSS'] / 1024:.1f} MB")
    print(f"median VmRSS {statistics.median(readings) / 1024:.1f} MB of {len(readings)} runs "
          f"(first starts: {statistics.median(firsts) / 1024:.1f} MB)")


if __name__ == "__main__":
    main()
