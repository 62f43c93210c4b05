"""Migration 0019 (account mail): accounts made before it keep their address as the confirmed one, and
are not held for a confirmation (they log in as before)."""

from __future__ import annotations


from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate
from tests.conftest import FreshDatabase


async def test_existing_accounts_keep_their_address_and_can_log_in(fresh_database: FreshDatabase) -> None:
    engine = create_async_engine(await fresh_database(migrated=False))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate.upgrade_to, "0018")
            for n, (name, address) in enumerate((("ada", "ada@example.org"), ("bob", None)), start=1):
                await conn.execute(text(
                    "INSERT INTO local_actors (id, actor_type, username, display_name, summary, rsa_private_pem, "
                    "rsa_public_pem, ed25519_private_pem, ed25519_public_pem, discoverable, created_at) "
                    "VALUES (:id, 'person', :name, '', '', 'k', 'k', 'k', 'k', true, CURRENT_TIMESTAMP)"),
                    {"id": n, "name": name})
                await conn.execute(text(
                    "INSERT INTO accounts (actor_id, password_hash, email, is_admin, suspended, suspension_reason, "
                    "approval_pending) VALUES (:id, 'h', :email, false, false, '', false)"), {"id": n, "email": address})
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT email, pending_email, confirmation_pending FROM accounts ORDER BY actor_id"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [("ada@example.org", None, False), (None, None, False)]
