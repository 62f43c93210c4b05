"""Why an outbound request failed: the ``FetchError`` family, and aiohttp's failures mapped onto it.

Callers (the remote-actor cache, the delivery worker, lookups) catch these and show ``str(error)``: one
line naming the URL and the reason, whatever a remote server put in its answer.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from federation.http_guard import BlockedAddress


# Resolution failures get their own wording where aiohttp tells them apart (newer 3.10.x on).
_DNS_ERROR: type[aiohttp.ClientConnectorError] | None = getattr(aiohttp, "ClientConnectorDNSError", None)


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace (remote servers choose some of these strings) and bound the length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class FetchError(Exception):
    """An outbound request failed; ``str()`` is one human-readable line naming the URL."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = one_line(url)
        self.reason = one_line(reason)
        super().__init__(f"{self.url}: {self.reason}")


class AddressNotAllowed(FetchError):
    """The host is, or resolves to, a private or special-purpose address."""


class HostNotAllowed(FetchError):
    """This node's domain policy (blocks, allowlist mode) forbids talking to the host."""


class BadURL(FetchError):
    """Not an absolute http(s) URL we are willing to request."""


class ResponseTooLarge(FetchError):
    """The response body exceeds the size limit."""


class TooManyRedirects(FetchError):
    """Too many redirects, or a redirect loop."""


class BadContentType(FetchError):
    """The response is not of an accepted media type."""


class IdMismatch(FetchError):
    """The document's ``id`` is not the URL it was fetched from (CVE-2024-23832)."""


class BadJSON(FetchError):
    """The body is not valid UTF-8 JSON, not an object, or nested too deeply."""


class HTTPStatusError(FetchError):
    """The server answered with a non-2xx status."""

    def __init__(self, url: str, status: int, reason: str | None = None) -> None:
        self.status = status
        super().__init__(url, reason or f"server answered HTTP {status}")


class FetchTimeout(FetchError):
    """No complete answer within the time limit."""


class FetchConnectionError(FetchError):
    """The connection failed: DNS, refused, reset, TLS, broken response."""


@contextmanager
def translated_errors(url: str, timeout_seconds: float) -> Iterator[None]:
    """Map aiohttp/asyncio failures onto the FetchError hierarchy (FetchErrors pass through).

    ``timeout_seconds`` is the request's whole time budget, named in the timeout message.
    """
    try:
        yield
    except FetchError:
        raise
    except TimeoutError:  # before OSError: TimeoutError is one
        raise FetchTimeout(url, f"no complete answer within {timeout_seconds:g} s") from None
    except BlockedAddress as exc:
        raise AddressNotAllowed(url, exc.reason) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedAddress):
            raise AddressNotAllowed(url, exc.os_error.reason) from None
        cause = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
        if _DNS_ERROR is not None and isinstance(exc, _DNS_ERROR):
            raise FetchConnectionError(url, f"cannot resolve {exc.host}: {cause}") from exc
        raise FetchConnectionError(url, f"cannot connect to {exc.host}:{exc.port}: {cause}") from exc
    except aiohttp.InvalidURL as exc:
        raise BadURL(url, f"invalid URL ({exc})") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise FetchConnectionError(url, str(exc) or type(exc).__name__) from exc
