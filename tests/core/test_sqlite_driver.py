"""The one-hand-off SQLite cursor (storage/sqlite_driver.py) answers exactly like the stock aiosqlite one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.database import open_database, upgrade
from storage.sqlite_driver import OneHopCursor
from storage.tables import ProcessedEvent, Workspace
from storage.upsert import insert_ignore


async def test_statements_rows_counts_and_errors(tmp_path: Path, start_time) -> None:  # noqa: ANN001
    db = open_database(f"sqlite:///{tmp_path / 'driver.db'}")
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.dbapi_connection.cursor(), OneHopCursor)
        async with db.transaction() as session:
            ws = Workspace(platform="slack", external_id="T1", name="One", installed_at=start_time, settings={})
            session.add(ws)
            await session.flush()  # an ORM insert: the id comes back (RETURNING or lastrowid)
            assert ws.id is not None
            keys = [{"key": f"k{i}", "at": start_time} for i in range(5)]
            assert await insert_ignore(session, ProcessedEvent, keys, ["key"]) == 5
            assert (
                await insert_ignore(session, ProcessedEvent, keys[3:] + [{"key": "k9", "at": start_time}], ["key"]) == 1
            )
            table = ProcessedEvent.__table__  # type: ignore[attr-defined]
            conn = await session.connection()
            await conn.execute(insert(table), [{"key": f"m{i}", "at": start_time} for i in range(3)])  # executemany
            changed = await conn.execute(update(table).where(table.c.key.like("m%")).values(at=start_time))
            assert changed.rowcount == 3
            rows = (await conn.execute(select(table.c.key).order_by(table.c.key))).scalars().all()
            assert rows == ["k0", "k1", "k2", "k3", "k4", "k9", "m0", "m1", "m2"]
            assert (await conn.execute(text("SELECT 1 WHERE 0"))).first() is None
        with pytest.raises(IntegrityError):  # a constraint error surfaces as SQLAlchemy's, and rolls back
            async with db.transaction() as session:
                await session.exec(text("INSERT INTO processed_event (key, at) VALUES ('new', '2026-01-01')"))
                await session.exec(text("INSERT INTO processed_event (key, at) VALUES ('k0', '2026-01-01')"))
        async with db.session() as session:
            count = (await session.exec(text("SELECT count(*) FROM processed_event"))).scalar_one()
            assert count == 9
    finally:
        await db.dispose()
