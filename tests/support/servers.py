"""Real `madeopen` processes on loopback, and the CLI run as a subprocess with the same settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# free_port is also imported from here by tests that only need a port (its home is processes).
from tests.support.processes import checkout_pythonpath, free_port, spawn, stop_process, wait_until_answers

# The real CLI with the tests' cheap password hashing (tests/support/costs.py).
MADEOPEN = [sys.executable, "-m", "tests.support.node_cli"]


@dataclass
class Node:
    """One node's settings; `start()` runs `madeopen run` for it, `cli()` runs other commands."""

    data_dir: Path
    database_url: str
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.domain}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MADEOPEN_")}
        env["PYTHONPATH"] = checkout_pythonpath()
        env.update(
            MADEOPEN_DOMAIN=self.domain,
            MADEOPEN_SCHEME="http",
            MADEOPEN_HOST="127.0.0.1",
            MADEOPEN_PORT=str(self.port),
            MADEOPEN_DATABASE_URL=self.database_url,
            MADEOPEN_DATA_DIR=str(self.data_dir),
            MADEOPEN_ALLOW_PRIVATE_ADDRESSES="on",
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*MADEOPEN, *args], env=self.env(), capture_output=True, text=True, timeout=120, cwd=self.data_dir
        )
        if check and result.returncode != 0:
            raise AssertionError(f"madeopen {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def start(self, role: str = "run", timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = spawn(
            [*MADEOPEN, role], cwd=self.data_dir, log_path=self.data_dir / f"{role}.log", env=self.env()
        )
        try:
            wait_until_answers(
                self.process,
                f"{self.base_url}/.well-known/nodeinfo",
                timeout=timeout,
                name=f"madeopen {role}",
                log_text=lambda: self.log_text(role),
            )
        except BaseException:
            # A node that did not come up is stopped here: left running, its workers would claim the rows
            # of later tests sharing the database pool (seen under heavy load on PostgreSQL).
            self.stop()
            raise

    def log_text(self, role: str = "run") -> str:
        path = self.data_dir / f"{role}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop_process(self.process, sig)
            self.process = None
