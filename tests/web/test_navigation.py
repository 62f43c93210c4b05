"""The site's navigation (issue #16): a handful of links in plain words ("Everything here", "Find"), the
same links behind a "Menu" <details> for phones (no JavaScript needed), and a favicon on every page."""

from __future__ import annotations

import re

from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)
from madeopen.app import Services


def _main_links(page: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', page, re.S)
    assert nav
    return [re.sub(r"<[^>]+>", "", link).strip() for link in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(1), re.S)]


async def test_plain_words_a_handful_of_links_and_a_phone_menu(ui: UI, services: Services) -> None:
    page = await ui.page("/")
    assert _main_links(page) == ["Everything here", "Groups", "People", "Search"]
    assert re.search(r'<details class="site-menu">\s*<summary>Menu', page)
    assert page.count('aria-label="Main"') == 2  # wide and phone copies; site.css shows one at a time
    await create_person(services, "ada")
    await ui.log_in("ada")
    page = await ui.page("/")
    links = _main_links(page)
    assert links == ["Home", "Everything here", "Groups", "People", "Search", "Find on other servers"]
    assert "Lookup" not in page and ">Local<" not in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


async def test_the_timelines_name_the_node_wide_one_in_plain_words(ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    await ui.log_in("ada")
    for path in ("/home", "/local"):
        page = await ui.page(path)
        assert ">Local<" not in page and "<title>Local" not in page
        assert re.search(r'<a href="/local"[^>]*>Everything here</a>', page)
    assert "<h1>Everything here</h1>" in await ui.page("/local")
