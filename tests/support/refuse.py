"""Make the real database refuse writes to one table, the way a full disk or a broken replica would.

A trigger, not a mock: the core's own code runs unchanged and meets a genuine database error.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.database import Database


async def refuse_inserts(db: Database, table: str) -> None:
    """Every INSERT into ``table`` fails from now on (with the message ``disk full``)."""
    async with db.transaction() as session:
        if db.is_postgres:
            await session.exec(  # type: ignore[call-overload]
                text(
                    "CREATE FUNCTION refuse_write() RETURNS trigger AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
                )
            )
            await session.exec(  # type: ignore[call-overload]
                text(f'CREATE TRIGGER refuse BEFORE INSERT ON "{table}" FOR EACH ROW EXECUTE FUNCTION refuse_write()')
            )
        else:
            await session.exec(  # type: ignore[call-overload]
                text(f"CREATE TRIGGER refuse BEFORE INSERT ON \"{table}\" BEGIN SELECT RAISE(ABORT, 'disk full'); END")
            )
