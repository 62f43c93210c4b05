"""Reading what a peer answered: accepted media types, a size-capped body, and one bounded JSON object.

PROTOCOL.md "Validation": a fetched document must carry an ActivityPub content type (CVE-2024-23832:
plain JSON, HTML or an uploaded file is never taken for an object), fit the size limit, and be a JSON
object of bounded depth. ``FederationClient`` applies these before anything else sees the bytes.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import email.message
from typing import Any

import aiohttp

from federation import json_input
from federation.context import AS2, AS2_MEDIA_TYPE
from federation.http_errors import BadJSON, ResponseTooLarge


ACTIVITY_CONTENT_TYPE = AS2_MEDIA_TYPE
ACTIVITY_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS2}"'
JSON_ACCEPT = "application/jrd+json, application/json"
DEFAULT_MAX_JSON_DEPTH = json_input.MAX_JSON_DEPTH

_READ_CHUNK_BYTES = 64 * 1024


def _parse_media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``("type/subtype", {param: value})`` with quoting handled; ``("", {})`` when absent."""
    if not header or not header.strip():
        return "", {}
    message = email.message.Message()
    message["Content-Type"] = header
    params = {str(key).lower(): str(val) for key, val in message.get_params(failobj=[])[1:]}
    return message.get_content_type(), params


def is_activity_content_type(header: str | None) -> bool:
    """``application/activity+json``, or ``application/ld+json`` with the ActivityStreams profile.

    PROTOCOL.md "Validation" / CVE-2024-23832: a plain JSON (or HTML, or uploaded-file) response must
    never be taken for an ActivityPub object. ``profile`` may list several IRIs (JSON-LD 1.1 §9).
    """
    media, params = _parse_media_type(header)
    if media == ACTIVITY_CONTENT_TYPE:
        return True
    return media == "application/ld+json" and AS2 in params.get("profile", "").split()


def is_json_content_type(header: str | None) -> bool:
    """WebFinger (RFC 7033: ``application/jrd+json``) and NodeInfo (``application/json``)."""
    media, _ = _parse_media_type(header)
    return media in {"application/json", "application/jrd+json"}


async def read_capped(url: str, response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Stream the body, stopping as soon as it passes ``limit`` (Content-Length may lie or be absent,
    and counting after decompression also stops compression bombs)."""
    declared = response.content_length
    if declared is not None and declared > limit:
        response.close()
        raise ResponseTooLarge(url, f"body of {declared} bytes exceeds the limit of {limit} bytes")
    received = bytearray()
    async for chunk in response.content.iter_chunked(_READ_CHUNK_BYTES):
        received += chunk
        if len(received) > limit:
            response.close()
            raise ResponseTooLarge(url, f"body exceeds the limit of {limit} bytes")
    return bytes(received)


def parse_json_object(url: str, body: bytes, *, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> dict[str, Any]:
    """Parse ``body`` as a UTF-8 JSON object nested at most ``max_depth`` levels, or raise ``BadJSON``
    (``federation.json_input``: the one bounded parser for JSON from outside)."""
    try:
        return json_input.parse_json_object(body, max_depth=max_depth)
    except json_input.JSONRejected as exc:
        raise BadJSON(url, exc.reason) from None
