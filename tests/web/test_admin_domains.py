"""The admin page of other servers (/admin/domains): block, silence and allow with clear form errors;
admins only."""

from __future__ import annotations

from sqlalchemy import select

from madeopen.app import Services
from storage.models import DomainAllow, DomainBlock
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)


async def _entries(services: Services) -> tuple[dict[str, str], set[str]]:
    async with services.sessions() as session:
        blocked = {row.domain: row.severity for row in await session.scalars(select(DomainBlock))}
        return blocked, set(await session.scalars(select(DomainAllow.domain)))


async def test_admin_blocks_silences_and_allows(ui: UI, services: Services) -> None:
    await create_person(services, "root_ada", admin=True)
    await ui.log_in("root_ada")
    page = await ui.page("/admin/domains")
    assert "open mode" in page and "Silence: keep its posts off the local timeline" in page

    for fields, message in (
        ({"domain": "https://spam.example/", "severity": "block"}, "is not a host name"),
        ({"domain": "", "severity": "block"}, "is not a host name"),
        ({"domain": "spam.example", "severity": "nuke"}, "choose block, silence or allow"),
    ):
        response = await ui.post("/admin/domains", {**fields, "reason": ""}, form_page="/admin/domains")
        text = await response.text()
        assert response.status == 400 and message in text and "Please correct this" in text, fields
    assert await _entries(services) == ({}, set())

    for domain, severity in (("spam.example", "block"), ("loud.example", "silence"), ("partner.example", "allow")):
        response = await ui.post("/admin/domains", {"domain": domain, "severity": severity, "reason": "why not"},
                                 form_page="/admin/domains")
        assert response.status == 303
    page = await ui.page("/admin/domains")
    assert "partner.example is on the allowlist." in page  # the last one's notice
    assert "Blocked" in page and "Silenced" in page and "Allowed" in page
    assert await _entries(services) == ({"spam.example": "block", "loud.example": "silence"}, {"partner.example"})
    assert "blocked the server" in await ui.page("/admin/log")

    response = await ui.post("/admin/domains/remove", {"domain": "spam.example", "severity": "block"},
                             form_page="/admin/domains")
    assert response.status == 303
    assert (await _entries(services))[0] == {"loud.example": "silence"}


async def test_members_get_403(ui: UI, services: Services) -> None:
    await create_person(services, "member")
    await ui.log_in("member")
    for path in ("/admin/domains", "/admin/reports", "/admin/log"):
        assert (await ui.get(path)).status == 403, path
    response = await ui.post("/admin/domains", {"domain": "spam.example", "severity": "block"},
                             form_page="/settings/profile")
    assert response.status == 403
    assert await _entries(services) == ({}, set())
