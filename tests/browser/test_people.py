"""The people finder in a real browser: a member fills in skills and a place (by name) on the profile form, a
group's moderator says what the group is looking for, and the group page, a post and the finder show who
could help. axe-core finds no serious or critical problem on the profile form, /people and /search.
"""

from __future__ import annotations

from tests.browser.conftest import Visitor, create_user
from tests.browser.test_groups import _create_group, _start_thread
from tests.support.servers import Node


def _bea_describes_herself(bea: Visitor) -> None:
    page = bea.page
    bea.log_in("bea")
    bea.goto("/settings/profile")
    assert page.get_by_label("Latitude").count() == 0  # a place is typed by name (issue #16)
    bea.fill({"Headline": "Joiner", "Professional skills": "Carpentry, Python", "Soft skills": "Teaching",
              "Interests": "Urban gardening", "Place": "Nowhereville"})
    bea.submit("Save profile")
    assert "could not find a town or city" in page.locator("#location_name-error").inner_text()  # next to its field
    assert page.get_by_label("Professional skills").input_value() == "Carpentry, Python"  # kept as typed
    page.get_by_label("Place", exact=True).fill("Berlin")
    page.get_by_label("Everyone sees the town or city", exact=False).check()
    bea.submit("Save profile")
    assert page.get_by_role("status").inner_text() == "Your profile has been saved."
    assert page.get_by_label("Professional skills").input_value() == "carpentry, python"
    bea.screenshot("settings-profile-people")
    bea.assert_accessible()
    bea.fits_width()


def test_profile_form_suggests_existing_tags_for_the_entry_being_typed(browser: object, node: Node) -> None:
    """The profile's comma-separated skills and interests offer tags others already use (/static/tags.js
    and /api/tags, as on /people), for the entry after the last comma."""
    create_user(node, "ada")
    create_user(node, "bea")
    bea = Visitor(browser, node)
    ada = Visitor(browser, node)
    try:
        _bea_describes_herself(bea)
        ada.log_in("ada")
        ada.goto("/settings/profile")
        page = ada.page
        skills = page.get_by_label("Professional skills")
        skills.press_sequentially("carp")
        offered = page.locator("#skills-suggestions option").first
        offered.wait_for(state="attached")
        assert offered.get_attribute("value") == "carpentry"
        skills.fill("")
        skills.press_sequentially("Bookkeeping, pyth")  # the earlier entries stay as typed
        page.locator('#skills-suggestions option[value="Bookkeeping, python"]').wait_for(state="attached")
        page.get_by_label("Interests").press_sequentially("urb")
        page.locator('#interests-suggestions option[value="urban gardening"]').wait_for(state="attached")
        ada.assert_accessible()
        ada.fits_width()
    finally:
        ada.close()
        bea.close()


def test_skills_on_the_profile_find_their_way_to_the_people_who_need_them(
    visitor: Visitor, browser: object, node: Node
) -> None:
    create_user(node, "ada")
    create_user(node, "bea")
    bea = Visitor(browser, node)
    try:
        _bea_describes_herself(bea)
    finally:
        bea.close()

    visitor.log_in("ada")
    page = visitor.page
    _create_group(visitor, "workshop", "Neighbourhood Workshop")
    page.get_by_role("link", name="Moderation", exact=False).click()
    page.wait_for_url("**/groups/workshop/moderation")
    visitor.fill({"Skills this group is looking for": "carpentry, plumbing"})
    visitor.submit("Save")
    assert "who could help" in page.get_by_role("status").inner_text()
    visitor.goto("/groups/workshop")
    helpers = page.get_by_role("region", name="People who could help")
    assert "bea@" in helpers.inner_text() and "carpentry" in helpers.inner_text()

    # A post about carpentry suggests bea.
    _start_thread(visitor, "workshop", "A shelf for the library", "Who can help with some carpentry?")
    panel = page.get_by_role("region", name="People who could help")
    assert "bea@" in panel.inner_text()
    visitor.screenshot("thread-helpers")

    # The finder: by skill, with a place nearby; then full-text search.
    page.get_by_role("link", name="People", exact=True).click()
    page.wait_for_url("**/people")
    skills = page.get_by_label("Skills", exact=True)
    skills.press_sequentially("carp")  # existing tags suggested as you type (datalist from /api/tags)
    suggested = page.locator("#skill-suggestions option").first
    suggested.wait_for(state="attached")
    assert suggested.get_attribute("value") == "carpentry"
    # "carpenter" finds her carpentry; a place typed by name (Potsdam, 27 km from Berlin) comes from the gazetteer.
    visitor.fill({"Skills": "carpenter", "Place": "Potsdam", "Within (km)": "40"})
    visitor.submit("Find people")
    results = page.get_by_role("region", name="1 person")
    assert "bea@" in results.inner_text() and "Joiner" in results.inner_text()
    visitor.screenshot("people-finder")
    visitor.assert_accessible()
    visitor.fits_width()

    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_url("**/search")
    page.get_by_role("searchbox").fill("carpentry")
    visitor.submit("Search")
    main = page.locator("main").inner_text()
    assert "bea" in main and "A shelf for the library" in main
    visitor.screenshot("search")
    visitor.assert_accessible()
    visitor.fits_width()
