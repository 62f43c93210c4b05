"""Security headers (web/security_headers.py): every HTML page, error pages and redirects included, gets a
strict CSP that forbids framing; every response gets nosniff; pages need no inline script or style."""

from __future__ import annotations

import re

from madeopen.app import Services
from tests.support.web_ui import HTML, UI, create_person, ui  # noqa: F401  (fixture)
from web.security_headers import CONTENT_SECURITY_POLICY

AS2 = "application/activity+json"


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


async def test_every_html_page_forbids_framing_and_inline_script(ui: UI, services: Services) -> None:
    await create_person(services, "cleo", admin=True)
    anonymous = ["/", "/login", "/signup", "/groups", "/people", "/search", "/users/cleo", "/no/such/page",
                 "/users/nobody"]
    logged_in = ["/settings/profile", "/settings/password", "/admin/users", "/admin/settings", "/notifications",
                 "/new-group", "/lookup"]
    for path in [*anonymous, None, *logged_in]:
        if path is None:
            await ui.log_in("cleo")
            continue
        response = await ui.get(path)
        assert response.content_type == "text/html", path
        policy = _directives(response.headers.get("Content-Security-Policy", ""))
        assert policy.get("frame-ancestors") == "frame-ancestors 'none'", path
        assert policy.get("script-src") == "script-src 'self'" and policy.get("default-src") == "default-src 'none'"
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path
        assert response.headers.get("Referrer-Policy") == "same-origin", path
        assert response.headers.get("X-Frame-Options") == "DENY", path
        page = await response.text()
        # What the policy would block: nothing of it is on our pages.
        # Only our own scripts, by address (script-src 'self'), never inline.
        scripts = re.findall(r"<script[^>]*>", page)
        assert all(re.fullmatch(r'<script src="/static/[a-z_]+\.js" defer>', tag) for tag in scripts), (path, scripts)
        assert "<style" not in page and " style=" not in page, path
        assert not re.search(r"\son[a-z]+=", page), path
        assert "javascript:" not in page, path


async def test_error_and_refusal_pages_carry_the_headers(ui: UI, services: Services) -> None:
    for response in (
        await ui.get("/no/such/page"),
        await ui.client.post("/settings/profile", data={"x": "y"}, headers={"Accept": HTML}),  # CSRF refusal
        await ui.get("/admin/users"),  # a redirect to the log-in page
    ):
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        if response.content_type == "text/html":
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


async def test_federation_json_gets_only_nosniff(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    response = await ui.client.get("/users/cleo", headers={"Accept": AS2})
    assert response.status == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


async def test_the_branding_stylesheet_is_served_from_this_origin(ui: UI, services: Services) -> None:
    page = await ui.page("/")
    style = await ui.branding(page)
    assert style.startswith(":root { --accent: #")
