"""Engines, sessions, migrations and health for Tandem's database."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.urls import describe, is_sqlite, normalize_database_url

try:  # builds on SQLAlchemy's aiosqlite adapter classes; a release that reshapes them falls back to stock
    from storage import sqlite_driver
except ImportError:  # pragma: no cover
    sqlite_driver = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseUnavailable(RuntimeError):
    """The database can't be reached or opened; the message is one readable line."""


@dataclass
class Database:
    """One engine plus its session factory; pass this around instead of globals."""

    url: URL
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @property
    def is_postgres(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def session(self) -> AsyncSession:
        return self.sessions()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()

    def describe(self) -> str:
        return describe(self.url)


def open_database(raw_url: str | URL, *, schema: str | None = None, echo: bool = False) -> Database:
    """Create the engine (no connection yet). ``schema`` isolates test runs on one PostgreSQL database."""
    url = raw_url if isinstance(raw_url, URL) else normalize_database_url(raw_url)
    connect_args: dict = {}
    kwargs: dict = {}
    if is_sqlite(url):
        connect_args["timeout"] = 30
        if sqlite_driver is not None:  # one thread hand-off per statement (storage/sqlite_driver.py)
            kwargs["module"] = sqlite_driver.dbapi()
    else:
        connect_args["connect_timeout"] = 5
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        kwargs.update(pool_size=10, max_overflow=10)  # pinged when idle a while: see _ping_when_idle
    try:
        engine = create_async_engine(url, echo=echo, connect_args=connect_args, **kwargs)
    except ImportError as exc:  # psycopg is the `postgres` extra
        raise DatabaseUnavailable(
            f"{describe(url)} needs the PostgreSQL driver ({exc.name or exc}): pip install 'tandem[postgres]'"
        ) from None
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return Database(url=url, engine=engine, sessions=sessions)


PING_AFTER_IDLE = 1.0  # seconds a pooled connection may rest before it is checked again on its next use


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection that rested in the pool for a while.

    The stock ping costs a round trip on every checkout, one per transaction; a connection given back
    a moment ago is as alive as it was then, so only one that sat idle (when the server may have restarted or
    dropped it) is pinged. A dead one is replaced before use, as with the stock ping.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _rested(_dbapi_connection, record) -> None:  # noqa: ANN001
        record.info["tandem_idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:  # noqa: ANN001
        since = record.info.pop("tandem_idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # brand new, or back in the pool only a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool reconnects and tries again on a DisconnectionError
            raise DisconnectionError(f"pooled connection is gone: {one_line(exc)}") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def check_connection(db: Database) -> None:
    """Fail fast, in one line, when the database can't be reached."""
    problem = _sqlite_folder_problem(db)
    if problem:
        raise DatabaseUnavailable(problem)
    try:
        async with asyncio.timeout(15), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # driver errors vary; the user needs one line, not a traceback
        raise DatabaseUnavailable(f"cannot reach the database {db.describe()}: {one_line(exc)}") from None


def _sqlite_folder_problem(db: Database) -> str | None:
    if not db.is_sqlite or db.url.database in (None, "", ":memory:"):
        return None
    parent = Path(db.url.database).expanduser().resolve().parent
    if parent.is_dir():
        return None
    return f"cannot open {db.describe()}: folder {parent} does not exist"


def one_line(exc: BaseException) -> str:
    """The driver's own words, on one line, without SQLAlchemy's wrapping."""
    inner = getattr(exc, "orig", None) or exc
    text = " ".join(str(inner).split())
    return text[:300] if text else type(inner).__name__


def alembic_config(db_url: URL | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db_url is not None:
        cfg.set_main_option("sqlalchemy.url", db_url.render_as_string(hide_password=False))
    return cfg


def head_revision() -> str:
    """The newest migration this release ships: what ``upgrade`` brings a database to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the project ships at least one migration
    return head


UPGRADE_LOCK = "tandem:migrations"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit PostgreSQL advisory-lock key derived from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to date with Alembic (safe to call at every start-up).

    On PostgreSQL the upgrade holds a transaction-scoped advisory lock (one per schema), so servers that
    start together migrate one after the other: the second waits, then finds the schema already current.
    SQLite serialises writers itself.
    """

    def _run(connection) -> None:  # noqa: ANN001
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        if db.is_postgres:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
            key = advisory_key(f"{UPGRADE_LOCK}:{schema}")
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        await conn.run_sync(_run)


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _rev(connection) -> str | None:  # noqa: ANN001
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(_rev)


async def health(db: Database) -> dict:
    """What /healthz reports: reachable or not, and the schema revision."""
    try:
        async with asyncio.timeout(5):
            rev = await current_revision(db)
        return {"database": "ok", "revision": rev, "backend": db.url.get_backend_name()}
    except Exception as exc:
        return {"database": "unreachable", "error": one_line(exc), "backend": db.url.get_backend_name()}
