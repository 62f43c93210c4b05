"""Which URLs the outbound client may request, and when two URLs name the same resource.

Every first URL and every redirect target is vetted here before a connection is opened (scheme,
credentials, literal private addresses: DESIGN.md "Standards", outbound requests). Resource identity
serves both the redirect-loop check and PROTOCOL.md "Validation": a fetched document's ``id`` must name
the URL it came from (Mastodon CVE-2024-23832).

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

from yarl import URL

from federation.http_errors import AddressNotAllowed, BadURL
from federation.http_guard import BlockedAddress, check_url_host


ResourceKey = tuple[str, str, int | None, str, str]


def checked_url(url: str | URL, *, allow_private_addresses: bool) -> URL:
    """Parse and vet a URL before any request (first hop and every redirect target); drop the fragment."""
    text = str(url)
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (ValueError, TypeError) as exc:
        raise BadURL(text, f"not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise BadURL(text, f"scheme {parsed.scheme or '(none)'!r} is not http or https")
    if not parsed.raw_host:
        raise BadURL(text, "URL has no host")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise BadURL(text, "URL carries credentials")  # aiohttp would send them as Basic auth
    if not allow_private_addresses:
        try:
            check_url_host(parsed.raw_host)
        except BlockedAddress as exc:
            raise AddressNotAllowed(text, exc.reason) from None
    return parsed.with_fragment(None)


def resource_key(url: URL) -> ResourceKey:
    """What identifies the resource a URL fetches: no fragment (never sent), normalised host/port/path."""
    return (
        url.scheme.lower(),
        (url.host or "").lower().rstrip("."),
        url.port,
        url.raw_path or "/",
        url.raw_query_string,
    )


def same_resource(claimed_id: object, fetched: URL) -> bool:
    """Does a document's ``id`` name the URL it was fetched from?

    Compared after URL normalisation (case of scheme/host, default port, percent-encoding) and without
    fragments: a fragment is never sent, so ``.../actor#main-key`` and ``.../actor`` are one fetch.
    """
    if not isinstance(claimed_id, str) or not claimed_id:
        return False
    try:
        claimed = URL(claimed_id)
    except (ValueError, TypeError):
        return False
    return claimed.is_absolute() and resource_key(claimed) == resource_key(fetched)
