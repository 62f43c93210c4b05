"""Word forms, near spellings and place names in the people finder (issue #16): "carpenter" finds a
carpentry skill, "gardening" an interest in urban gardening, a misspelt "carpentery" still finds it; in the
words box "carpenter" finds a profile text saying "carpentry";
a place typed by name becomes coordinates from the offline gazetteer (people.gazetteer), in the profile
and in a search; an unknown place is refused in words and changes nothing."""

from __future__ import annotations

import pytest

from actors.node_settings import InvalidFields
from actors.errors import InvalidInput
from inbox_outbox.services import profiles as profile_services
from madeopen.app import Services
from people import gazetteer, profiles, word_forms
from people.profiles import ProfileChange
from tests.people.conftest import find, member


@pytest.mark.parametrize(("searched", "tag", "related"), [
    ("carpenter", "carpentry", True), ("carpentry", "carpenter", True), ("carpentery", "carpentry", True),
    ("gardening", "urban gardening", True), ("gardener", "gardening", True),
    ("urban gardening", "gardening", False), ("cooking", "coding", False), ("welding", "wedding", False),
])
def test_related_word_forms(searched: str, tag: str, related: bool) -> None:
    assert word_forms.related(searched, tag) is related


def test_gazetteer_finds_towns_by_name_and_country() -> None:
    leeds = gazetteer.find("leeds")
    assert leeds is not None and leeds.country_code == "GB" and round(leeds.latitude) == 54
    assert gazetteer.find("Sao  Paulo").name == "São Paulo"  # type: ignore[union-attr]
    paris_texas = gazetteer.find("Paris, United States")
    assert paris_texas is not None and paris_texas.country_code == "US"
    assert gazetteer.find("Paris").country_code == "FR"  # type: ignore[union-attr]  # the most populous
    assert gazetteer.find("Nowhereville") is None and gazetteer.find("Paris, Atlantis") is None


async def test_carpenter_finds_carpentry_and_gardening_urban_gardening(services: Services) -> None:
    await member(services, "ann", skills=["Carpentry"], interests=["Urban gardening"])
    await member(services, "bob", skills=["Cooking"])
    for params in ({"skill": "carpenter"}, {"skill": "carpentery"}, {"tag": "carpenter"}, {"interest": "gardening"}):
        found = await find(services, **params)
        assert [person.handle for person in found.people] == ["ann@node.test"], params
    assert (await find(services, skill="carpenter")).query.skills == ("carpenter",)  # what was asked, echoed


async def test_words_find_longer_forms_of_a_word_in_profile_texts(services: Services) -> None:
    """The words box: "carpenter" finds a headline saying "carpentry" (its stem begins the other's), on both
    databases; a short stem ("art") matches whole words only, not every word it begins."""
    await member(services, "ann", headline="Weekend carpentry and urban gardening")
    await member(services, "bob", headline="Cook")
    await member(services, "cara", headline="Artist")
    for words in ("carpenter", "gardening", "carpenter gardening", "Carpenter, urban"):
        found = await find(services, q=words)
        assert [person.handle for person in found.people] == ["ann@node.test"], words
    assert (await find(services, q="carpenter cook")).people == []  # still every word
    assert (await find(services, q="art")).people == []
    assert [person.handle for person in (await find(services, q="artist")).people] == ["cara@node.test"]


async def test_a_trade_finds_the_people_who_ply_it(services: Services) -> None:
    """The other way round: "carpentry" finds a headline saying "carpenter" (and "joinery" a joiner,
    "photography" a photographer, "bakery" a baker), on both databases; still every word must match."""
    await member(services, "dan", headline="Carpenter, joiner and photographer")
    await member(services, "eve", headline="Baker")
    for words in ("carpentry", "joinery", "photography", "carpentry photography"):
        found = await find(services, q=words)
        assert [person.handle for person in found.people] == ["dan@node.test"], words
    assert [person.handle for person in (await find(services, q="bakery")).people] == ["eve@node.test"]
    assert (await find(services, q="bakery carpentry")).people == []


def test_only_long_stems_match_longer_words() -> None:
    assert word_forms.matches_longer("carpenter") and word_forms.matches_longer("gardening")
    assert not word_forms.matches_longer("art") and not word_forms.matches_longer("cook")


async def test_place_typed_by_name_gets_coordinates_and_is_found_near(services: Services) -> None:
    ann = await member(services, "ann", skills=["carpentry"], location_name="Leeds", location_precision="city")
    async with services.sessions() as session:
        saved = await profiles.own_profile(session, services.urls, ann.id)
    assert saved.latitude is not None and abs(saved.latitude - 53.8) < 0.1 and abs(saved.longitude + 1.55) < 0.1
    near = await find(services, skill="carpenter", near="Bradford", radius_km="30")  # 15 km away
    assert [person.handle for person in near.people] == ["ann@node.test"]
    assert (await find(services, skill="carpenter", near="London", radius_km="30")).people == []

    before = saved
    async with services.sessions.begin() as session:
        with pytest.raises(InvalidFields) as caught:
            await profile_services.save_profile(session, services.urls, ann.id,
                                                ProfileChange(location_name="Nowhereville"))
    assert "could not find a town or city called “Nowhereville”" in caught.value.errors["location_name"]
    async with services.sessions() as session:
        assert await profiles.own_profile(session, services.urls, ann.id) == before
    with pytest.raises(InvalidInput, match="could not find a town or city"):
        await find(services, near="Nowhereville")
