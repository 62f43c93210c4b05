"""Tag normal form and places: pure functions, no database."""

from __future__ import annotations

import math

import pytest

from actors.errors import InvalidInput
from people import geo, tags


def test_tags_fold_case_spaces_hashes_and_duplicates() -> None:
    assert tags.parse_list("  Python, python ,PYTHON; #Machine_Learning\nmachine   learning") == [
        "python", "machine learning"
    ]
    labels = tags.parse_list(["  Python", "python", "#Machine_Learning", "machine   learning", "Machine-Learning"])
    assert labels == ["python", "machine learning"]  # one tag: the first spelling kept
    assert tags.key("machine learning") == tags.key("machinelearning") == tags.key_of("#MachineLearning")
    assert len({tags.key_of(t) for t in ("c", "c++", "c#")}) == 3  # symbols that make a skill stay
    assert tags.key_of("Node.js") == tags.key_of("nodejs")
    assert tags.label("Ｐｙｔｈｏｎ") == "python"  # NFKC: full-width letters


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("x" * (tags.MAX_TAG_CHARS + 1), "too long"),
        ("<script>", "contains '<'"),
        ("party 🎉", "contains"),
        ("###", "empty tag"),
        ("--", "no letter or digit"),
    ],
)
def test_bad_tags_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        tags.parse_list([raw], what="skills")


def test_too_many_tags_are_refused_and_remote_lists_are_cut() -> None:
    many = [f"skill {i}" for i in range(tags.MAX_TAGS + 1)]
    with pytest.raises(InvalidInput, match=f"too many tags, at most {tags.MAX_TAGS}"):
        tags.parse_list(many)
    assert tags.parse_list(many[: tags.MAX_TAGS]) == many[: tags.MAX_TAGS]
    assert tags.lenient(["ok", "<bad>", "x" * 99, *many]) == ["ok", *many[: tags.MAX_TAGS - 1]]


def test_haversine_matches_known_distances() -> None:
    berlin, paris = (52.5200, 13.4050), (48.8566, 2.3522)
    assert geo.haversine_km(*berlin, *paris) == pytest.approx(878, abs=3)
    assert geo.haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.5)  # across the antimeridian
    assert geo.haversine_km(10, 20, 10, 20) == 0


@pytest.mark.parametrize(
    "centre",
    [(52.52, 13.40), (0.0, 179.9), (0.0, -179.9), (89.5, 10.0), (-89.9, -170.0), (65.0, 179.0)],
)
def test_bounding_box_holds_every_point_of_the_circle(centre: tuple[float, float]) -> None:
    radius = 250.0
    box = geo.bounding_box(centre[0], centre[1], radius)
    for bearing in range(0, 360, 5):
        # The point at `radius` km in direction `bearing` (great-circle destination formula).
        lat1, lon1, b = map(math.radians, (centre[0], centre[1], bearing))
        ang = radius / geo.EARTH_RADIUS_KM
        lat2 = math.asin(math.sin(lat1) * math.cos(ang) + math.cos(lat1) * math.sin(ang) * math.cos(b))
        lon2 = lon1 + math.atan2(math.sin(b) * math.sin(ang) * math.cos(lat1), math.cos(ang) - math.sin(lat1) * math.sin(lat2))
        lat, lon = math.degrees(lat2), (math.degrees(lon2) + 540) % 360 - 180
        assert box.min_lat - 1e-9 <= lat <= box.max_lat + 1e-9
        assert not box.lon_ranges or any(low - 1e-9 <= lon <= high + 1e-9 for low, high in box.lon_ranges)


def test_precision_rounds_or_hides() -> None:
    assert geo.published(52.520008, 13.404954, "exact") == (52.52, 13.405)
    assert geo.published(52.520008, 13.404954, "city") == (52.5, 13.4)
    assert geo.published(52.520008, 13.404954, "hidden") is None
    assert geo.published(None, None, "exact") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [("91,0", "latitude must be between"), ("0,181", "longitude must be between"), ("nan,1", "finite"),
     ("abc", "Place: type a town or city"), ("1,2,3", "Place: type a town or city"), ("x,1", "latitude must be a number")],
)
def test_bad_points_are_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        geo.parse_point(text)


@pytest.mark.parametrize("value", ["0", "-5", "20001", "inf", "lots"])
def test_radius_out_of_range_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match=r"Within \(km\)"):  # the form's words, not the parameter's name
        geo.radius(value)
