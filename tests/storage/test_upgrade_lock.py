"""Servers that start together on one PostgreSQL database migrate one after the other, not into each other."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database, advisory_key, current_revision, head_revision, open_database, upgrade
from tests.conftest import POSTGRES_URL, drop_database, make_database

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL not configured (TANDEM_TEST_POSTGRES_URL)")


async def test_concurrent_upgrades_of_a_fresh_database_both_succeed() -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = open_database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    servers = [open_database(POSTGRES_URL, schema=schema) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(db) for db in servers))  # without the lock: duplicate CREATE TABLEs
        assert {await current_revision(db) for db in servers} == {head_revision()}
    finally:
        for db in servers:
            await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def test_an_upgrade_waits_while_another_holds_the_lock(tmp_path: Path) -> None:
    db, schema = await make_database("postgres", tmp_path)  # PostgreSQL only: SQLite serialises writers itself
    try:
        await _waits_for_the_lock(db)
    finally:
        await drop_database(db, schema)


async def _waits_for_the_lock(db: Database) -> None:
    async with db.engine.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
    key = advisory_key(f"tandem:migrations:{schema}")
    async with db.engine.begin() as holder:
        await holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        waiting = asyncio.create_task(upgrade(db))
        done, _ = await asyncio.wait({waiting}, timeout=1.0)
        assert not done, "the upgrade went ahead while another server held the migration lock"
    await asyncio.wait_for(waiting, 30)  # released with the holder's transaction
    assert await current_revision(db) == head_revision()
