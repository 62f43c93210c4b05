"""Reading what a peer answered: accepted media types, a size-capped body, and one bounded JSON object.

PROTOCOL.md "Validation": a fetched document must carry an ActivityPub content type (CVE-2024-23832:
plain JSON, HTML or an uploaded file is never taken for an object), fit the size limit, and be a JSON
object of bounded depth. ``FederationClient`` applies these before anything else sees the bytes.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

import aiohttp

from federation.context import AS2, AS2_MEDIA_TYPE
from federation.http_errors import BadJSON, ResponseTooLarge


ACTIVITY_CONTENT_TYPE = AS2_MEDIA_TYPE
ACTIVITY_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS2}"'
JSON_ACCEPT = "application/jrd+json, application/json"
DEFAULT_MAX_JSON_DEPTH = 32

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


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON (RFC 8259 §6); peers never mean them.
    raise ValueError(f"{name} is not valid JSON")


def _json_type_name(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _nesting_exceeds(value: object, limit: int) -> bool:
    """True if ``value`` nests objects/arrays more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def parse_json_object(url: str, body: bytes, *, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> dict[str, Any]:
    """Parse ``body`` as a UTF-8 JSON object nested at most ``max_depth`` levels, or raise ``BadJSON``."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")  # RFC 8259 §8.1: UTF-8, BOM tolerated
    except UnicodeDecodeError:
        raise BadJSON(url, "body is not UTF-8") from None
    too_deep = f"JSON is nested deeper than {max_depth} levels"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadJSON(url, too_deep) from None
    except ValueError as exc:
        raise BadJSON(url, f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadJSON(url, f"expected a JSON object, got {_json_type_name(value)}")
    if _nesting_exceeds(value, max_depth):
        raise BadJSON(url, too_deep)
    return value
