"""Test servers as real processes on loopback: start one, wait until it answers, stop it.

`servers.Node` (our `madeopen`) uses the functions; `bovine_actor.BovineActorProcess` and
`pasture.VerifyActor` (foreign implementations, each a support module run as a script) are
`ScriptServer`s. Those script processes import this module too (for `block_jsonld_contexts`), so it
imports nothing of ours and leaves anything heavy (bovine) to the function that needs it.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

# The checkout: put on a script process's path so that `python -m tests.support.<module>` imports.
REPO_ROOT = Path(__file__).resolve().parents[2]


def checkout_pythonpath() -> str:
    """PYTHONPATH for a child process run outside the checkout: this checkout first, so a second worktree
    (or a clone sharing another checkout's editable venv) runs its own code, not the venv's."""
    return os.pathsep.join([str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


# How much of a script server's log goes into a failure message: its last lines say why it died.
LOG_TAIL_CHARS = 4000


_PORTS = random.SystemRandom()  # not the `random` module's state: a plugin may seed it alike in every worker
_LOWEST_PORT = 10_000


def _ephemeral_ports_start() -> int:
    """Where the kernel's range of source ports for outbound connections begins (Linux; else IANA's)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49_152


def free_port() -> int:
    """A loopback port nothing listens on now, chosen below the kernel's ephemeral range.

    A port from ``bind(("127.0.0.1", 0))`` lies in the ephemeral range, so between our closing it and a
    server binding it, any outbound connection on the machine (the other test workers' HTTP clients) can
    take it as its source port: a node then died with "address already in use" in a full run. Below that
    range only another listener can take it, and a random pick among ~20,000 ports keeps that rare.
    """
    start = _ephemeral_ports_start()
    if start - _LOWEST_PORT < 1_000:  # an unusual range: fall back to the kernel's choice
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    for _ in range(200):
        port = _PORTS.randrange(_LOWEST_PORT, start)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use, or connections on it still in TIME_WAIT
                continue
            return port
    raise RuntimeError(f"no free loopback port between {_LOWEST_PORT} and {start}")


def spawn(
    argv: Sequence[str], *, cwd: Path, log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in ``cwd`` with stdout and stderr appended to ``log_path``."""
    # The child holds its own copy of the log's descriptor, so ours can be closed at once.
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(argv), env=None if env is None else dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=cwd
        )


def wait_until_answers(
    process: subprocess.Popen[bytes], url: str, *, timeout: float, name: str, log_text: Callable[[], str]
) -> None:
    """Return once a GET of ``url`` succeeds (2xx; urllib follows redirects).

    Raises AssertionError, with ``log_text()``, when the process exits first, or when it has not
    answered within ``timeout`` seconds (it is stopped then, so a hung server does not outlive the test).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited early:\n{log_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:  # refused while it starts, or an HTTP error status: not serving yet
            time.sleep(0.1)
    stop_process(process)
    raise AssertionError(f"{name} did not answer within {timeout}s:\n{log_text()}")


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` (a graceful stop by default) and wait; kill what is still running after 10 s."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class ScriptServer:
    """A server on ``127.0.0.1:port`` that is a support module run as ``python -m MODULE PORT ...``.

    A subclass names the module, a path that answers 200 to an unsigned GET once the server is up,
    and its log file; the process runs in ``workdir``, where the foreign libraries write their files.
    """

    workdir: Path
    port: int = 0  # 0: a free port is picked at start
    process: subprocess.Popen[bytes] | None = None

    module: ClassVar[str]  # e.g. "tests.support.pasture"
    label: ClassVar[str]  # what failure messages call it
    ready_path: ClassVar[str]
    log_name: ClassVar[str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / self.log_name

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def script_args(self) -> list[str]:
        """The module's command-line arguments; the port comes first."""
        return [str(self.port)]

    def start(self, startup_timeout: float = 20.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        # The script runs in workdir, not the checkout: name the checkout on its path so it can import
        # this module (the test process has it through pytest's rootdir; the venv only has our packages).
        env = {**os.environ, "PYTHONPATH": checkout_pythonpath()}
        self.process = spawn(
            [sys.executable, "-m", self.module, *self.script_args()], cwd=self.workdir, log_path=self.log_path, env=env
        )
        wait_until_answers(
            self.process,
            f"{self.base_url}{self.ready_path}",
            timeout=startup_timeout,
            name=self.label,
            log_text=lambda: self.log_text()[-LOG_TAIL_CHARS:],
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def block_jsonld_contexts(served: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Keep bovine's JSON-LD processing off the network, for a script process that uses bovine.

    bovine's document loader fetches the contexts it does not bundle (w3id.org/security/v1, ...) with
    a 60 s timeout. Instead, the contexts in ``served`` (URL -> the ``@context`` value to answer) come
    from memory and every other URL is refused at once, which bovine takes as it takes a network
    failure: an empty context.
    """
    import bovine.jsonld  # here: the test process never needs bovine, and it is slow to import

    contexts = {url.rstrip("/"): dict(context) for url, context in (served or {}).items()}

    def offline_loader(**_kwargs: object) -> Callable[[str, object], dict[str, object]]:
        def load(url: str, _options: object) -> dict[str, object]:
            context = contexts.get(url.rstrip("/"))
            if context is None:
                raise OSError(f"offline test: not fetching {url}")
            return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                    "document": {"@context": context}}

        return load

    bovine.jsonld.requests_document_loader = offline_loader  # type: ignore[assignment]


def finished_pid() -> int:
    """The pid of a process that has run and been reaped: nothing runs under it (barring reuse)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
