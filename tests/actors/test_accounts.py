"""Account and node-settings services on their own (both database backends): rules, and nothing
changed when input is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from actors import account_admin, accounts, browser_sessions, local, media, node_settings
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.node_settings import InvalidFields
from actors.passwords import verify_password
from madeopen.app import Services
from storage.models import Account, LocalActor, NodeSetting
from tests.support.web_ui import png

PASSWORD = "correct horse battery"


async def _count_people(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Account)) or 0


async def _mode(services: Services, mode: str) -> None:
    """Sign-ups in ``mode``, a mail address optional (tests/web/test_account_mail.py: required)."""
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.REGISTRATION, value=mode))
        session.add(NodeSetting(key=node_settings.EMAIL_REQUIRED, value="0"))


async def _person(services: Services, name: str, *, admin: bool = False) -> int:
    async with services.sessions.begin() as session:
        actor = await local.create_person(session, local.NewPerson(username=name, password=PASSWORD, is_admin=admin))
        return actor.id


# --- first run ----------------------------------------------------------------------------------------------


async def test_first_admin_only_once(services: Services) -> None:
    run = accounts.FirstRun("ada", PASSWORD, PASSWORD, "  Riverside   Makers ")
    async with services.sessions.begin() as session:
        admin = await accounts.create_first_admin(session, run)
        assert admin.account is not None and admin.account.is_admin
    async with services.sessions() as session:
        assert (await node_settings.load(session)).name == "Riverside Makers"
        assert await accounts.has_admin(session)
    with pytest.raises(NotFound):
        async with services.sessions.begin() as session:
            await accounts.create_first_admin(session, accounts.FirstRun("eve", PASSWORD, PASSWORD, "Mine"))
    assert await _count_people(services) == 1


async def test_first_run_marker_stops_a_concurrent_second_run(services: Services) -> None:
    # Another process finished its first run between our check and our insert: its marker row is there.
    async with services.sessions.begin() as session:
        session.add(NodeSetting(key=node_settings.SETUP_DONE, value="1"))
    with pytest.raises(NotFound):
        async with services.sessions.begin() as session:
            await accounts.create_first_admin(session, accounts.FirstRun("eve", PASSWORD, PASSWORD, "Mine"))
    assert await _count_people(services) == 0


async def test_first_run_reports_every_bad_field_at_once(services: Services) -> None:
    with pytest.raises(InvalidFields) as refused:
        async with services.sessions.begin() as session:
            await accounts.create_first_admin(session, accounts.FirstRun("no way", "short", "short", ""))
    assert set(refused.value.errors) == {"username", "password", "node_name"}
    assert refused.value.status == 400
    assert await _count_people(services) == 0


# --- sign-up and log-in -------------------------------------------------------------------------------------


async def test_sign_up_follows_the_registration_mode(services: Services) -> None:
    new = accounts.SignUp("bea", PASSWORD, PASSWORD)
    with pytest.raises(Forbidden):  # closed is the default
        async with services.sessions.begin() as session:
            await accounts.sign_up(session, new)
    await _mode(services, "approval")
    async with services.sessions.begin() as session:
        result = await accounts.sign_up(session, new)
        assert result.pending and result.actor.account is not None
        assert result.actor.account.approval_pending and result.actor.account.suspended
    async with services.sessions.begin() as session:
        row = await session.get(NodeSetting, node_settings.REGISTRATION)
        assert row is not None
        row.value = "open"
    async with services.sessions.begin() as session:
        result = await accounts.sign_up(session, accounts.SignUp("cid", PASSWORD, PASSWORD, "  Cid  C. "))
        assert not result.pending and result.actor.display_name == "Cid C."


async def test_sign_up_refuses_duplicates_case_insensitively(services: Services) -> None:
    await _mode(services, "open")
    await _person(services, "bea")
    with pytest.raises(InvalidFields) as refused:
        async with services.sessions.begin() as session:
            await accounts.sign_up(session, accounts.SignUp("BEA", PASSWORD, PASSWORD))
    assert "already taken" in refused.value.errors["username"]
    assert await _count_people(services) == 1


async def test_authenticate(services: Services) -> None:
    await _person(services, "cleo")
    refusals = []
    for name, password in (("cleo", "wrong password"), ("nobody", PASSWORD), ("", PASSWORD)):
        with pytest.raises(accounts.LoginRefused) as refused:
            async with services.sessions.begin() as session:
                await accounts.authenticate(session, name, password)
        refusals.append(refused.value.message)
    assert len(set(refusals)) == 1
    async with services.sessions.begin() as session:
        actor = await accounts.authenticate(session, "@Cleo", PASSWORD)
    async with services.sessions() as session:
        stored = await session.get(LocalActor, actor.id)
        assert stored is not None and stored.account is not None and stored.account.last_active_at is not None


@pytest.mark.parametrize("state,message", [("suspended", "suspended"), ("approval_pending", "waiting")])
async def test_held_accounts_cannot_log_in(services: Services, state: str, message: str) -> None:
    actor_id = await _person(services, "dan")
    async with services.sessions.begin() as session:
        account = await session.get(Account, actor_id)
        assert account is not None
        setattr(account, state, True)
    with pytest.raises(accounts.LoginRefused, match=message):
        async with services.sessions.begin() as session:
            await accounts.authenticate(session, "dan", PASSWORD)
    async with services.sessions() as session:
        assert await accounts.active_person(session, actor_id) is None
        account = await session.get(Account, actor_id)
        assert account is not None and account.last_active_at is None


async def test_change_password_needs_the_current_one(services: Services) -> None:
    actor_id = await _person(services, "eve")
    with pytest.raises(InvalidFields) as refused:
        async with services.sessions.begin() as session:
            await accounts.change_password(session, actor_id, "wrong", "new password 1", "new password 1")
    assert list(refused.value.errors) == ["current_password"]
    async with services.sessions.begin() as session:
        await browser_sessions.start(session, actor_id, browser_sessions.Client("Firefox", "192.0.2.1"))
    async with services.sessions.begin() as session:
        await accounts.change_password(session, actor_id, PASSWORD, "new password 1", "new password 1")
    async with services.sessions() as session:
        account = await session.get(Account, actor_id)
        assert account is not None and verify_password(account.password_hash, "new password 1")
        assert not verify_password(account.password_hash, PASSWORD)
        assert await browser_sessions.list_for(session, actor_id) == []  # the old sessions are over


# --- profile ------------------------------------------------------------------------------------------------


async def test_refused_profile_edit_changes_nothing(services: Services, tmp_path: Path) -> None:
    actor_id = await _person(services, "gus")
    media_dir = tmp_path / "media"
    update = accounts.ProfileUpdate("x" * 101, "b" * 5001, media.Upload(b"GIF80a not really"))
    with pytest.raises(InvalidFields) as refused:
        async with services.sessions.begin() as session:
            await accounts.update_profile(session, actor_id, update, media_dir)
    assert set(refused.value.errors) == {"display_name", "bio", "avatar"}
    async with services.sessions() as session:
        actor = await session.get(LocalActor, actor_id)
        assert actor is not None and (actor.display_name, actor.summary, actor.avatar) == ("gus", "", None)
    assert not media_dir.exists()


async def test_profile_edit_stores_the_avatar_and_hands_back_the_old_one(services: Services, tmp_path: Path) -> None:
    actor_id = await _person(services, "gus")
    media_dir = tmp_path / "media"
    async with services.sessions.begin() as session:
        discard = await accounts.update_profile(
            session, actor_id, accounts.ProfileUpdate("", "hi", media.Upload(png(), "a.png")), media_dir
        )
    assert discard == []
    async with services.sessions() as session:
        actor = await session.get(LocalActor, actor_id)
        assert actor is not None and actor.display_name == "gus" and actor.avatar
        first = actor.avatar
    assert (media_dir / first).read_bytes() == png()
    async with services.sessions.begin() as session:
        discard = await accounts.update_profile(
            session, actor_id, accounts.ProfileUpdate("Gus", "hi", None, remove_avatar=True), media_dir
        )
    assert discard == [first]


def test_bio_is_markdown_rendered_and_sanitised() -> None:
    assert accounts.bio_html("") == ""
    assert accounts.bio_html("plain\ntext") == "<p>plain<br>\ntext</p>"
    html = accounts.bio_html("# Title\n\n*me* <img src=x onerror=alert(1)> [a](javascript:x) [b](/relative)")
    assert "<h1>" not in html and "Title" in html and "<em>me</em>" in html
    assert "<img" not in html and "href" not in html


# --- administration -----------------------------------------------------------------------------------------


async def test_only_admins_moderate(services: Services) -> None:
    member = await _person(services, "member")
    await _person(services, "other")
    for action in (
        lambda s: account_admin.set_suspended(s, member, "other", True),
        lambda s: account_admin.approve(s, member, "other"),
        lambda s: account_admin.reject(s, member, "other"),
        lambda s: account_admin.list_people(s, member),
    ):
        with pytest.raises(Forbidden):
            async with services.sessions.begin() as session:
                await action(session)


async def _admin_other_and_sign_up(services: Services) -> int:
    """An admin "boss" (its id is returned), an active "other", and "newbie" waiting for approval."""
    admin = await _person(services, "boss", admin=True)
    await _person(services, "other")
    await _mode(services, "approval")
    async with services.sessions.begin() as session:
        await accounts.sign_up(session, accounts.SignUp("newbie", PASSWORD, PASSWORD))
    return admin


async def test_suspend_approve_reject(services: Services) -> None:
    admin = await _admin_other_and_sign_up(services)
    async with services.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="own account"):
            await account_admin.set_suspended(session, admin, "boss", True)
    async with services.sessions.begin() as session:
        with pytest.raises(InvalidInput, match="waiting for approval"):
            await account_admin.set_suspended(session, admin, "newbie", True)
    async with services.sessions.begin() as session:
        await account_admin.set_suspended(session, admin, "other", True)
        await account_admin.approve(session, admin, "newbie")
    async with services.sessions() as session:
        people, has_next = await account_admin.list_people(session, admin)
    assert {p.username: p.status for p in people} == {"boss": "active", "newbie": "active", "other": "suspended"}
    assert not has_next
    async with services.sessions.begin() as session:
        await accounts.sign_up(session, accounts.SignUp("spam", PASSWORD, PASSWORD))
    async with services.sessions.begin() as session:
        await account_admin.reject(session, admin, "spam")
    assert await _count_people(services) == 3


# --- node settings ------------------------------------------------------------------------------------------


def _update(**change: object) -> node_settings.SettingsUpdate:
    values: dict[str, object] = {
        "name": "Harbour", "description": "", "registration_mode": "open", "accent_color": "#123abc",
        "footer_links": "",
    }
    values.update(change)
    return node_settings.SettingsUpdate(**values)  # type: ignore[arg-type]


async def test_settings_are_saved_only_when_all_fields_are_valid(services: Services, tmp_path: Path) -> None:
    async with services.sessions() as session:
        before = await node_settings.load(session)
    assert before.registration_mode == "closed" and before.name is None and before.accent_color == "#2457c5"
    with pytest.raises(InvalidFields) as refused:
        async with services.sessions.begin() as session:
            await node_settings.save(
                session, _update(accent_color="blue", footer_links="x | mailto:a@b.example", name=""), tmp_path
            )
    assert set(refused.value.errors) == {"node_name", "accent_color", "footer_links"}
    async with services.sessions() as session:
        assert await node_settings.load(session) == before
    async with services.sessions.begin() as session:
        await node_settings.save(session, _update(footer_links="A | https://a.example/x?y=1"), tmp_path)
    async with services.sessions() as session:
        after = await node_settings.load(session)
    assert after.name == "Harbour" and after.accent_color == "#123abc" and after.registration_mode == "open"
    assert after.footer_links_text() == "A | https://a.example/x?y=1"


def test_footer_links_and_colours() -> None:
    links = node_settings.parse_footer_links("  Blog |https://blog.example  \n\nOur  shop | https://x.example/a|b\n")
    assert links == (
        node_settings.FooterLink("Blog", "https://blog.example"),
        node_settings.FooterLink("Our shop", "https://x.example/a|b"),
    )
    for bad in ("https://x.example", "Label |", "| https://x.example", "L | https://", "L | https://x .example"):
        with pytest.raises(InvalidInput):
            node_settings.parse_footer_links(bad)
    assert node_settings.check_colour(" #ABCDEF ") == "#abcdef"
    for colour in ("#ffffff", "#ffee00", "#777777", "#000000", "#2457c5", "#00ff00"):
        assert node_settings.contrast(node_settings.text_on(colour), colour) >= 4.5
        assert node_settings.contrast(node_settings.readable_on_white(colour), "#ffffff") >= 4.5


def test_images_are_recognised_by_their_bytes() -> None:
    assert media.sniff_image(png()) == "png"
    assert media.sniff_image(b"\xff\xd8\xff\xe0rest") == "jpg"
    assert media.sniff_image(b"GIF87a....") == "gif"
    assert media.sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    for not_image in (b"", b"<svg/>", b"%PDF-1.7", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"\x89PNG"):
        assert media.sniff_image(not_image) is None
    assert media.valid_name("A" * 24 + ".png") and not media.valid_name("../" + "A" * 24 + ".png")


# --- standing: what peers and visitors may see of an account ------------------------------------------------


async def test_standing_follows_the_account(services: Services) -> None:
    admin = await _admin_other_and_sign_up(services)
    async with services.sessions.begin() as session:
        group = await local.create_group(session, local.NewGroup(username="harbour"))
        instance = await local.ensure_instance_actor(session)
        # Groups and the instance actor have no account, so nothing to suspend.
        assert accounts.standing(group) is accounts.standing(instance) is accounts.Standing.ACTIVE

    async def standing(name: str) -> accounts.Standing:
        async with services.sessions() as session:
            return accounts.standing(await local.find_person(session, name))

    assert await standing("newbie") is accounts.Standing.PENDING
    async with services.sessions.begin() as session:
        await account_admin.set_suspended(session, admin, "other", True)
    assert await standing("other") is accounts.Standing.SUSPENDED
    async with services.sessions.begin() as session:
        await account_admin.set_suspended(session, admin, "other", False)
        await account_admin.approve(session, admin, "newbie")
    assert await standing("other") is await standing("newbie") is accounts.Standing.ACTIVE


async def test_a_pending_sign_up_is_found_by_nobody_but_the_admins(services: Services) -> None:
    admin = await _admin_other_and_sign_up(services)
    messages = []
    for name in ("newbie", "nobody"):
        with pytest.raises(NotFound) as missing:
            async with services.sessions() as session:
                await accounts.find_public_actor(session, name, "person")
        messages.append(missing.value.message.replace(name, "NAME"))
    assert messages[0] == messages[1]  # a pending name cannot be told from a free one
    async with services.sessions() as session:
        assert (await accounts.find_public_actor(session, "boss")).username == "boss"
        assert (await local.find_person(session, "newbie")).username == "newbie"  # the admin pages still find it
    async with services.sessions.begin() as session:
        await account_admin.approve(session, admin, "newbie")
    async with services.sessions() as session:
        assert (await accounts.find_public_actor(session, "newbie", "person")).username == "newbie"


async def test_suspended_people_are_refused_by_id_too(services: Services) -> None:
    admin = await _person(services, "boss", admin=True)
    await _person(services, "other")
    async with services.sessions.begin() as session:
        await account_admin.set_suspended(session, admin, "other", True)
    urls = services.urls
    async with services.sessions() as session:
        with pytest.raises(accounts.AccountSuspended, match="@other@node.test is suspended") as refused:
            await accounts.check_author_shown(session, urls, urls.actor("person", "other"))
        assert refused.value.status == 403
        await accounts.check_author_shown(session, urls, urls.actor("person", "boss"))
        await accounts.check_author_shown(session, urls, "https://elsewhere.example/users/other")  # not ours
