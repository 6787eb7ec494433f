"""A database written by an earlier Tandem upgrades in place, with all its data.

``tests/fixtures/db/main-0001-demo.sql`` is the SQLite dump of a short demo run (8 people, 3 weeks) by the
release whose schema is revision 0001. Upgrading it must keep every row, and the upgraded database must
serve the current core. On PostgreSQL the same is checked with rows written at revision 0001 by hand.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, MetaData, create_engine, text

from adapters.console.port import PLATFORM, ConsolePort
from bot.core import Tandem
from bot.kernel.clock import SimulatedClock
from storage.database import current_revision, head_revision, open_database, upgrade
from tests.conftest import POSTGRES_URL

DUMP = Path(__file__).resolve().parents[1] / "fixtures" / "db" / "main-0001-demo.sql"
OLD_TABLES = (
    "workspace",
    "tandem_user",
    "program",
    "membership",
    "round",
    "match",
    "match_member",
    "waitlist",
    "meeting",
    "delivery",
    "step_run",
    "survey_instance",
    "survey_recipient",
    "survey_answer",
    "icebreaker_post",
    "processed_event",
    "audit_entry",
)


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in OLD_TABLES}


async def test_sqlite_database_from_revision_0001_upgrades_with_all_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(DUMP.read_text())
    before = _counts(path)
    assert before["match"] == 5 and before["delivery"] == 87  # the dump is what the test thinks it is

    db = open_database(f"sqlite:///{path}")
    try:
        assert await current_revision(db) == "0001"
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        async with db.session() as s:
            ended = (await s.exec(text("SELECT count(*) FROM match WHERE ended_at IS NOT NULL"))).one()[0]
            goals = (await s.exec(text("SELECT count(*) FROM goal"))).one()[0]
        assert ended == 0 and goals == 0

        # The upgraded database serves today's core: its scheduler runs the next weeks of the old program.
        async with db.session() as s:
            last = (await s.exec(text("SELECT max(created_at) FROM match"))).one()[0]
        clock = SimulatedClock(_aware(last) + timedelta(days=1))
        core = Tandem(db, clock=clock, instance_id="upgrade-test")
        core.register_port(PLATFORM, ConsolePort(clock=clock))
        for _ in range(14):
            clock.advance(timedelta(days=1))
            await core.tick()
    finally:
        await db.dispose()
    after = _counts(path)
    assert all(after[t] >= before[t] for t in OLD_TABLES), (before, after)
    assert after["round"] > before["round"]  # new rounds ran on the old data


def _aware(value: object):  # noqa: ANN202
    from datetime import UTC, datetime

    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL not configured (TANDEM_TEST_POSTGRES_URL)")
async def test_postgres_database_from_revision_0001_upgrades_with_all_its_data(tmp_path: Path) -> None:
    """The same demo data, copied row by row into a PostgreSQL schema at revision 0001, then upgraded."""
    source = tmp_path / "old.db"
    with sqlite3.connect(source) as conn:
        conn.executescript(DUMP.read_text())
    before = _counts(source)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = open_database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = open_database(POSTGRES_URL, schema=schema)
    try:
        await upgrade(db, "0001")
        async with db.engine.begin() as conn:
            await conn.run_sync(_copy_rows, source)
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        async with db.engine.connect() as conn:
            after = {t: (await conn.execute(text(f'SELECT count(*) FROM "{t}"'))).scalar_one() for t in OLD_TABLES}
            ended = (await conn.execute(text("SELECT count(*) FROM match WHERE ended_at IS NOT NULL"))).scalar_one()
        assert after == before and ended == 0
    finally:
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def _copy_rows(target: Connection, source: Path) -> None:
    """Every row of the SQLite database into the same tables on ``target`` (types converted by SQLAlchemy)."""
    old = MetaData()
    engine = create_engine(f"sqlite:///{source}")
    try:
        with engine.connect() as src:
            old.reflect(src)
            new = MetaData()
            new.reflect(target)
            for table in old.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(r._mapping) for r in src.execute(table.select())]
                if rows:
                    target.execute(new.tables[table.name].insert(), rows)
                    if "id" in table.c:  # keep PostgreSQL's sequences ahead of the copied ids
                        target.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f'(SELECT max(id) FROM "{table.name}"))'
                            )
                        )
    finally:
        engine.dispose()
