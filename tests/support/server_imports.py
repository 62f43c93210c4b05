"""Which modules a server process has imported once started, read in a fresh interpreter (issue #13: what
an idle node never uses is not imported, to keep its memory down)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
_CODE = ("import json, sys, madeopen.app, madeopen.cli; from storage.engine import create_engine; "
         "create_engine('sqlite+aiosqlite:///:memory:'); print(json.dumps(sorted(sys.modules)))")


def server_modules(prefix: str) -> list[str]:
    """The modules named ``prefix…`` that importing the server's modules and making a SQLite engine loads."""
    result = subprocess.run([sys.executable, "-c", _CODE], cwd=CHECKOUT, capture_output=True, text=True, check=True)
    return [name for name in json.loads(result.stdout) if name.startswith(prefix)]
