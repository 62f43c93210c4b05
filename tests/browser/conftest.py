"""Browser tests: Debian's Chromium driven by Playwright against a real `madeopen run` node (SQLite).

Chromium comes from apt (`make browser-deps`), never from `playwright install`; axe-core comes from npm
into .cache/axe. Screenshots go to test-output/screenshots/ (gitignored).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.databases import SqliteTemplate, fresh_sqlite
from tests.support.servers import Node

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
PASSWORD = "correct horse battery"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra: pip install -e '.[test]'")


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is missing: `make browser-deps` installs it (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run to its end on an event loop of its own in another thread: Playwright's sync API keeps an
    event loop in the test's."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


def migrated_sqlite(directory: Path, template: SqliteTemplate) -> str:
    """The URL of a new SQLite file in ``directory``, a copy of the run's migrated template, for a node to
    start on without migrating."""
    return run_async(fresh_sqlite(directory, template=template))


@pytest.fixture
def node(tmp_path: Path, sqlite_template: SqliteTemplate) -> Iterator[Node]:
    """A fresh node (its own SQLite file and data dir): no admin yet. The file is a copy of the run's
    migrated template, as in the multi-node tests: migrating at start-up took ~2.4 s of CPU per test
    (starting from an empty database is tests/madeopen/test_process.py's)."""
    running = Node(data_dir=tmp_path / "node", database_url=migrated_sqlite(tmp_path, sqlite_template))
    running.start()
    yield running
    running.stop()


class Visitor:
    """One browser profile (cookies) on the node, with helpers for the pages under test."""

    def __init__(self, browser: object, node: Node, *, javascript: bool = True) -> None:
        self.node = node
        self.context = browser.new_context(  # type: ignore[attr-defined]
            viewport=DESKTOP, base_url=node.base_url, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        # What the Content-Security-Policy blocked (web/security_headers.py): every check asserts none.
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: object) -> None:
        text = str(message.text)  # type: ignore[attr-defined]
        if "Content Security Policy" in text:
            self.csp_violations.append(f"{self.page.url}: {text}")

    def goto(self, path: str) -> object:
        return self.page.goto(path)

    def fill(self, fields: dict[str, str]) -> None:
        for label, value in fields.items():
            self.page.get_by_label(label, exact=True).fill(value)

    def submit(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()

    def first_run(self, admin: str = "ada", node_name: str = "Riverside Makers") -> None:
        self.goto("/")
        self.fill({"Name of this node": node_name, "Your admin name": admin, "Password": PASSWORD,
                   "Password again": PASSWORD})
        self.submit("Create the admin account")

    def log_in(self, name: str, password: str = PASSWORD) -> None:
        self.goto("/login")
        self.fill({"Name": name, "Password": password})
        self.submit("Log in")

    def log_out(self) -> None:
        self.submit("Log out")

    def set_registration(self, mode_label: str) -> None:
        self.goto("/admin/settings")
        self.page.get_by_label(mode_label, exact=True).check()
        self.submit("Save settings")

    def screenshot(self, name: str) -> None:
        """The current page, full length, at desktop width and at 360 px."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("360", PHONE)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(DESKTOP)

    def assert_accessible(self) -> None:
        """axe-core finds no serious or critical violation on the current page (desktop and 360 px)."""
        if not AXE.exists():
            pytest.fail(f"axe-core is missing at {AXE}: `make browser-deps` installs it with npm")
        for size in (DESKTOP, PHONE):
            self.page.set_viewport_size(size)
            # Evaluated over the DevTools protocol, which the page's CSP does not govern (a <script> tag,
            # as add_script_tag makes, would be refused by script-src 'self', as any injected script is).
            self.page.evaluate(AXE.read_text())
            violations = self.page.evaluate(
                """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""
            )
            assert violations == [], f"{self.page.url} at {size['width']} px:\n" + "\n".join(violations)
        self.page.set_viewport_size(DESKTOP)
        assert self.csp_violations == [], "the Content-Security-Policy blocked:\n" + "\n".join(self.csp_violations)

    def fits_width(self) -> None:
        """Nothing scrolls sideways at 360 px (tables scroll inside their own box)."""
        self.page.set_viewport_size(PHONE)
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.page.set_viewport_size(DESKTOP)
        assert overflow <= 0, f"{self.page.url} is {overflow}px wider than a 360 px screen"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor(browser: object, node: Node) -> Iterator[Visitor]:
    made = Visitor(browser, node)
    yield made
    made.close()


@pytest.fixture
def other_visitor(browser: object, node: Node) -> Iterator[Visitor]:
    made = Visitor(browser, node)
    yield made
    made.close()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def create_user(node: Node, name: str, password: str = PASSWORD) -> None:
    secret = node.data_dir / f"{name}.password"
    secret.write_text(password + "\n")
    os.chmod(secret, 0o600)
    node.cli("user", "create", name, "--password-file", str(secret), check=True)
