"""fediverse-pasture's verify-actor app as a real process on loopback, probing one of our actors.

`VerifyActor.start()` runs this module as a script (`python -m`, see `processes.ScriptServer`): it
builds pasture's Quart app with `fediverse_pasture.verify_actor.build_app(False, domain, https=False,
timeout)` and serves it with Hypercorn on 127.0.0.1 only (pasture's own CLI binds 0.0.0.0, and its
`get_app()` factory is broken in 0.2.x: it calls `build_app` without the `timeout` argument). A
separate process keeps pasture's import-time `logging.basicConfig(level=DEBUG)` and its `data.toml`
(written to the working directory: six freshly generated RSA key pairs) out of the test process.

Pasture's actors live at `http://127.0.0.1:PORT/<name>` (alice, bob, claire, dean, emily, frank, plus
the application actor `actor`), keys at `http://127.0.0.1:PORT/<name>#main`; the verify form is
`POST /` with `actor_uri`, answered as JSON when the request accepts JSON.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar

from tests.support.processes import ScriptServer, block_jsonld_contexts

ACTOR_NAMES = ("alice", "bob", "claire", "dean", "emily", "frank")


@dataclass
class VerifyActor(ScriptServer):
    timeout: float = 10.0  # pasture's per-request timeout while probing our server

    module: ClassVar[str] = __name__  # this file: the test side and the process side are one module
    label: ClassVar[str] = "pasture verify_actor"
    ready_path: ClassVar[str] = "/actor"  # the application actor needs no signature: 200 means the app is up
    log_name: ClassVar[str] = "pasture.log"

    def script_args(self) -> list[str]:
        return [str(self.port), str(self.timeout)]

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

    from fediverse_pasture.verify_actor import build_app

    # Pasture reads key owners through bovine's JSON-LD compaction, whose document loader fetches
    # contexts it does not bundle (w3id.org/security/v1, ...) with a 60 s timeout. Keep the test
    # hermetic: refuse every context at once, so bovine takes its own fallback (an empty context, then
    # the plain `publicKey` lookup) exactly as it does when the network fails.
    block_jsonld_contexts()
    app = build_app(False, f"127.0.0.1:{port}", False, timeout)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = "-"
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]))
