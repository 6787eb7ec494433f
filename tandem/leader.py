"""Which `tandem serve` process runs the program scheduler: the one holding a PostgreSQL advisory lock.

Every process sends deliveries (claims never overlap), but only one should tick the program calendar, so
the others don't all do the same work each minute. The lock is held by a dedicated connection: when its
process dies, PostgreSQL drops the session and the lock with it, and another process takes it over at its
next attempt (every ``retry_seconds``, 15 s by default). Correctness does not depend on this lock: the step
ledger lets only one process run each step even if two briefly believe they lead. SQLite means one
process, which always leads. The lock key is derived from the schema, so deployments (or test runs) that
share one PostgreSQL database in different schemas don't block each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.database import Database

log = logging.getLogger("tandem.leader")

RETRY_SECONDS = 15.0


def lock_key(name: str = "tandem:scheduler") -> int:
    """A stable signed 64-bit advisory-lock key derived from a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class SchedulerLeader:
    """Tries to hold the scheduler lock; ``is_leader`` says whether this process should tick."""

    def __init__(
        self,
        db: Database,
        *,
        key: int | None = None,
        retry_seconds: float = RETRY_SECONDS,
        on_acquire: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self.db = db
        self.key = key  # None: derived from the schema at first use, so deployments sharing a database differ
        self.retry_seconds = retry_seconds
        self.on_acquire = on_acquire  # e.g. tick at once: a new leader shouldn't wait for the next minute
        self._pending: set[asyncio.Task] = set()
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._leader = not db.is_postgres

    @property
    def is_leader(self) -> bool:
        return self._leader

    async def refresh(self) -> bool:
        """Take the lock if it is free, or check that the connection holding it is still alive."""
        if not self.db.is_postgres:
            return True
        try:
            if self._conn is not None:
                await self._conn.execute(text("SELECT 1"))
                return True
            if self.key is None:
                async with self.db.engine.connect() as main:  # the app's own connection knows its schema
                    schema = (await main.execute(text("SELECT current_schema()"))).scalar()
                self.key = lock_key(f"tandem:scheduler:{schema}")
            conn = await self._connect()
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})).scalar()
            if got:
                self._conn, self._leader = conn, True
                log.info("this process now runs the scheduler (advisory lock %s)", self.key)
                if self.on_acquire is not None:
                    task = asyncio.create_task(self.on_acquire())
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)
                return True
            await conn.close()
            # DEBUG only (silent by default); tests wait on it to know a follower tried and was refused
            log.debug("the scheduler lock %s is held by another process", self.key)
        except Exception as exc:  # the database went away: whoever reconnects first leads
            if self._leader:
                log.warning("lost the scheduler lock (%s); another process may take over", exc)
            await self._drop()
        return False

    async def release(self) -> None:
        """Give the role up (on shutdown), so another process takes over at its next attempt."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        await self._drop()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def run(self, stop: asyncio.Event) -> None:
        """Keep trying (or checking) every ``retry_seconds`` until ``stop`` is set; then release."""
        try:
            while not stop.is_set():
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.retry_seconds)
        finally:
            await self.release()

    async def _connect(self) -> AsyncConnection:
        if self._engine is None:  # its own engine: the lock's connection must never go back to a pool
            self._engine = create_async_engine(self.db.url, poolclass=NullPool, connect_args={"connect_timeout": 5})
        conn = await self._engine.connect()
        return await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if self.db.is_postgres:
            self._leader = False
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
