"""Settings from the environment, optionally a TOML file named by ``MADEOPEN_CONFIG`` (DESIGN.md §3).

The environment wins over the file. Invalid values stop start-up with one line naming the setting.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DOMAIN_RE = re.compile(r"^(?=.{1,253}(:|$))[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
_SUPPORTED_DRIVERS = {"sqlite+aiosqlite", "postgresql+asyncpg"}


DELETED_CONTENT_POLICIES = ("remove", "anonymise")


class SettingsError(ValueError):
    """A setting is invalid; the message names it and says why."""


@dataclass(frozen=True)
class Settings:
    domain: str = "localhost:8000"
    scheme: str = "https"
    database_url: str = "sqlite+aiosqlite:///./madeopen.db"
    host: str = "127.0.0.1"
    port: int = 8000
    allow_private_addresses: bool = False
    authorized_fetch: bool = False
    secret_key: str | None = None
    data_dir: Path = Path("./data")
    node_name: str = "Made Open"
    inbox_max_bytes: int = 256 * 1024
    upload_max_bytes: int = 8 * 1024 * 1024  # one image attached to a post (web/composer.py)
    delivery_lease_seconds: int = 300  # inbox_outbox.delivery.LEASE
    # How often idle workers look at their queues when nothing woke them (storage/queue_signal.py): they
    # are woken when rows are queued, so this only paces retries and catches a missed signal.
    queue_poll_seconds: float = 0.5
    # Retention of finished queue rows (storage.queue.prune_queues, run by the worker). Delivered rows
    # are only bookkeeping; dead ones stay longer so `madeopen deliveries` still shows recent failures.
    queue_retention_days: int = 7
    dead_retention_days: int = 30
    # Reverse proxies whose X-Forwarded-For is believed (web/client_address.py); empty: the socket peer is
    # the client. The nginx site in deploy/ needs 127.0.0.1 and ::1 here.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # open: federate with anyone not blocked; allowlist: only with the hosts on the allowlist
    # (Mastodon's LIMITED_FEDERATION_MODE; actors.blocks, `madeopen domain allow HOST`).
    federation_mode: str = "open"
    # A busy fan-out's signatures made by a helper process on another core (federation/signing_process.py).
    signing_process: bool = True

    @property
    def allowlist_mode(self) -> bool:
        return self.federation_mode == "allowlist"

    @property
    def signed_fetch_required(self) -> bool:
        """Authorized fetch, which allowlist mode implies: otherwise anyone could read our documents
        unsigned, and a server not on the list could too (Mastodon's LIMITED_FEDERATION_MODE likewise)."""
        return self.authorized_fetch or self.allowlist_mode

    # What happens to a deleted account's posts (inbox_outbox.services.account_deletion): remove | anonymise.
    deleted_account_content: str = "remove"
    # Outgoing mail (actors.mail): smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465
    # (implicit TLS). None: mails are written as .eml files under data_dir/mail and the path is logged.
    smtp_url: str | None = None
    mail_from: str | None = None  # None: "<node_name> <noreply@domain without port>"

    @property
    def sender(self) -> str:
        """The From header of every mail."""
        return self.mail_from or f"{self.node_name} <noreply@{self.domain.split(':')[0]}>"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def delivery_lease(self) -> timedelta:
        return timedelta(seconds=self.delivery_lease_seconds)

    @property
    def queue_retention(self) -> timedelta:
        return timedelta(days=self.queue_retention_days)

    @property
    def dead_retention(self) -> timedelta:
        return timedelta(days=self.dead_retention_days)


# variable name -> (field, parser)
def _parse_bool(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name}: expected on/off (true/false, 1/0), got {raw!r}")


def _parse_port(name: str, raw: object) -> int:
    try:
        port = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{name}: expected a port number 1-65535, got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name}: port must be between 1 and 65535, got {port}")
    return port


def _parse_positive(name: str, raw: object) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{name}: expected a positive whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name}: must be positive, got {value}")
    return value


def _parse_seconds(name: str, raw: object) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if not 0 < value < float("inf"):
        raise SettingsError(f"{name}: must be positive, got {raw!r}")
    return value


def _parse_scheme(name: str, raw: object) -> str:
    text = str(raw).strip().lower()
    if text not in {"http", "https"}:
        raise SettingsError(f"{name}: must be 'https' (or 'http' for local development), got {raw!r}")
    return text


def _parse_domain(name: str, raw: object) -> str:
    text = str(raw).strip().lower()
    if not _DOMAIN_RE.match(text) or ".." in text:
        raise SettingsError(f"{name}: expected a host name with optional :port (e.g. social.example.org), got {raw!r}")
    if ":" in text:
        _parse_port(name, text.rsplit(":", 1)[1])
    return text


def _parse_database_url(name: str, raw: object) -> str:
    text = str(raw).strip()
    try:
        url = make_url(text)
    except ArgumentError:
        raise SettingsError(f"{name}: not a database URL: {raw!r}") from None
    if url.drivername not in _SUPPORTED_DRIVERS:
        raise SettingsError(
            f"{name}: unsupported driver {url.drivername!r}; use sqlite+aiosqlite:///path or postgresql+asyncpg://..."
        )
    return text


def _parse_federation_mode(name: str, raw: object) -> str:
    text = str(raw).strip().lower()
    if text not in {"open", "allowlist"}:
        raise SettingsError(f"{name}: must be 'open' or 'allowlist', got {raw!r}")
    return text


def _parse_deleted_content(name: str, raw: object) -> str:
    text = str(raw).strip().lower()
    if text not in DELETED_CONTENT_POLICIES:
        raise SettingsError(f"{name}: must be one of {', '.join(DELETED_CONTENT_POLICIES)}, got {raw!r}")
    return text


def _parse_text(name: str, raw: object) -> str:
    text = str(raw).strip()
    if not text:
        raise SettingsError(f"{name}: must not be empty")
    return text


def _parse_networks(name: str, raw: object) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR blocks (``127.0.0.1,::1,10.0.0.0/8``); a TOML list works too.
    Empty means none. Host bits in a block are dropped (``10.0.0.5/8`` is ``10.0.0.0/8``)."""
    items = raw if isinstance(raw, list) else str(raw).split(",")
    networks = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name}: expected comma-separated IP addresses or CIDR blocks (e.g. 127.0.0.1,::1), got {text!r}"
            ) from None
    return tuple(dict.fromkeys(networks))


def _parse_smtp_url(name: str, raw: object) -> str:
    text = str(raw).strip()
    parts = urlsplit(text)
    if parts.scheme not in {"smtp", "smtps"}:
        raise SettingsError(f"{name}: expected smtp://user:pass@host:587 or smtps://user:pass@host:465, got scheme {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(f"{name}: the port is not a number 1-65535") from None
    if not parts.hostname or port == 0:
        raise SettingsError(f"{name}: expected smtp://user:pass@host:587 or smtps://user:pass@host:465 (no host given)")
    return text


def _parse_mail_from(name: str, raw: object) -> str:
    text = _parse_text(name, raw)
    _display, address = parseaddr(text)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise SettingsError(f"{name}: expected an address like 'Made Open <noreply@example.org>', got {raw!r}")
    return text


_FIELDS: dict[str, tuple[str, object]] = {
    "MADEOPEN_DOMAIN": ("domain", _parse_domain),
    "MADEOPEN_SCHEME": ("scheme", _parse_scheme),
    "MADEOPEN_DATABASE_URL": ("database_url", _parse_database_url),
    "MADEOPEN_HOST": ("host", _parse_text),
    "MADEOPEN_PORT": ("port", _parse_port),
    "MADEOPEN_ALLOW_PRIVATE_ADDRESSES": ("allow_private_addresses", _parse_bool),
    "MADEOPEN_AUTHORIZED_FETCH": ("authorized_fetch", _parse_bool),
    "MADEOPEN_SECRET_KEY": ("secret_key", _parse_text),
    "MADEOPEN_DATA_DIR": ("data_dir", lambda n, raw: Path(_parse_text(n, raw))),
    "MADEOPEN_NODE_NAME": ("node_name", _parse_text),
    "MADEOPEN_INBOX_MAX_BYTES": ("inbox_max_bytes", _parse_positive),
    "MADEOPEN_UPLOAD_MAX_BYTES": ("upload_max_bytes", _parse_positive),
    "MADEOPEN_DELIVERY_LEASE_SECONDS": ("delivery_lease_seconds", _parse_positive),
    "MADEOPEN_QUEUE_POLL_SECONDS": ("queue_poll_seconds", _parse_seconds),
    "MADEOPEN_QUEUE_RETENTION_DAYS": ("queue_retention_days", _parse_positive),
    "MADEOPEN_DEAD_RETENTION_DAYS": ("dead_retention_days", _parse_positive),
    "MADEOPEN_TRUSTED_PROXIES": ("trusted_proxies", _parse_networks),
    "MADEOPEN_FEDERATION_MODE": ("federation_mode", _parse_federation_mode),
    "MADEOPEN_SIGNING_PROCESS": ("signing_process", _parse_bool),
    "MADEOPEN_DELETED_ACCOUNT_CONTENT": ("deleted_account_content", _parse_deleted_content),
    "MADEOPEN_SMTP_URL": ("smtp_url", _parse_smtp_url),
    "MADEOPEN_MAIL_FROM": ("mail_from", _parse_mail_from),
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), then the environment; validate every value."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    config_path = env.get("MADEOPEN_CONFIG")
    if config_path:
        raw.update(_read_toml(config_path))
    raw.update({key: value for key, value in env.items() if key in _FIELDS})
    values = {}
    for key, value in raw.items():
        field, parse = _FIELDS[key]
        values[field] = parse(key, value)  # type: ignore[operator]
    if "domain" not in values and "port" in values:
        # A second local node started with only MADEOPEN_PORT must not mint ids on the first node's
        # localhost:8000 (issue 16): without an explicit domain, ids follow the listening port.
        values["domain"] = f"localhost:{values['port']}"
    return Settings(**values)


def _read_toml(path: str) -> dict[str, object]:
    """Keys in the file are the variable names without the prefix, any case (``domain = "x"``)."""
    import tomllib  # here: only a node with MADEOPEN_CONFIG reads TOML (issue #13, bench/rss.py)

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"MADEOPEN_CONFIG: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"MADEOPEN_CONFIG: {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        # tomllib decodes the bytes itself and lets this escape; TOML files must be UTF-8.
        raise SettingsError(f"MADEOPEN_CONFIG: {path} is not UTF-8 text (TOML files must be UTF-8)") from None
    out: dict[str, object] = {}
    for key, value in data.items():
        var = "MADEOPEN_" + key.upper()
        if var not in _FIELDS:
            raise SettingsError(f"MADEOPEN_CONFIG: unknown setting {key!r} in {path}")
        out[var] = value
    return out
