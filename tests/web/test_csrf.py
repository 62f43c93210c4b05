"""CSRF (web/csrf.py): every state-changing route refuses a logged-in browser's request that neither carries
the form token nor comes from this site, whatever its Content-Type; signed federation POSTs are exempt.

The route test enumerates the application's router, so a route added later is covered without anyone
remembering to add it here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from madeopen.app import Services
from tests.conftest import TEST_DOMAIN
from tests.support.web_ui import HTML, UI, create_person, person, ui  # noqa: F401  (fixture)
from web.routes import inbox, mail_settings

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
OURS = f"https://{TEST_DOMAIN}"
EVIL = "https://evil.example"
CROSS_SITE_TEXT = "did not come from this site"
# A value for every placeholder of the router's dynamic routes; a route whose placeholders are not here
# fails the test with a message saying so (so that it is added, not skipped).
SAMPLES = {"name": "victim", "action": "suspend", "id": "1", "kind": "users", "actor": "2", "scope": "mentions",
           "token": "forged", "doc": "1", "proposal": "1", "comment": "1", "key": "1"}
_PLACEHOLDER = re.compile(r"\{(\w+)(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    exempt: bool  # a federation inbox (signed server-to-server POSTs, checked by their signature), or the
    # one-click unsubscribe of mail (RFC 8058: no session; the HMAC token in its path authorises it)


def _path(resource: web.AbstractResource) -> str:
    info = resource.get_info()
    if "path" in info:
        return str(info["path"])
    template = str(info["formatter"])
    names = re.findall(r"\{(\w+)\}", template)
    missing = [n for n in names if n not in SAMPLES]
    assert not missing, f"add a sample value for {missing} of {template} to SAMPLES"
    return template.format(**{n: SAMPLES[n] for n in names})


def unsafe_routes(app: web.Application) -> Iterator[Route]:
    for route in app.router.routes():
        methods = UNSAFE if route.method == "*" else (route.method,)
        for method in methods:
            if method in UNSAFE:
                yield Route(method, _path(route.resource),  # type: ignore[arg-type]
                            _names(route.handler) in (_names(inbox.inbox), _names(mail_settings.unsubscribe)))


def _names(handler: object) -> tuple[str, str]:
    # A route's handler until its module is imported is a stand-in named as the function (web/route_table.py).
    return getattr(handler, "__module__", ""), getattr(handler, "__qualname__", "")


async def _resolves_to_itself(app: web.Application, route: Route) -> bool:
    match = await app.router.resolve(make_mocked_request(route.method, route.path, app=app))
    return match.http_exception is None


async def _logged_in_admin(ui: UI, services: Services) -> None:
    await create_person(services, "root_ada", admin=True)
    await create_person(services, "victim")
    await ui.log_in("root_ada")


# Requests a page on another site can make a logged-in browser send (fetch no-cors with credentials, or a
# form), none with the token: each must be refused before the handler runs.
FORGED: list[tuple[str, dict[str, str], bytes]] = [
    ("no Content-Type", {}, b""),
    ("JSON", {"Content-Type": "application/json"}, b"{}"),
    ("JSON from another site", {"Content-Type": "application/json", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
     b"{}"),
    ("same-site subdomain", {"Content-Type": "application/json", "Origin": f"https://x.{TEST_DOMAIN}",
                             "Sec-Fetch-Site": "same-site"}, b"{}"),
    ("opaque origin", {"Content-Type": "application/octet-stream", "Origin": "null"}, b"x"),
    ("form without token", {"Content-Type": "application/x-www-form-urlencoded", "Origin": OURS}, b"a=b"),
    ("text/plain", {"Content-Type": "text/plain", "Origin": EVIL}, b"csrf_token=x"),
]


async def test_every_state_changing_route_refuses_a_forged_request(ui: UI, services: Services) -> None:
    await _logged_in_admin(ui, services)
    app = ui.client.server.app
    assert app is not None
    routes = list(unsafe_routes(app))
    assert len(routes) > 20  # the enumeration found the application's routes
    for route in routes:
        assert await _resolves_to_itself(app, route), f"{route.path} does not reach {route.method} {route}"
    checked = [route for route in routes if not route.exempt]
    for route in checked:
        for label, headers, body in FORGED:
            response = await ui.client.request(
                route.method, route.path, data=body, allow_redirects=False,
                headers={"Accept": HTML, **headers}, skip_auto_headers=["Content-Type"],
            )
            text = await response.text()
            assert response.status == 403, f"{route.method} {route.path} with {label}: {response.status} {text[:300]}"
            assert CROSS_SITE_TEXT in text, (route.path, label)
    # Nothing was done: the victim is not suspended, and the admin is still logged in.
    victim = await person(services, "victim")
    assert victim is not None and victim.account is not None and not victim.account.suspended
    assert await ui.logged_in_as() == "root_ada"
    # The only exempt routes are the inboxes: a signed request goes on to its signature check (a page cannot
    # add a Signature header cross-site without a CORS preflight); an unsigned one is refused either way.
    unsubscribe = "/mail/unsubscribe/2/mentions/forged"
    for label, headers, body in FORGED:  # a forged token is refused by the handler, whatever else comes
        response = await ui.client.post(unsubscribe, data=body, headers={"Accept": HTML, **headers},
                                        skip_auto_headers=["Content-Type"])
        assert response.status == 403 and "This unsubscribe link is not valid" in await response.text(), label
    for route in (r for r in routes if r.exempt and r.path != unsubscribe):
        signed = {"Content-Type": "application/activity+json", "Signature": 'keyId="https://evil.example/k"'}
        response = await ui.client.post(route.path, data=b"{}", headers=signed)
        assert response.status in (400, 401) and CROSS_SITE_TEXT not in await response.text()  # the inbox's answer
        response = await ui.client.post(route.path, data=b"{}", headers={"Content-Type": "application/activity+json"})
        assert response.status in (401, 403)
    assert {r.path for r in routes if r.exempt} == {"/inbox", "/actor/inbox", "/users/victim/inbox", unsubscribe}


@pytest.mark.parametrize("content_type", [None, "application/json", "application/x-unknown"])
async def test_suspending_from_another_site_is_refused(ui: UI, services: Services, content_type: str | None) -> None:
    """The probe's case: fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include', body: ...})."""
    await _logged_in_admin(ui, services)
    headers = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    if content_type:
        headers["Content-Type"] = content_type
    response = await ui.client.post(
        "/admin/users/victim/suspend", data=b"", headers=headers, skip_auto_headers=["Content-Type"],
        allow_redirects=False,
    )
    assert response.status == 403
    victim = await person(services, "victim")
    assert victim is not None and victim.account is not None and not victim.account.suspended


async def test_a_browser_without_fetch_metadata_or_origin_is_refused(ui: UI, services: Services) -> None:
    await _logged_in_admin(ui, services)
    for path in ("/logout", "/notifications/read", "/groups/victim/join"):
        response = await ui.client.post(path, allow_redirects=False, skip_auto_headers=["Content-Type"])
        assert response.status == 403, path
    assert await ui.logged_in_as() == "root_ada"


async def test_same_origin_json_and_forms_with_the_token_still_work(ui: UI, services: Services) -> None:
    await _logged_in_admin(ui, services)
    for headers in ({"Origin": OURS}, {"Origin": OURS, "Sec-Fetch-Site": "same-origin"},
                    {"Sec-Fetch-Site": "same-origin"}):
        response = await ui.client.put(
            "/api/profile", data=b'{"skills": ["python"]}',
            headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        )
        assert response.status == 200, (headers, await response.text())
    response = await ui.post("/admin/users/victim/suspend", {"reason": "spam"}, form_page="/admin/users")
    assert response.status == 303
    victim = await person(services, "victim")
    assert victim is not None and victim.account is not None and victim.account.suspended


async def test_without_a_session_cookie_the_handler_answers(ui: UI, services: Services) -> None:
    """No session authenticates it: the API says 401, not a CSRF refusal (scripts without a browser)."""
    response = await ui.client.put("/api/profile", data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 401
