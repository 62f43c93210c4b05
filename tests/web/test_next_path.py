"""``next`` after logging in (web/next_path.py): only paths of this site, however a browser would read it."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from madeopen.app import Services
from tests.support.web_ui import PASSWORD, UI, create_person, ui  # noqa: F401  (fixture)
from web.next_path import safe_next

# Each of these is another host (or a scheme) to a browser, once it has dropped tabs and newlines and
# read backslashes as slashes (WHATWG URL Standard).
HOSTILE = [
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", "//evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "https:evil.example", "https://evil.example",
    "javascript:alert(1)", "evil.example", " /\x00/evil.example", "/\x0b/evil.example", "/\u3000/evil.example",
    "/\u200b/evil.example", "///evil.example", "\x00//evil.example", "/ /evil.example",
]
FINE = ["/", "/groups/gardeners", "/people?q=python%20dev&skill=a", "/remote-group?id=https%3A%2F%2Fx.example%2Fg"]


@pytest.mark.parametrize("value", HOSTILE)
def test_anything_a_browser_reads_as_another_host_goes_home(value: str) -> None:
    assert safe_next(value) == "/"
    # And what is returned really is a path of ours as a browser resolves it.
    assert urljoin("https://node.test/login", safe_next(value)).startswith("https://node.test/")


@pytest.mark.parametrize("value", FINE)
def test_paths_of_this_site_are_kept(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize("value", ["/\t/evil.example", "/\n/evil.example", "/\\evil.example"])
async def test_logging_in_never_leaves_the_site(ui: UI, services: Services, value: str) -> None:
    await create_person(services, "cleo")
    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD, "next": value})
    assert response.status == 303 and response.headers["Location"] == "/users/cleo"
    response = await ui.get("/login?" + "next=" + value.replace("\t", "%09").replace("\n", "%0A"))
    assert response.status == 303 and response.headers["Location"] == "/"  # logged in already: home


async def test_a_page_with_a_query_brings_the_visitor_back_after_logging_in(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    response = await ui.get("/settings/profile?tab=a%20b")
    assert response.status == 303
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    form = await ui.page(login_url)
    assert 'value="/settings/profile?tab=a%20b"' in form
    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD, "next": "/settings/profile?tab=a%20b"})
    assert response.headers["Location"] == "/settings/profile?tab=a%20b"
