"""Operator-editable node settings: registration mode, name, description and white-label branding
(accent colour, logo, favicon, footer links, and whether the footer says "Powered by Made Open").

Stored as rows of ``node_settings`` (key -> text). A key that is absent means the default: the node name
then comes from ``MADEOPEN_NODE_NAME``. Every page shows the branding, so the web layer reads these
through ``SettingsCache`` (one query per few seconds per process, dropped at once by the process that
saves a change; other processes of a scaled-out node see it after ``CACHE_SECONDS``).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import media
from actors.errors import InvalidInput
from storage.engine import SessionMaker
from storage.models import Account, NodeSetting

REGISTRATION_MODES = ("open", "approval", "closed")
DEFAULT_REGISTRATION_MODE = "closed"  # nobody signs up until an admin decides otherwise
DEFAULT_ACCENT = "#2457c5"
MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_FOOTER_LINKS = 10
MAX_LINK_LABEL = 60
MAX_URL = 2000
CACHE_SECONDS = 5.0
_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

# Row keys.
NAME, DESCRIPTION, REGISTRATION, ACCENT, LOGO, FOOTER_LINKS = (
    "node_name", "node_description", "registration_mode", "accent_color", "logo", "footer_links",
)
FAVICON, POWERED_BY = "favicon", "show_powered_by"
EMAIL_REQUIRED = "signup_email_required"  # "0": sign-ups may leave the mail address out
SETUP_DONE = "setup_completed"  # written once by the first-run page; its primary key makes a second run fail


class InvalidFields(InvalidInput):
    """Form input with one message per field; nothing was changed."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class FooterLink:
    label: str
    url: str


@dataclass(frozen=True)
class NodeSettings:
    name: str | None = None  # None: the MADEOPEN_NODE_NAME default
    description: str = ""
    registration_mode: str = DEFAULT_REGISTRATION_MODE
    accent_color: str = DEFAULT_ACCENT
    logo: str | None = None  # media file name
    favicon: str | None = None  # media file name; the browser tab's icon on every page
    footer_links: tuple[FooterLink, ...] = ()
    show_powered_by: bool = True  # white label: the operator may drop "Powered by Made Open"
    # Sign-ups give a mail address and confirm it before they can log in (actors.account_mail).
    email_required: bool = True
    has_admin: bool = False

    def footer_links_text(self) -> str:
        return "\n".join(f"{link.label} | {link.url}" for link in self.footer_links)


@dataclass(frozen=True)
class SettingsUpdate:
    name: str
    description: str
    registration_mode: str
    accent_color: str
    footer_links: str  # one "Label | https://…" per line
    logo: media.Upload | None = None
    remove_logo: bool = False
    favicon: media.Upload | None = None
    remove_favicon: bool = False
    show_powered_by: bool | None = None  # None: as it was (a form or script that does not send it)
    email_required: bool | None = None  # None: as it was


@dataclass
class _Checked:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


async def load(session: AsyncSession) -> NodeSettings:
    rows = {key: value for key, value in await session.execute(select(NodeSetting.key, NodeSetting.value))}
    has_admin = await session.scalar(select(Account.actor_id).where(Account.is_admin.is_(True)).limit(1))
    mode = rows.get(REGISTRATION, DEFAULT_REGISTRATION_MODE)
    accent = rows.get(ACCENT, DEFAULT_ACCENT)
    return NodeSettings(
        name=rows.get(NAME) or None,
        description=rows.get(DESCRIPTION, ""),
        registration_mode=mode if mode in REGISTRATION_MODES else DEFAULT_REGISTRATION_MODE,
        accent_color=accent if _COLOUR_RE.match(accent) else DEFAULT_ACCENT,
        logo=rows.get(LOGO) or None,
        favicon=rows.get(FAVICON) or None,
        footer_links=_load_links(rows.get(FOOTER_LINKS, "[]")),
        show_powered_by=rows.get(POWERED_BY, "1") != "0",
        email_required=rows.get(EMAIL_REQUIRED, "1") != "0",
        has_admin=has_admin is not None,
    )


def _load_links(raw: str) -> tuple[FooterLink, ...]:
    try:
        items = json.loads(raw)
        return tuple(FooterLink(str(item["label"]), str(item["url"])) for item in items)
    except (ValueError, TypeError, KeyError):
        return ()


async def _put(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(NodeSetting, key)
    if row is None:
        session.add(NodeSetting(key=key, value=value))
    else:
        row.value = value


def check_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("enter a name for this node")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"too long: at most {MAX_NAME} characters")
    return name


def check_colour(raw: str) -> str:
    colour = raw.strip()
    if not _COLOUR_RE.match(colour):
        raise InvalidInput("use a colour in the form #rrggbb, for example #2457c5")
    return colour.lower()


def check_url(raw: str) -> str:
    url = raw.strip()
    if len(url) > MAX_URL:
        raise InvalidInput(f"URL too long: at most {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise InvalidInput(f"{url!r} is not a web address: it must start with http:// or https://")
    return url


def parse_footer_links(text: str) -> tuple[FooterLink, ...]:
    links = []
    lines = [line.strip() for line in text.splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        label, bar, url = line.partition("|")  # the first bar: a label has none, an address may
        label = " ".join(label.split())
        if not bar or not label or not url.strip():
            raise InvalidInput(f"line {number}: write a label, a bar and a web address, like 'Blog | https://…'")
        if len(label) > MAX_LINK_LABEL:
            raise InvalidInput(f"line {number}: label too long, at most {MAX_LINK_LABEL} characters")
        try:
            links.append(FooterLink(label, check_url(url)))
        except InvalidInput as exc:
            raise InvalidInput(f"line {number}: {exc.message}") from None
    if len(links) > MAX_FOOTER_LINKS:
        raise InvalidInput(f"at most {MAX_FOOTER_LINKS} links")
    return tuple(links)


async def save(session: AsyncSession, update: SettingsUpdate, media_dir: Path) -> list[str]:
    """Validate every field, then write them all (or nothing). Returns media files to discard after commit."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    checks = {
        NAME: lambda: check_name(update.name),
        DESCRIPTION: lambda: _check_description(update.description),
        REGISTRATION: lambda: _check_mode(update.registration_mode),
        ACCENT: lambda: check_colour(update.accent_color),
        FOOTER_LINKS: lambda: json.dumps(
            [{"label": link.label, "url": link.url} for link in parse_footer_links(update.footer_links)]
        ),
    }
    for key, check in checks.items():
        try:
            values[key] = check()
        except InvalidInput as exc:
            errors[key] = exc.message
    images = {LOGO: (update.logo, update.remove_logo), FAVICON: (update.favicon, update.remove_favicon)}
    for key, (upload, remove) in images.items():
        if upload is not None and not remove:
            try:
                media.check_image(upload)
            except InvalidInput as exc:
                errors[key] = exc.message
    if errors:
        raise InvalidFields(errors)

    current = await load(session)
    discard: list[str] = []
    for key, (upload, remove) in images.items():
        if remove or upload is not None:
            values[key] = media.store_image(media_dir, upload) if upload and not remove else ""
            if getattr(current, key):
                discard.append(getattr(current, key))
    if update.show_powered_by is not None:
        values[POWERED_BY] = "1" if update.show_powered_by else "0"
    if update.email_required is not None:
        values[EMAIL_REQUIRED] = "1" if update.email_required else "0"
    for key, value in values.items():
        await _put(session, key, value)
    return discard


def _check_description(raw: str) -> str:
    text = raw.strip().replace("\r\n", "\n")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(f"too long: at most {MAX_DESCRIPTION} characters")
    return text


def _check_mode(raw: str) -> str:
    if raw not in REGISTRATION_MODES:
        raise InvalidInput(f"choose one of: {', '.join(REGISTRATION_MODES)}")
    return raw


async def set_name(session: AsyncSession, name: str) -> None:
    await _put(session, NAME, check_name(name))


async def mark_setup_done(session: AsyncSession) -> None:
    """Insert the first-run marker; a concurrent second first run fails on its primary key."""
    session.add(NodeSetting(key=SETUP_DONE, value="1"))
    await session.flush()


# Colours: the accent is whatever the operator likes; text on it and links in it must stay readable
# (WCAG AA 4.5:1), so both are derived here rather than trusted.
def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (one of them always reaches 4.5:1)."""
    return "#ffffff" if contrast(colour, "#ffffff") >= contrast(colour, "#000000") else "#000000"


def readable_on_white(colour: str) -> str:
    """``colour``, darkened just enough to reach 4.5:1 on white (links and buttons)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for _ in range(100):
        candidate = f"#{r:02x}{g:02x}{b:02x}"
        if contrast(candidate, "#ffffff") >= 4.6:
            return candidate
        r, g, b = int(r * 0.92), int(g * 0.92), int(b * 0.92)
    return "#000000"


class SettingsCache:
    """The settings every page needs, re-read at most every ``ttl`` seconds by this process."""

    def __init__(self, sessions: SessionMaker, ttl: float = CACHE_SECONDS) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._value: NodeSettings | None = None
        self._loaded_at = 0.0

    async def get(self) -> NodeSettings:
        if self._value is None or time.monotonic() - self._loaded_at > self._ttl:
            async with self._sessions() as session:
                self._value = await load(session)
            self._loaded_at = time.monotonic()
        return self._value

    def invalidate(self) -> None:
        self._value = None
