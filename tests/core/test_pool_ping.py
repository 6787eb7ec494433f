"""PostgreSQL connections are pinged only after resting in the pool (storage.database._ping_when_idle):
a connection the server dropped while it rested is replaced before use, one given back a moment ago is not
pinged (no extra round trip per transaction)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage import database
from storage.database import open_database
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL not configured (TANDEM_TEST_POSTGRES_URL)")


async def _backend_pid(db: database.Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_dropped_while_it_rested_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(POSTGRES_URL)
    other = open_database(POSTGRES_URL)
    try:
        pid = await _backend_pid(db)
        async with other.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)  # everything counts as rested
        assert await _backend_pid(db) != pid  # the dead connection was found out and replaced, no error
    finally:
        await db.dispose()
        await other.dispose()


async def test_a_connection_back_a_moment_ago_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(POSTGRES_URL)
    try:
        first = await _backend_pid(db)
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 3600.0)
        pings: list[str] = []
        monkeypatch.setattr(db.engine.sync_engine.dialect, "do_ping", lambda _c: pings.append("ping") or True)
        assert await _backend_pid(db) == first
        assert pings == []
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)
        assert await _backend_pid(db) == first
        assert pings == ["ping"]
    finally:
        await db.dispose()
