"""Profile fields on actor documents: ours round-trip, other software's are read, nothing odd breaks it."""

from __future__ import annotations

import json
from pathlib import Path

from federation.context import MADEOPEN_NS, actor_context
from federation.profile_fields import Link, Place, ProfileFields, hashtag_name, parse_profile, render_profile

MASTODON = json.loads((Path(__file__).parent.parent / "people" / "fixtures" / "mastodon_actor.json").read_text())


def _tag_url(label: str) -> str:
    return f"https://node.test/tags/{label}"


def test_ours_round_trip_and_show_in_forms_other_servers_read() -> None:
    fields = ProfileFields(
        headline="Carpenter & teacher",
        skills=("carpentry", "machine learning"),
        soft_skills=("active listening",),
        interests=("gardening",),
        links=(Link("Portfolio", "https://example.org/work?a=1&b=2"),),
        place=Place("Berlin", 52.5, 13.4, 10.0),
        precision="city",
    )
    rendered = render_profile(fields, tag_url=_tag_url)
    document = {"@context": actor_context(), "id": "https://node.test/users/ann", **rendered}
    assert parse_profile(json.loads(json.dumps(document))) == fields

    # Mastodon's profile fields: escaped HTML values, links as Mastodon writes them.
    names = [(p["name"], p["value"]) for p in rendered["attachment"]]
    assert ("Headline", "Carpenter &amp; teacher") in names
    assert ("Skills", "carpentry, machine learning") in names
    assert ("Location", "Berlin") in names
    [(_, link)] = [item for item in names if item[0] == "Portfolio"]
    assert link.startswith('<a href="https://example.org/work?a=1&amp;b=2"') and 'rel="nofollow noopener noreferrer me"' in link
    # Hashtags without spaces (CamelCase), pointing at our tag pages; an AS2 Place with the rounding radius.
    assert {"type": "Hashtag", "name": "#MachineLearning", "href": _tag_url("machine learning")} in rendered["tag"]
    assert rendered["location"] == {"type": "Place", "name": "Berlin", "latitude": 52.5, "longitude": 13.4,
                                    "radius": 10.0, "units": "km"}
    assert MADEOPEN_NS in json.dumps(actor_context())


def test_an_empty_profile_publishes_no_location() -> None:
    rendered = render_profile(ProfileFields(), tag_url=_tag_url)
    assert rendered == {"attachment": [], "tag": []}
    assert parse_profile({"id": "https://x.example/u", **rendered}) == ProfileFields()


def test_mastodon_fields_and_hashtags_are_read() -> None:
    fields = parse_profile(MASTODON)
    assert fields.skills == ("Python", "beekeeping", "Raised_beds")  # "🛠 Skills" is the Skills field
    assert fields.interests == ("permaculture", "OpenSource")  # bio hashtags; the custom emoji is not one
    assert fields.place == Place("Leipzig")
    assert fields.links == (Link("Website", "https://rosa.example/"),)  # "she/her" is neither link nor known
    assert fields.headline == "" and fields.precision is None


def test_other_shapes_of_fields() -> None:
    doc = {
        "id": "https://misskey.example/users/9a",
        "vcard:Address": "Kyoto",
        "attachment": [
            {"type": "PropertyValue", "name": "Interests:", "value": "<p>#go #rust</p>"},
            {"type": "PropertyValue", "name": "Fähigkeiten", "value": "Holzbau<br>Statik"},
            {"type": "PropertyValue", "name": "Role", "value": "<b>Structural</b> engineer"},
            {"type": "PropertyValue", "name": "Code", "value": "https://code.example/me"},
        ],
        "location": {"type": "Place", "latitude": 35.0, "longitude": 135.77, "radius": 5000},
    }
    fields = parse_profile(doc)
    assert fields.interests == ("go", "rust")
    assert fields.skills == ("Holzbau", "Statik")
    assert fields.headline == "Structural engineer"
    assert fields.links == (Link("Code", "https://code.example/me"),)
    assert fields.place == Place("Kyoto", 35.0, 135.77, 5.0)  # the radius is in metres by default (AS2)


def test_odd_input_is_skipped_not_fatal() -> None:
    doc = {
        "@context": [{"madeopen": MADEOPEN_NS}],
        "skills": ["ok", 5, None, {"a": 1}, "x" * 500],
        "headline": ["not", "a", "string"],
        "attachment": [None, "x", {"type": "PropertyValue", "name": 3, "value": "y"},
                       {"type": "PropertyValue", "name": "Blog", "value": "<a href=\"javascript:alert(1)\">x</a>"}],
        "tag": "not a list",
        "location": [{"type": "Place", "latitude": 95, "longitude": 10, "name": "<b>Nowhere</b>"}, "second"],
        "locationPrecision": "everywhere",
    }
    fields = parse_profile(doc)
    assert fields.skills == ("ok", "x" * 100)
    assert fields.headline == "" and fields.links == () and fields.precision is None
    assert fields.place == Place("Nowhere")  # latitude out of range: no coordinates


def test_hashtag_names() -> None:
    assert hashtag_name("python") == "#python"
    assert hashtag_name("active listening") == "#ActiveListening"
    assert hashtag_name("c++") == "#c++"
