"""Places on the globe: validating coordinates, rounding them to a chosen precision, distances.

Precision is the member's choice and is applied before anything leaves their own settings page:

- ``exact``: 4 decimal places (about 11 m) - no one needs more to find a neighbour;
- ``city``: 1 decimal place (about 11 km north-south), published with a 10 km ``radius``;
- ``hidden``: no coordinates and no place name at all, anywhere (pages, JSON, AS2, search).

Distances are great-circle distances (haversine, mean Earth radius). A radius search first narrows
the rows with a latitude/longitude box in SQL (an index on the rounded coordinates), then measures
each remaining row exactly; ``bounding_box`` handles the poles and the antimeridian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from actors.errors import InvalidInput

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
PRECISIONS = ("exact", "city", "hidden")
_DECIMALS = {"exact": 4, "city": 1}
CITY_RADIUS_KM = 10.0
MAX_RADIUS_KM = 20_000.0  # half the circumference: every point on Earth
DEFAULT_RADIUS_KM = 100.0


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    lon_ranges: tuple[tuple[float, float], ...]  # one, or two across the antimeridian; empty: any longitude


def _number(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            number = float(value.strip())
        except ValueError:
            raise InvalidInput(f"{what} must be a number, got {value.strip()[:40]!r}") from None
    else:
        raise InvalidInput(f"{what} must be a number")
    if not math.isfinite(number):
        raise InvalidInput(f"{what} must be a finite number")
    return number


def coordinates(latitude: object, longitude: object) -> tuple[float, float]:
    """Validated (latitude, longitude): -90..90 and -180..180, finite numbers (or numeric strings)."""
    lat = _number(latitude, "latitude")
    lon = _number(longitude, "longitude")
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(f"latitude must be between -90 and 90, got {lat:g}")
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(f"longitude must be between -180 and 180, got {lon:g}")
    return lat, lon


def parse_point(text: str) -> tuple[float, float]:
    """``"52.52,13.40"`` (latitude, longitude) -> a validated pair."""
    parts = text.split(",")
    if len(parts) != 2:
        raise InvalidInput(f"Place: type a town or city, or 'latitude,longitude' (for example 52.52,13.40), not {text[:60]!r}")
    return coordinates(parts[0], parts[1])


def radius(value: object) -> float:
    km = _number(value, "Within (km)")
    if not 0.0 < km <= MAX_RADIUS_KM:
        raise InvalidInput(f"Within (km) must be more than 0 and at most {MAX_RADIUS_KM:,.0f} km, not {km:g}")
    return km


def check_precision(value: str) -> str:
    if value not in PRECISIONS:
        raise InvalidInput(f"location precision must be one of {', '.join(PRECISIONS)}, got {value[:20]!r}")
    return value


def published(latitude: float | None, longitude: float | None, precision: str) -> tuple[float, float] | None:
    """What others may see of a point: rounded to ``precision``; None when hidden or unknown."""
    if latitude is None or longitude is None or precision not in _DECIMALS:
        return None
    decimals = _DECIMALS[precision]
    lat = round(latitude, decimals)
    lon = round(longitude, decimals)
    if lon <= -180.0:
        lon += 360.0
    elif lon > 180.0:
        lon -= 360.0
    return lat + 0.0, lon + 0.0  # no "-0.0"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> Box:
    """Every point within ``radius_km`` of (lat, lon) lies in this box (it may hold more)."""
    angular = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0 or angular >= math.pi / 2:
        return Box(max(min_lat, -90.0), min(max_lat, 90.0), ())  # a pole is inside: any longitude
    # The widest longitude span of the circle (not at the centre's latitude: J. Matuschek's formula).
    dlon = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
    low, high = lon - dlon, lon + dlon
    if low < -180.0:
        return Box(min_lat, max_lat, ((low + 360.0, 180.0), (-180.0, high)))
    if high > 180.0:
        return Box(min_lat, max_lat, ((low, 180.0), (-180.0, high - 360.0)))
    return Box(min_lat, max_lat, ((low, high),))
