"""INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL, telling how many rows were new.

The count comes from RETURNING, not from the driver's rowcount, which is unreliable for this statement
across drivers. Inserting a row that exists is how Tandem claims things exactly once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession as SAAsyncSession


async def insert_ignore(session: SAAsyncSession, table: type, rows: list[dict[str, Any]], keys: list[str],
                        chunk: int = 500) -> int:
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    primary = table.__table__.primary_key.columns.values()[0]  # type: ignore[attr-defined]
    total = 0
    for start in range(0, len(rows), chunk):
        stmt = insert(table.__table__).values(rows[start : start + chunk])  # type: ignore[attr-defined]
        stmt = stmt.on_conflict_do_nothing(index_elements=keys).returning(primary)
        result = await session.exec(stmt)  # type: ignore[call-overload]
        total += len(result.fetchall())
    return total
