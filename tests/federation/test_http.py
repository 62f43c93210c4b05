"""The outbound federation client against real aiohttp servers on loopback (no network mocks).

Most tests run with ``allow_private_addresses=True`` because the peers live on 127.0.0.1; the guard
tests switch it off, and use a static resolver (a real ``AbstractResolver``) to give test names the
addresses they need.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from federation import http_guard, http_urls
from federation.delivery_result import DeliveryOutcome
from federation.http import FederationClient
from federation.http_errors import (
    AddressNotAllowed,
    BadContentType,
    BadJSON,
    BadURL,
    FetchConnectionError,
    FetchTimeout,
    HTTPStatusError,
    IdMismatch,
    ResponseTooLarge,
    TooManyRedirects,
)
from federation.responses import ACTIVITY_CONTENT_TYPE
from tests.support.http_peer import (
    AS, MIB, USER_AGENT, Peer, RecordingSigner, StaticResolver, make_client, silent_server,
)
from tests.support.processes import free_port


# --------------------------------------------------------------------------------------------------
# Signing and headers


async def test_signed_get_carries_signer_headers_and_user_agent(fed: FederationClient, peer: Peer) -> None:
    url = peer.url("/doc/one")
    document = await fed.fetch_document(url)

    assert document["id"] == url
    assert document["seen"]["signature"] == f"instance GET {url}"
    assert document["seen"]["user_agent"] == USER_AGENT
    assert document["seen"]["accept"] == f'application/activity+json, application/ld+json; profile="{AS}"'


async def test_signer_argument_acts_as_a_specific_user(fed: FederationClient, peer: Peer) -> None:
    alice = RecordingSigner("alice")
    url = peer.url("/doc/two")
    document = await fed.fetch_document(url, signer=alice)

    assert document["seen"]["signature"] == f"alice GET {url}"
    assert alice.calls == [("GET", url)]
    assert fed.default_signer.calls == []  # type: ignore[attr-defined]


async def test_signed_post_carries_body_signature_and_content_type(fed: FederationClient, peer: Peer) -> None:
    body = json.dumps({"@context": AS, "type": "Follow", "id": "https://node.test/f/1"}).encode()
    url = peer.url("/inbox/202")
    result = await fed.post_activity(url, body)

    assert result.ok and result.status == 202
    (got,) = peer.received
    assert got.method == "POST" and got.body == body
    assert got.headers["X-Test-Signature"] == f"instance POST {url}"
    assert got.headers["X-Test-Digest"] == hashlib.sha256(body).hexdigest()
    assert got.headers["Content-Type"] == ACTIVITY_CONTENT_TYPE
    assert got.headers["User-Agent"] == USER_AGENT


async def test_one_body_posted_to_many_inboxes_arrives_whole_each_time(fed: FederationClient, peer: Peer) -> None:
    # A fan-out POSTs the same bytes object to every inbox, and the client hands aiohttp one payload object
    # for it (issue #13): each request must still carry the whole body, its own signature and our
    # Content-Type, also when several are in flight at once.
    body = json.dumps({"@context": AS, "type": "Announce", "id": "https://node.test/a/1", "pad": "x" * 5000}).encode()
    urls = [peer.url(f"/inbox/202?n={n}") for n in range(6)]
    results = await asyncio.gather(*(fed.post_activity(url, body) for url in urls))
    results.append(await fed.post_activity(urls[0], body))

    assert all(result.ok for result in results)
    assert len(peer.received) == 7
    for got in peer.received:
        assert got.body == body
        assert got.headers["Content-Length"] == str(len(body))
        assert got.headers["Content-Type"] == ACTIVITY_CONTENT_TYPE
        assert got.headers["X-Test-Digest"] == hashlib.sha256(body).hexdigest()
    assert sorted(got.headers["X-Test-Signature"] for got in peer.received) == sorted(
        f"instance POST {url}" for url in [*urls, urls[0]]
    )


async def test_every_redirect_hop_is_resigned_for_its_own_url(peer: Peer) -> None:
    # Two names for the same peer, so the redirect really changes the host being signed for.
    resolver = StaticResolver({"one.test": ["127.0.0.1"], "two.test": ["127.0.0.1"]})
    signer = RecordingSigner("instance")
    final = peer.url("/doc/moved", host="two.test")
    start = peer.url(f"/goto?to={final}", host="one.test")
    async with make_client(resolver=resolver, default_signer=signer) as client:
        document = await client.fetch_document(start)

    assert document["id"] == final
    assert signer.calls == [("GET", start), ("GET", final)]
    first, second = peer.received
    assert first.headers["X-Test-Signature"] == f"instance GET {start}"
    assert first.headers["Host"] == f"one.test:{peer.port}"
    assert second.headers["X-Test-Signature"] == f"instance GET {final}"
    assert second.headers["Host"] == f"two.test:{peer.port}"


async def test_real_cavage_signature_verifies_on_every_hop(peer: Peer) -> None:
    signatures = pytest.importorskip("federation.signatures")
    keys = pytest.importorskip("federation.keys")
    pair = keys.generate_rsa()
    key_id = "https://node.test/actor#main-key"
    signer = signatures.CavageSigner(key_id, pair.private_pem)
    record = signatures.PublicKeyRecord(key_id, "https://node.test/actor", signatures.load_public_key(pair.public_pem))

    async def lookup(wanted: str, *, refresh: bool) -> Any:
        return record if wanted == key_id else None

    body = b'{"type": "Create"}'
    async with make_client(default_signer=signer) as client:
        fetched = await client.fetch_document(peer.url(f"/goto?to={peer.url('/doc/signed')}"))
        delivered = await client.post_activity(peer.url("/inbox/202"), body)

    assert fetched["id"] == peer.url("/doc/signed") and delivered.ok
    assert [r.path for r in peer.received] == ["/goto?to=" + peer.url("/doc/signed"), "/doc/signed", "/inbox/202"]
    for got in peer.received:
        verified = await signatures.verify_request(
            method=got.method,
            url=peer.url(got.path),
            headers=got.headers,
            body=got.body if got.method == "POST" else None,
            lookup=lookup,
        )
        assert verified.owner == "https://node.test/actor"


# --------------------------------------------------------------------------------------------------
# Address guard


async def test_private_literal_ip_refused_without_a_request(peer: Peer) -> None:
    async with make_client(allow_private_addresses=False) as client:
        with pytest.raises(AddressNotAllowed, match="loopback"):
            await client.fetch_document(peer.url("/doc/x"))
        result = await client.post_activity(peer.url("/inbox/202"), b"{}")
    assert result.outcome is DeliveryOutcome.PERMANENT and result.status is None
    assert "loopback" in result.detail
    assert peer.received == []


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "127.1", "2130706433", "0.0.0.0", "[::]"])
async def test_loopback_in_other_spellings_refused(peer: Peer, host: str) -> None:
    async with make_client(allow_private_addresses=False) as client:
        with pytest.raises(AddressNotAllowed):
            await client.fetch_json(peer.url("/typed/json", host=host))
    assert peer.received == []


async def test_localhost_name_refused(peer: Peer) -> None:
    async with make_client(allow_private_addresses=False) as client:
        with pytest.raises(AddressNotAllowed, match=r"localhost resolves to .*loopback"):
            await client.fetch_document(peer.url("/doc/x", host="localhost"))
    assert peer.received == []


async def test_name_resolving_to_loopback_refused_and_allowed_when_configured(peer: Peer) -> None:
    resolver = StaticResolver({"rebind.test": ["127.0.0.1"]})
    url = peer.url("/doc/x", host="rebind.test")
    async with make_client(allow_private_addresses=False, resolver=resolver) as client:
        with pytest.raises(AddressNotAllowed, match=r"rebind.test resolves to 127.0.0.1"):
            await client.fetch_document(url)
    assert peer.received == []

    async with make_client(allow_private_addresses=True, resolver=resolver) as client:
        assert (await client.fetch_document(url))["id"] == url


async def test_any_private_answer_among_public_ones_refuses_the_name(peer: Peer) -> None:
    # The attacker's DNS answers with a public address and a private one; we cannot know which the
    # connection would use, so the name is refused before connecting anywhere.
    resolver = StaticResolver({"mixed.test": ["93.184.215.14", "10.1.2.3"]})
    async with make_client(allow_private_addresses=False, resolver=resolver) as client:
        with pytest.raises(AddressNotAllowed, match=r"10.1.2.3, which is a private"):
            await client.fetch_json(f"http://mixed.test:{peer.port}/typed/json")


async def test_redirect_targets_pass_the_guard_again(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Treat the peer's own address as public for this test, so it can redirect somewhere private.
    real_policy = http_guard.refusal_reason
    monkeypatch.setattr(
        http_guard, "refusal_reason", lambda address: None if str(address) == "127.0.0.1" else real_policy(address)
    )
    resolver = StaticResolver({"internal.test": ["10.0.0.7"]})
    async with make_client(allow_private_addresses=False, resolver=resolver) as client:
        assert (await client.fetch_document(peer.url("/doc/ok")))["id"] == peer.url("/doc/ok")
        with pytest.raises(AddressNotAllowed, match=r"127.0.0.2 is a loopback"):
            await client.fetch_document(peer.url("/goto?to=http://127.0.0.2/doc/x"))
        with pytest.raises(AddressNotAllowed, match=r"internal.test resolves to 10.0.0.7"):
            await client.fetch_document(peer.url("/goto?to=http://internal.test/doc/x"))


async def test_connect_time_check_catches_what_the_earlier_layers_miss(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Switch off the URL-host layer: aiohttp connects to literal IPs without asking the resolver, so
    # only the socket-level check stands between it and 127.0.0.1.
    monkeypatch.setattr(http_urls, "check_url_host", lambda host: None)
    async with make_client(allow_private_addresses=False) as client:
        with pytest.raises(AddressNotAllowed, match=r"127.0.0.1 is a loopback address"):
            await client.fetch_document(peer.url("/doc/x"))
    assert peer.received == []


async def test_unresolvable_name_is_a_connection_error(peer: Peer) -> None:
    async with make_client(allow_private_addresses=False, resolver=StaticResolver({})) as client:
        with pytest.raises(FetchConnectionError, match=r"unknown.test"):
            await client.fetch_document("http://unknown.test/doc")
        result = await client.post_activity("http://unknown.test/inbox", b"{}")
    assert result.outcome is DeliveryOutcome.RETRY and result.status is None


# --------------------------------------------------------------------------------------------------
# Size, redirects, schemes


@pytest.mark.parametrize("kind", ["content-length", "chunked"])
async def test_oversized_response_refused(fed: FederationClient, peer: Peer, kind: str) -> None:
    with pytest.raises(ResponseTooLarge, match="limit of 1048576 bytes"):
        await fed.fetch_document(peer.url(f"/big/{kind}"))


async def test_document_just_under_the_limit_accepted(fed: FederationClient, peer: Peer) -> None:
    document = await fed.fetch_document(peer.url(f"/padded/{MIB - 100}"))
    assert len(document["content"]) > MIB - 1000


async def test_five_redirects_followed(fed: FederationClient, peer: Peer) -> None:
    document = await fed.fetch_document(peer.url("/redirect/5"))
    assert document["id"] == peer.url("/doc/end")


async def test_six_redirects_refused(fed: FederationClient, peer: Peer) -> None:
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        await fed.fetch_document(peer.url("/redirect/6"))
    assert peer.received[-1].path == "/redirect/1"  # the sixth target was never requested


async def test_redirect_loop_refused(fed: FederationClient, peer: Peer) -> None:
    with pytest.raises(TooManyRedirects, match="loop"):
        await fed.fetch_document(peer.url("/loop/a"))


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://ftp.example.org/x.json", "gopher://x/"])
async def test_redirect_to_non_http_scheme_refused(fed: FederationClient, peer: Peer, target: str) -> None:
    with pytest.raises(BadURL, match="is not http or https"):
        await fed.fetch_document(peer.url(f"/goto?to={target}"))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/", "//example.org/x", "http://user:pw@example.org/"]
)
async def test_unacceptable_urls_refused(fed: FederationClient, url: str) -> None:
    with pytest.raises(BadURL):
        await fed.fetch_json(url)


async def test_non_2xx_is_a_status_error(fed: FederationClient, peer: Peer) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await fed.fetch_document(peer.url("/status/404"))
    assert caught.value.status == 404
    assert "HTTP 404" in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Content types and JSON


@pytest.mark.parametrize("kind", ["activity", "activity-charset", "ld-as", "ld-as-list"])
async def test_activitypub_content_types_accepted(fed: FederationClient, peer: Peer, kind: str) -> None:
    url = peer.url(f"/typed/{kind}")
    assert (await fed.fetch_document(url))["id"] == url


@pytest.mark.parametrize("kind", ["html", "json", "jrd", "ld-bare", "ld-other"])
async def test_other_content_types_refused_for_documents(fed: FederationClient, peer: Peer, kind: str) -> None:
    with pytest.raises(BadContentType, match="unexpected content type"):
        await fed.fetch_document(peer.url(f"/typed/{kind}"))


@pytest.mark.parametrize("kind", ["json", "jrd"])
async def test_fetch_json_accepts_json_and_jrd(fed: FederationClient, peer: Peer, kind: str) -> None:
    assert (await fed.fetch_json(peer.url(f"/typed/{kind}")))["type"] == "Note"


@pytest.mark.parametrize("kind", ["html", "activity"])
async def test_fetch_json_refuses_other_types(fed: FederationClient, peer: Peer, kind: str) -> None:
    with pytest.raises(BadContentType):
        await fed.fetch_json(peer.url(f"/typed/{kind}"))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("invalid", "not valid JSON"),
        ("array", "expected a JSON object, got an array"),
        ("string", "expected a JSON object, got a string"),
        ("not-utf8", "not UTF-8"),
        ("nan", "not valid JSON"),
        ("deep", "nested deeper than 32 levels"),
        ("very-deep", "nested deeper than 32 levels"),
    ],
)
async def test_bad_json_refused(fed: FederationClient, peer: Peer, kind: str, message: str) -> None:
    with pytest.raises(BadJSON, match=message):
        await fed.fetch_document(peer.url(f"/raw/{kind}"))


# --------------------------------------------------------------------------------------------------
# id / URL validation (CVE-2024-23832)


async def test_document_claiming_another_id_is_refetched_by_that_id(fed: FederationClient, peer: Peer) -> None:
    document = await fed.fetch_document(peer.url("/claim/doc/b"))
    assert document["id"] == peer.url("/doc/b")
    assert [r.path for r in peer.received] == ["/claim/doc/b", "/doc/b"]


async def test_refetched_document_claiming_yet_another_id_is_refused(fed: FederationClient, peer: Peer) -> None:
    with pytest.raises(IdMismatch, match="claims id"):
        await fed.fetch_document(peer.url("/claim/claim/doc/c"))
    # Exactly one re-fetch: /doc/c was never asked for.
    assert [r.path for r in peer.received] == ["/claim/claim/doc/c", "/claim/doc/c"]


async def test_document_without_id_refused(fed: FederationClient, peer: Peer) -> None:
    with pytest.raises(IdMismatch, match="no id"):
        await fed.fetch_document(peer.url("/no-id"))


async def test_id_is_compared_with_the_url_after_redirects(fed: FederationClient, peer: Peer) -> None:
    # /goto -> /doc/r: the document names /doc/r, the URL it really came from: accepted as is.
    document = await fed.fetch_document(peer.url(f"/goto?to={peer.url('/doc/r')}&status=301"))
    assert document["id"] == peer.url("/doc/r")
    assert [r.path for r in peer.received][-1] == "/doc/r"


# --------------------------------------------------------------------------------------------------
# Timeouts and connection errors


async def test_server_that_never_answers_times_out_quickly() -> None:
    async with silent_server() as port, make_client(total_timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeout, match=r"within 0.5 s"):
            await client.fetch_document(f"http://127.0.0.1:{port}/x")
        assert time.monotonic() - started < 3

        result = await client.post_activity(f"http://127.0.0.1:{port}/inbox", b"{}")
        assert result.outcome is DeliveryOutcome.RETRY and result.status is None


async def test_body_that_stalls_times_out() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 100\r\n\r\n{"
    async with silent_server(head) as port, make_client(total_timeout=0.5) as client:
        with pytest.raises(FetchTimeout):
            await client.fetch_document(f"http://127.0.0.1:{port}/x")


async def test_refused_connection(fed: FederationClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/inbox"
    with pytest.raises(FetchConnectionError, match="cannot connect"):
        await fed.fetch_json(url)
    result = await fed.post_activity(url, b"{}")
    assert result.outcome is DeliveryOutcome.RETRY and result.status is None


# --------------------------------------------------------------------------------------------------
# Delivery classification


@pytest.mark.parametrize(
    ("code", "outcome", "gone"),
    [
        (200, DeliveryOutcome.OK, False),
        (202, DeliveryOutcome.OK, False),
        (500, DeliveryOutcome.RETRY, False),
        (502, DeliveryOutcome.RETRY, False),
        (401, DeliveryOutcome.RETRY, False),
        (408, DeliveryOutcome.RETRY, False),
        (400, DeliveryOutcome.PERMANENT, False),
        (403, DeliveryOutcome.PERMANENT, False),
        (404, DeliveryOutcome.PERMANENT, False),
        (410, DeliveryOutcome.PERMANENT, True),
    ],
)
async def test_post_classification(
    fed: FederationClient, peer: Peer, code: int, outcome: DeliveryOutcome, gone: bool
) -> None:
    result = await fed.post_activity(peer.url(f"/inbox/{code}"), b"{}")
    assert (result.outcome, result.status, result.gone) == (outcome, code, gone)
    assert result.retry_after is None
    if code >= 400:
        assert f"HTTP {code}" in result.detail and "go away" in result.detail


async def test_429_with_retry_after_seconds(fed: FederationClient, peer: Peer) -> None:
    result = await fed.post_activity(peer.url("/inbox/429?retry_after=120"), b"{}")
    assert result.should_retry and result.status == 429 and result.retry_after == 120


async def test_retry_after_as_http_date(fed: FederationClient, peer: Peer) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=300), usegmt=True)
    result = await fed.post_activity(peer.url(f"/inbox/503?retry_after={when}"), b"{}")
    assert result.should_retry and result.retry_after is not None and 290 <= result.retry_after <= 300


async def test_retry_after_capped_at_one_day(fed: FederationClient, peer: Peer) -> None:
    result = await fed.post_activity(peer.url("/inbox/429?retry_after=9999999"), b"{}")
    assert result.retry_after == 86400


async def test_post_redirect_is_permanent_and_not_followed(fed: FederationClient, peer: Peer) -> None:
    elsewhere = peer.url("/inbox/202")
    result = await fed.post_activity(peer.url(f"/goto?to={elsewhere}&status=307"), b"{}")
    assert result.outcome is DeliveryOutcome.PERMANENT and result.status == 307
    assert elsewhere in result.detail
    assert [r.path for r in peer.received] == [f"/goto?to={elsewhere}&status=307"]


# --------------------------------------------------------------------------------------------------
# Lifecycle


async def test_closed_client_refuses_work(peer: Peer) -> None:
    client = make_client()
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.fetch_document(peer.url("/doc/x"))


async def test_connections_are_reused(fed: FederationClient, peer: Peer) -> None:
    for _ in range(3):
        await fed.fetch_document(peer.url("/doc/keepalive"))
        await fed.post_activity(peer.url("/inbox/202"), b"{}")
    # One keep-alive connection served all six requests.
    assert len(peer.received) == 6
    assert len({got.client_port for got in peer.received}) == 1
