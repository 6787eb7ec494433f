"""Plain batched INSERTs for the many rows one step writes at once (a round's groups, members and offers).

Building thousands of ORM objects costs far more than writing them. These go through the session's own
connection, so they commit or roll back with everything else the step does. SQLAlchemy sends the rows as
multi-row VALUES or one executemany, and the new ids come back in the rows' order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlmodel.ext.asyncio.session import AsyncSession


async def insert_rows(session: AsyncSession, table: type, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` (every NOT NULL column without a default given) in the session's transaction."""
    if rows:
        connection = await session.connection()
        await connection.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]


async def insert_returning_ids(session: AsyncSession, table: type, rows: list[dict[str, Any]]) -> list[int]:
    """Like :func:`insert_rows`, and the new rows' ids, in the order of ``rows``.

    PostgreSQL sends them back with the rows (``RETURNING`` with SQLAlchemy's ordering sentinel, batched).
    SQLite can't say which returned id belongs to which row, so SQLAlchemy would insert one row at a time;
    instead the rows go in one batch and the ids are read back: SQLite numbers new rows max(id) + 1, in the
    order given, and the first of them takes the write lock, so the newest ids are these rows' own.
    """
    if not rows:
        return []
    core = table.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        stmt = insert(core).returning(core.c.id, sort_by_parameter_order=True)
        return list((await connection.execute(stmt, rows)).scalars().all())
    await connection.execute(insert(core), rows)
    newest = select(core.c.id).order_by(core.c.id.desc()).limit(len(rows))
    return sorted((await connection.execute(newest)).scalars().all())
