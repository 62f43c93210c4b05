"""Outbound address guard: refuse to connect to private and special-purpose addresses.

A federated server fetches whatever URL a stranger puts in a document, so without this guard anyone
could make us probe our own loopback, the LAN or a cloud metadata endpoint (SSRF). PROTOCOL.md
"Delivery": private/special-purpose addresses are refused *at connect time*, which also defeats DNS
rebinding: the check runs on the very addresses the socket will connect to, not on an earlier lookup.

Three layers, each cheap:

1. ``check_url_host`` refuses literal IP hosts in URLs before any request (aiohttp never asks the
   resolver about a literal IP), including the legacy numeric forms (``127.1``, ``2130706433``).
2. ``GuardedResolver`` wraps the real resolver and refuses a name if ANY address it resolves to is not
   public (an attacker controls which of several A/AAAA records gets used).
3. ``guarded_socket_factory`` re-checks the exact socket address right before ``connect()``, as a net
   under the two above (aiohttp >= 3.12).

Refusals raise ``BlockedAddress``, an ``OSError`` so aiohttp treats it like any resolution or connect
failure; ``federation.http_urls`` and ``federation.http_errors`` turn it into ``AddressNotAllowed``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges refused on top of what ``ipaddress`` already classifies, so the guard does not depend on the
# Python patch release (``is_private``/``is_global`` tables changed within 3.11.x and 3.12.x).
# Sources: IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890 and updates).
_EXTRA_BLOCKED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why)
    for net, why in (
        ("0.0.0.0/8", "a 'this network' address"),  # RFC 791
        ("100.64.0.0/10", "a carrier-grade NAT address"),  # RFC 6598
        ("192.0.0.0/24", "an IETF protocol assignment"),  # RFC 6890
        ("192.0.2.0/24", "a documentation address"),  # RFC 5737 TEST-NET-1
        ("198.51.100.0/24", "a documentation address"),  # RFC 5737 TEST-NET-2
        ("203.0.113.0/24", "a documentation address"),  # RFC 5737 TEST-NET-3
        ("192.88.99.0/24", "a 6to4 relay anycast address"),  # RFC 7526 (deprecated)
        ("198.18.0.0/15", "a benchmarking address"),  # RFC 2544
        ("224.0.0.0/4", "a multicast address"),  # RFC 5771
        ("240.0.0.0/4", "a reserved address"),  # RFC 1112, includes 255.255.255.255
        ("::/96", "an IPv4-compatible (deprecated) address"),  # RFC 4291 2.5.5.1
        ("64:ff9b:1::/48", "a local-use NAT64 address"),  # RFC 8215
        ("100::/64", "a discard-only address"),  # RFC 6666
        ("2001::/23", "an IETF protocol assignment"),  # RFC 2928 (Teredo, ORCHID, ...)
        ("2001:db8::/32", "a documentation address"),  # RFC 3849
        ("3fff::/20", "a documentation address"),  # RFC 9637
        ("5f00::/16", "a segment-routing address"),  # RFC 9602
        ("fc00::/7", "a unique-local address"),  # RFC 4193
        ("fec0::/10", "a site-local (deprecated) address"),  # RFC 3879
        ("ff00::/8", "a multicast address"),  # RFC 4291
    )
)

# NAT64 well-known prefix (RFC 6052): the last 32 bits are an IPv4 address a NAT64 gateway would reach.
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedAddress(OSError):
    """A connection target that is not a public unicast address."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be connected to, or None when it is a public unicast address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = refusal_reason(embedded)
        return None if inner is None else f"embeds {embedded}, which {inner}"
    for check, why in (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
    ):
        if check:
            return f"is {why}"
    for network, why in _EXTRA_BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return f"is {why}"
    if address.is_private:
        return "is a private address"
    if address.is_reserved:
        return "is a reserved address"
    if not address.is_global:
        return "is not a global address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), else None.

    ``::ffff:127.0.0.1`` connects to 127.0.0.1 on a dual-stack socket, and the other forms reach the
    embedded address through a translator/relay, so they are judged by the embedded address.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def check_ip(text: str, *, host: str | None = None) -> None:
    """Raise ``BlockedAddress`` unless ``text`` is a public unicast IP address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise BlockedAddress(host or text, f"{text!r} is not an IP address") from None
    reason = refusal_reason(address)
    if reason is not None:
        shown = text if host is None or host == text else f"{host} resolves to {text}, which"
        raise BlockedAddress(host or text, f"{shown} {reason}")


def check_url_host(host: str) -> None:
    """Refuse a literal-IP URL host that is not public; names are left to ``GuardedResolver``.

    aiohttp treats a host containing ``:`` or made only of digits and dots as an IP literal and
    connects without resolving, so anything of that shape must parse as a canonical address here
    (``127.1`` or ``2130706433`` would otherwise reach 127.0.0.1 behind the resolver's back).
    """
    bare = host.strip("[]")
    looks_numeric = ":" in bare or bare.replace(".", "").isdigit()
    if not looks_numeric:
        return
    if not _is_canonical_ip(bare):
        raise BlockedAddress(host, f"{host!r} is not a canonical IP address")
    check_ip(bare)


def _is_canonical_ip(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    # IPv6 has many spellings of one address and is fine; dotted IPv4 must be the four-part form.
    return address.version == 6 or str(address) == text


def check_resolved(host: str, addresses: Iterable[str]) -> None:
    """Refuse ``host`` if any of its resolved addresses is not public (the attacker picks which)."""
    for address in addresses:
        check_ip(address, host=host)


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses names resolving to non-public addresses.

    aiohttp connects to exactly the addresses a resolver returns (and caches only what it returned),
    so checking here is checking at connect time: a second, different DNS answer for a rebinding name
    goes through this check again.
    """

    def __init__(self, upstream: AbstractResolver | None = None, *, allow_private: bool = False) -> None:
        self._upstream = upstream if upstream is not None else DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._upstream.resolve(host, port, family)
        if not results:
            raise OSError(f"{host}: no addresses found")
        if not self._allow_private:
            check_resolved(host, (result["host"] for result in results))
        return results

    async def close(self) -> None:
        await self._upstream.close()


def guarded_socket_factory(addr_info: tuple[object, ...]) -> socket.socket:
    """aiohttp ``socket_factory``: the last check, on the exact address about to be connected."""
    family, type_, proto, _canonname, sockaddr = addr_info
    assert isinstance(sockaddr, tuple)
    check_ip(str(sockaddr[0]))
    return socket.socket(family=family, type=type_, proto=proto)  # type: ignore[arg-type]
