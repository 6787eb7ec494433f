"""INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL, telling how many rows were new.

The count comes from RETURNING, not from the driver's rowcount, which is unreliable for this statement
across drivers. Inserting a row that exists is how Tandem claims things exactly once.

The statement is built once per table, conflict keys, dialect and column set, and executed with the rows
as parameters (SQLAlchemy batches many rows into multi-row VALUES itself), so it is compiled once and then
served from SQLAlchemy's statement cache. Building it with ``.values(rows)`` instead would compile it
afresh on every call, which costs more than running it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession as SAAsyncSession

_STATEMENTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _statement(dialect: str, table: type, keys: list[str], columns: tuple[str, ...]) -> Any:
    cache_key = (dialect, table.__tablename__, tuple(keys), columns)  # type: ignore[attr-defined]
    stmt = _STATEMENTS.get(cache_key)
    if stmt is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        core = table.__table__  # type: ignore[attr-defined]
        primary = core.primary_key.columns.values()[0]
        stmt = insert(core).on_conflict_do_nothing(index_elements=keys).returning(primary)
        _STATEMENTS[cache_key] = stmt
    return stmt


async def insert_ignore(
    session: SAAsyncSession, table: type, rows: list[dict[str, Any]], keys: list[str], chunk: int = 500
) -> int:
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    stmt = _statement(dialect, table, keys, tuple(rows[0]))
    connection = await session.connection()  # a Core statement: no ORM bookkeeping, same transaction
    total = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        result = await connection.execute(stmt, part if len(part) > 1 else part[0])
        total += len(result.fetchall())
    return total
