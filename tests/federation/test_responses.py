"""Reading a peer's answer (federation.responses): content-type rules and the JSON object limits.

The same rules applied to real responses are tested through the client in test_http.py.
"""

from __future__ import annotations

import pytest

from federation.http_errors import BadJSON
from federation.responses import is_activity_content_type, parse_json_object

AS = "https://www.w3.org/ns/activitystreams"


def deep_json(levels: int) -> bytes:
    return ('{"a":' * levels + "1" + "}" * levels).encode()


def test_json_depth_limit_is_inclusive() -> None:
    assert parse_json_object("u", deep_json(32))["a"]  # 32 objects deep: the limit itself
    with pytest.raises(BadJSON):
        parse_json_object("u", deep_json(33))


def test_content_type_rules() -> None:
    assert is_activity_content_type("Application/Activity+JSON")
    assert is_activity_content_type(f"application/ld+json;profile={AS}")
    assert not is_activity_content_type(None)
    assert not is_activity_content_type("application/ld+json; profile=https://www.w3.org/ns/activitystreamsX")
