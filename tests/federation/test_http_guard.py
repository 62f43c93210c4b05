"""The outbound address guard's policy and layers (federation.http_guard), without a network.

Its effect on real requests (refused names, redirects, the connect-time net) is tested through the
client in test_http.py.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from federation.http_guard import BlockedAddress, check_url_host, guarded_socket_factory, refusal_reason


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoint
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("::ffff:10.0.0.1", "embeds 10.0.0.1"),
        ("::ffff:127.0.0.1", "embeds 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "embeds 169.254.169.254"),  # NAT64 of the metadata endpoint
        ("2002:7f00:1::1", "embeds 127.0.0.1"),  # 6to4
    ],
)
def test_special_purpose_addresses_refused(address: str, expected: str) -> None:
    reason = refusal_reason(ipaddress.ip_address(address))
    assert reason is not None and expected in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_url_host_check_leaves_names_to_the_resolver() -> None:
    check_url_host("example.org")
    check_url_host("93.184.215.14")
    with pytest.raises(BlockedAddress, match="not a canonical IP"):
        check_url_host("0177.0.0.1")


def test_socket_factory_refuses_the_connect_target() -> None:
    with pytest.raises(BlockedAddress, match="loopback"):
        guarded_socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    sock = guarded_socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)))
    sock.close()
