"""Delivery benchmark (not a test): N messages through a fake platform limited to R messages/s.

5 % of calls fail with a retryable rate-limit error asking for a short wait. Prints the completion time
against the bound N / R, and how many messages were lost or delivered twice, for four scenarios:

* ``plain``: one sender;
* ``cancel``: the sender task is cancelled (graceful stop) and a new one started, twice;
* ``crash``: the sender dies hard (a BaseException nobody handles) twice; its claims wait for the lease;
* ``two``: two senders (separate cores, as two processes would be) share the queue (PostgreSQL only).

The cores run without pacing (quiet hours, weekly cap): this measures sending, at any hour. The cancel
scenario ends with the ``ROW cancel_resent`` line of the issue-18 table (messages sent twice; goal 0).

Usage: python benchmarks/delivery.py [--count 10000] [--rate 500] [--db postgresql+psycopg://…]
Without --db it uses a temporary SQLite file (``two`` is then skipped: SQLite means one process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.core import Tandem  # noqa: E402
from bot.delivery.outbox import Dispatcher, Outgoing, enqueue, to_user  # noqa: E402
from bot.kernel.events import SentRef  # noqa: E402
from bot.kernel.messages import Message, text_message  # noqa: E402
from bot.kernel.port import PlatformCapabilities, SendError  # noqa: E402
from storage.database import Database, open_database, upgrade  # noqa: E402
from storage.enums import DeliveryState  # noqa: E402
from storage.tables import Delivery, Workspace  # noqa: E402

PLATFORM = "bench"


class Crash(BaseException):
    """A hard kill: nothing catches it, nothing is recorded on the way out."""


@dataclass
class LimitedPort:
    """A platform that accepts ``rate`` calls per second (token bucket) and fails ``fail`` of them with 429."""

    rate: float
    fail: float
    retry_after: float
    burst: float = 0.0  # bucket size; 0 means rate / 10 (a tenth of a second, as platforms allow bursts)
    capabilities: PlatformCapabilities = field(default_factory=PlatformCapabilities)
    delivered: Counter = field(default_factory=Counter)
    calls: int = 0
    rejected: int = 0
    crash_after: int | None = None  # raise Crash on this call (then reset)
    _tokens: float = 0.0
    _stamp: float = field(default_factory=time.monotonic)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.burst = self.burst or max(1.0, self.rate / 10)

    async def _token(self) -> None:
        async with self._lock:  # first come, first served, like a platform's per-app limit
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)

    async def send_to_user(self, workspace_id: str, user_id: str, message: Message) -> SentRef:
        await self._token()  # a rejected call counts against the limit too
        self.calls += 1
        if self.crash_after is not None and self.calls >= self.crash_after:
            self.crash_after = None
            raise Crash()
        if random.random() < self.fail:
            self.rejected += 1
            raise SendError("ratelimited", retryable=True, retry_after=self.retry_after)
        self.delivered[message.summary] += 1
        return SentRef(conversation_id=f"D-{user_id}", message_id=f"{user_id}:{self.delivered[message.summary]}")

    async def send_to_group(self, workspace_id: str, user_ids: list[str], message: Message) -> SentRef:
        raise SendError("not used", retryable=False)

    async def post_to_channel(
        self, workspace_id: str, channel_id: str, message: Message, thread_id: str | None = None
    ) -> SentRef:
        raise SendError("not used", retryable=False)

    async def update_message(self, workspace_id: str, ref: SentRef, message: Message) -> None:
        raise SendError("not used", retryable=False)


async def fill(db: Database, count: int) -> None:
    async with db.transaction() as s:
        ws = Workspace(platform=PLATFORM, external_id="T-BENCH", name="bench")
        s.add(ws)
        await s.flush()
        now = Tandem(db, pacing=False).clock.now()
        items = [
            Outgoing(key=f"bench:{i}", step="bench", target=to_user(f"U{i}"), message=text_message(f"m{i}"))
            for i in range(count)
        ]
        await enqueue(s, ws.id or 0, items, now)


async def remaining(db: Database) -> int:
    async with db.session() as s:
        return (
            await s.exec(select(func.count()).select_from(Delivery).where(Delivery.state != DeliveryState.SENT.value))
        ).one()


async def sender(core: Tandem, lease: timedelta, stop: asyncio.Event) -> None:
    """Like tandem.server.sender_loop, but polling fast: the benchmark has no wake-up from the steps."""
    while not stop.is_set():
        sent = await Dispatcher(core, lease=lease).run_once(limit=200)
        if sent == 0:
            await asyncio.sleep(0.02)


def core_for(db: Database, port: LimitedPort, name: str) -> Tandem:
    core = Tandem(db, instance_id=name, pacing=False)  # measure sending, not the quiet hours
    core.register_port(PLATFORM, port)
    return core


async def scenario(db: Database, name: str, count: int, rate: float, fail: float, retry_after: float) -> dict:
    await fill(db, count)
    port = LimitedPort(rate=rate, fail=fail, retry_after=retry_after)
    lease = timedelta(seconds=2)  # shortened for the benchmark (5 min in production)
    stop = asyncio.Event()
    bound = count / rate
    started = time.monotonic()
    tasks = [asyncio.create_task(sender(core_for(db, port, f"{name}-1"), lease, stop))]
    if name == "two":
        tasks.append(asyncio.create_task(sender(core_for(db, port, f"{name}-2"), lease, stop)))
    interruptions = 0
    while await remaining(db):
        await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        if name in ("cancel", "crash") and interruptions < 2 and elapsed > bound * (0.3 + 0.3 * interruptions):
            interruptions += 1
            if name == "cancel":
                tasks[0].cancel()
            else:
                port.crash_after = port.calls + 1
            with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup, Crash):
                await tasks[0]
            tasks[0] = asyncio.create_task(sender(core_for(db, port, f"{name}-{interruptions + 1}"), lease, stop))
        if time.monotonic() - started > bound * 20 + 60:
            break
    elapsed = time.monotonic() - started
    stop.set()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BaseExceptionGroup):
            await task
    delivered = port.delivered
    return {
        "scenario": name,
        "count": count,
        "rate": rate,
        "seconds": elapsed,
        "bound": bound,
        "ratio": elapsed / bound,
        "lost": count - len(delivered),
        "duplicates": sum(n - 1 for n in delivered.values()),
        "calls": port.calls,
        "rejected_429": port.rejected,
    }


async def fresh_database(url: str | None) -> tuple[Database, str | None]:
    if not url:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        db = open_database(f"sqlite:///{path}")
        await upgrade(db)
        return db, None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = open_database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    db = open_database(url, schema=schema)
    await upgrade(db)
    return db, schema


async def drop(db: Database, url: str | None, schema: str | None) -> None:
    await db.dispose()
    if schema and url:
        admin = open_database(url)
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--fail", type=float, default=0.05)
    parser.add_argument("--retry-after", type=float, default=0.05)
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--scenarios", default="plain,cancel,crash,two")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    random.seed(6)
    backend = "PostgreSQL" if args.db else "SQLite"
    print(
        f"{args.count} deliveries, platform limit {args.rate:g}/s, {args.fail:.0%} answered 429 "
        f"(retry after {args.retry_after:g} s), {backend}"
    )
    cancel_resent: int | None = None
    for name in args.scenarios.split(","):
        if name == "two" and not args.db:
            print("two: skipped (SQLite means one process)")
            continue
        db, schema = await fresh_database(args.db)
        try:
            r = await scenario(db, name, args.count, args.rate, args.fail, args.retry_after)
        finally:
            await drop(db, args.db, schema)
        calls_bound = r["calls"] / args.rate  # the 429s use up the platform's allowance too
        print(
            f"{r['scenario']:>6}: {r['seconds']:6.2f} s vs bound {r['bound']:.2f} s = {r['ratio']:.2f}x "
            f"({r['seconds'] / calls_bound:.2f}x of calls/R) · lost {r['lost']} · duplicates {r['duplicates']} · "
            f"calls {r['calls']} ({r['rejected_429']} got 429)"
        )
        if name == "cancel":
            cancel_resent = r["duplicates"]
    if cancel_resent is not None:  # the issue-18 table (benchmarks/table.py): a graceful stop re-sends nothing
        print(f"ROW\tcancel_resent\t{cancel_resent}\t0\tmessages\tlower")


if __name__ == "__main__":
    asyncio.run(main())
