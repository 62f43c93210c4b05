"""Domain blocks (actors/blocks.py): one rule for the inbox (one URL) and the delivery worker (a batch)."""

from __future__ import annotations

from actors import blocks
from actors.errors import InvalidInput
from madeopen.app import Services
from storage.models import DomainBlock


async def _block(services: Services, domain: str) -> None:
    async with services.sessions.begin() as session:
        session.add(DomainBlock(domain=domain))


async def test_blocks_cover_subdomains_and_ignore_ports(services: Services) -> None:
    await _block(services, "spam.example")
    candidates = {"spam.example", "social.spam.example:8443", "notspam.example", "example", "ok.example:80"}

    async with services.sessions() as session:
        blocked = await blocks.blocked_hosts(session, candidates)

    assert blocked == {"spam.example", "social.spam.example:8443"}


async def test_one_url_is_blocked_by_the_same_rule(services: Services) -> None:
    await _block(services, "spam.example")
    async with services.sessions() as session:
        assert await blocks.is_blocked(session, "https://Social.Spam.Example:8443/users/x")
        assert await blocks.is_blocked(session, "https://spam.example./users/x")  # a trailing dot is the same name
        assert not await blocks.is_blocked(session, "https://notspam.example/users/x")
        assert not await blocks.is_blocked(session, "not a url")
        assert await blocks.blocked_hosts(session, []) == set()


def test_hosts_are_bare_lower_case_domains() -> None:
    assert blocks.host_of("https://Social.Example.:443/inbox") == "social.example"
    assert blocks.hostname("Social.Example:8443") == "social.example"
    assert blocks.hostname("[::1]:8000") == "::1"


async def test_an_entry_with_a_port_covers_that_port_only_and_the_allowlist(services: Services) -> None:
    async with services.sessions.begin() as session:
        await blocks.set_domain(session, "shared.example:8443", "block")
        await blocks.set_domain(session, "loud.example", "silence")
        await blocks.set_allowed(session, "partner.example", True)
    hosts = {"shared.example:8443", "shared.example", "loud.example", "partner.example:9000", "other.example"}
    async with services.sessions() as session:
        assert await blocks.refused_hosts(session, hosts) == {"shared.example:8443"}  # a silence refuses nothing
        assert await blocks.refused_hosts(session, hosts, allowlist=True) == hosts - {"partner.example:9000"}


def test_host_names_are_checked() -> None:
    assert blocks.parse_host(" Social.Example.ORG. ") == "social.example.org"
    assert blocks.parse_host("10.0.0.5:8443") == "10.0.0.5:8443"
    assert blocks.parse_host("bücher.example") == "xn--bcher-kva.example"
    for bad in ("", "https://x.example/", "x.example/path", "a b.example", "name@x.example", "x.example:0", "-x.example",
                "example"):
        try:
            blocks.parse_host(bad)
        except InvalidInput as exc:
            assert "is not a host name" in exc.message
        else:
            raise AssertionError(f"{bad!r} was taken")
