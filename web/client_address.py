"""The client's address for policy (the log-in rate limit): the socket peer, or, behind a trusted reverse
proxy, the address that proxy saw, taken from ``X-Forwarded-For``. Use ``client_address.of(request)``
wherever an address decides something; ``request.remote`` alone is the proxy's address behind nginx.

The rules (``forwarded_client``; the proxies come from ``MADEOPEN_TRUSTED_PROXIES``):

- no trusted proxies, or the socket peer is not one of them: the socket peer. A header from anyone else
  is ignored: its sender wrote it.
- otherwise ``X-Forwarded-For`` (all its lines, in order, read as one comma-separated list) is walked from
  the right, skipping trusted proxies; the first address that is not one is the client. Entries left of it
  are never looked at: the client wrote those too.
- every entry the walk reaches must be a plain IPv4 or IPv6 address (what nginx's ``$remote_addr`` and
  ``$proxy_add_x_forwarded_for`` write); one that is not (empty, a name, ``unknown``, with a port) means the
  header cannot be believed, and the socket peer is used. So is it when there is no header.
- every entry trusted (a request from a proxy host itself): the left-most one.

Hand-written, not aio-libs' ``aiohttp-remotes`` (maintained, and the obvious candidate): its
``XForwardedStrict`` matches the chain hop by hop against a positional list of trusted sets, answers 400
when a request does not fit it, and also rewrites ``request.host`` and ``request.scheme`` from
``X-Forwarded-Host``/``-Proto`` for the whole app (ids and HTTP signatures are built from the Host as it
arrives). What is wanted here is only the address, for policy, with "skip any trusted proxy" semantics and a
quiet fall-back to the peer: this small pure function.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import hdrs, web

from web.context import get_context

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> Address | None:
    """A plain IP address (an IPv4-mapped IPv6 one as IPv4), or None."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address in network for network in proxies)


def forwarded_client(peer: str | None, forwarded_for: Sequence[str], trusted_proxies: Sequence[Network]) -> str | None:
    """The client address: ``peer`` (the socket's) unless it is a trusted proxy and ``forwarded_for`` (the
    ``X-Forwarded-For`` header lines) names one the rules in the module docstring accept."""
    peer_address = _address(peer) if peer else None
    if not trusted_proxies or peer_address is None or not _trusted(peer_address, trusted_proxies):
        return peer
    entries = [entry for line in forwarded_for for entry in line.split(",")]
    if not entries:
        return peer
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            return peer
        if not _trusted(address, trusted_proxies):
            return str(address)
    return str(address)  # all trusted: the left-most hop


def of(request: web.Request) -> str | None:
    """The address of whoever sent ``request``, as far as the node's trusted proxies say."""
    return forwarded_client(
        request.remote, request.headers.getall(hdrs.X_FORWARDED_FOR, []), get_context(request).trusted_proxies
    )
