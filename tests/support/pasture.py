"""fediverse-pasture's verify-actor app as a real process on loopback, probing one of our actors.

`VerifyActor.start()` runs this file as a script: it builds pasture's Quart app with
`fediverse_pasture.verify_actor.build_app(False, domain, https=False, timeout)` and serves it with
Hypercorn on 127.0.0.1 only (pasture's own CLI binds 0.0.0.0, and its `get_app()` factory is broken in
0.2.x: it calls `build_app` without the `timeout` argument). A separate process keeps pasture's
import-time `logging.basicConfig(level=DEBUG)` and its `data.toml` (written to the working directory:
six freshly generated RSA key pairs) out of the test process.

Pasture's actors live at `http://127.0.0.1:PORT/<name>` (alice, bob, claire, dean, emily, frank, plus
the application actor `actor`), keys at `http://127.0.0.1:PORT/<name>#main`; the verify form is
`POST /` with `actor_uri`, answered as JSON when the request accepts JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACTOR_NAMES = ("alice", "bob", "claire", "dean", "emily", "frank")


@dataclass
class VerifyActor:
    workdir: Path
    timeout: float = 10.0  # pasture's per-request timeout while probing our server
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "pasture.log"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, startup_timeout: float = 20.0) -> None:
        from tests.support.servers import free_port  # here: this file also runs as a bare script

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(self.port), str(self.timeout)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pasture verify_actor exited early:\n{self.log_text()[-4000:]}")
            try:
                # The application actor needs no signature; 200 means the app is up.
                with urllib.request.urlopen(f"{self.base_url}/actor", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"pasture verify_actor did not answer within {startup_timeout}s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def verify(self, actor_uri: str, timeout: float = 60.0) -> tuple[dict[str, Any], list[Any]]:
        """POST the form as pasture's runner/verify_actor.py does; returns (result table, message steps)."""
        request = urllib.request.Request(
            f"{self.base_url}/",
            data=urllib.parse.urlencode({"actor_uri": actor_uri}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read())
        return data["result"], json.loads(data["messages"])["steps"]


def _serve(port: int, timeout: float) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    import bovine.jsonld
    from fediverse_pasture.verify_actor import build_app

    # Pasture reads key owners through bovine's JSON-LD compaction, whose document loader fetches
    # contexts it does not bundle (w3id.org/security/v1, ...) with a 60 s timeout. Keep the test
    # hermetic: refuse at once, so bovine takes its own fallback (an empty context, then the plain
    # `publicKey` lookup) exactly as it does when the network fails.
    def offline_loader(**_kwargs: object):  # type: ignore[no-untyped-def]
        def refuse(url: str, _options: object) -> dict[str, object]:
            raise OSError(f"offline test: not fetching {url}")

        return refuse

    bovine.jsonld.requests_document_loader = offline_loader  # type: ignore[assignment]
    app = build_app(False, f"127.0.0.1:{port}", False, timeout)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = "-"
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]))
