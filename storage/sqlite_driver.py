"""SQLAlchemy's aiosqlite adapter with one thread hand-off per statement instead of four.

aiosqlite runs each sqlite3 call on its own thread, and SQLAlchemy's stock cursor makes four of them per
statement (open a cursor, execute, fetch, close). Each hand-off costs a queue put, a thread wake-up and an
event-loop round trip, which made them a large share of the time of a busy simulation. Here the cursor runs
the whole statement (execute, fetch every row, read the cursor's metadata, close) as one call on the same
thread, so the event loop is still never blocked and the results are exactly those of the stock cursor.
A commit or rollback when no transaction is open (sqlite3 would do nothing) makes no hand-off either.

It relies on ``aiosqlite.Connection._execute`` (run a function on the connection's thread), the same private
seam SQLAlchemy's adapter itself uses; ``dbapi()`` falls back to the stock adapter if it ever disappears.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the statement and everything SQLAlchemy will ask of its cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor that executes and fetches in one hand-off; no aiosqlite cursor is kept open."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:  # the base's signature
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def arraysize(self) -> int:
        return 1  # sqlite3's default; only used by fetchmany() without a size

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        return self._lastrowid

    def close(self) -> None:
        self._rows.clear()

    async def _hop(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            conn = self._connection
            self._description, rows, self._rowcount, self._lastrowid = await conn._execute(
                _run, conn._conn, operation, parameters, many
            )
            self._rows = collections.deque(rows) if rows is not None else collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._hop(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._hop(operation, seq_of_parameters, True)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Commits and rollbacks with nothing to end make no hand-off at all.

    sqlite3 itself does nothing for them when the connection is in autocommit mode (``in_transaction`` is
    SQLite's own flag), but the hop still cost a thread wake-up: every read-only session ends in a
    rollback, and the pool rolls back again each connection it gets back, even right after a commit.
    """

    __slots__ = ()
    _cursor_cls = OneHopCursor

    def _idle(self) -> bool:
        raw = self._connection._connection  # the sqlite3 connection; None once closed
        return raw is not None and not raw.in_transaction

    def rollback(self) -> None:
        if not self._idle():
            super().rollback()

    def commit(self) -> None:
        if not self._idle():
            super().commit()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The aiosqlite DBAPI shim, handing out connections whose cursors make one hop per statement."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        stock = super().connect(*arg, **kw)
        return OneHopConnection(self, stock._connection)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """What to pass as ``module=`` to ``create_async_engine`` for a SQLite URL."""
    if not hasattr(aiosqlite.Connection, "_execute"):  # pragma: no cover - a future aiosqlite without the seam
        return AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)
    return OneHopDBAPI(aiosqlite, sqlite3)
