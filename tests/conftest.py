"""Shared fixtures: a real database (SQLite always, PostgreSQL when TANDEM_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database, open_database, upgrade

POSTGRES_URL = os.environ.get("TANDEM_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite", "postgres"]


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"tandem: database tests run on SQLite and on PostgreSQL ({POSTGRES_URL})"
    return "tandem: database tests run on SQLite only; PostgreSQL SKIPPED (set TANDEM_TEST_POSTGRES_URL)"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if not POSTGRES_URL:
        terminalreporter.write_line("NOTE: PostgreSQL was SKIPPED: set TANDEM_TEST_POSTGRES_URL to run those tests.")


async def make_database(backend: str, tmp_path: Path) -> tuple[Database, str | None]:
    if backend == "sqlite":
        db = open_database(f"sqlite:///{tmp_path / 'tandem-test.db'}")
        await upgrade(db)
        return db, None
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured (TANDEM_TEST_POSTGRES_URL)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = open_database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    db = open_database(POSTGRES_URL, schema=schema)
    await upgrade(db)
    return db, schema


async def drop_database(db: Database, schema: str | None) -> None:
    await db.dispose()
    if schema:
        admin = open_database(POSTGRES_URL)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database, schema = await make_database(request.param, tmp_path)
    try:
        yield database
    finally:
        await drop_database(database, schema)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database, schema = await make_database("sqlite", tmp_path)
    try:
        yield database
    finally:
        await drop_database(database, schema)


@pytest.fixture
def start_time() -> datetime:
    return datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
