"""Server heartbeats: a server killed hard gives its claimed deliveries back within seconds, not minutes.

Every ``tandem serve`` writes its instance id and the time to ``server_heartbeat`` every ``BEAT_SECONDS``.
A claim token starts with the claiming server's instance id (see ``Dispatcher.run_once``), so when a row
has not been renewed for ``DEAD_AFTER`` (three missed beats), any surviving or restarted server puts that
server's claimed deliveries back in the queue at once and forgets the row. Without this they would wait
out the 5-minute lease.

Nothing is sent twice that the lease would not also have resent: a dead server sends nothing more, and
what it sent but had not yet recorded is the window docs/delivery.md describes. A server that is alive
but has not managed to beat for ``FENCE`` (the database is away, the process was frozen) would soon look
dead to the others, so it stops sending before they take its claims (``check_alive``, called before each
send) and hands what it can back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.kernel.runtime import Runtime
from storage.database import Database
from storage.enums import DeliveryState
from storage.tables import Delivery, ServerHeartbeat
from storage.upsert import insert_ignore

log = logging.getLogger("tandem.heartbeat")

BEAT_SECONDS = 10.0
DEAD_AFTER = timedelta(seconds=30)
FENCE = DEAD_AFTER * 2 / 3  # stop sending well before the others may take this server's claims

_last_beat: dict[str, float] = {}  # instance id → monotonic time of its last beat, for servers that beat


class Fenced(Exception):
    """This server has not beaten for a while: the others may soon take its claims, so it must not send."""


def check_alive(instance_id: str) -> None:
    """Raise :class:`Fenced` if this server beats but has missed beats for ``FENCE``."""
    last = _last_beat.get(instance_id)
    if last is not None and time.monotonic() - last > FENCE.total_seconds():
        raise Fenced(f"no heartbeat for {time.monotonic() - last:.0f} s; not sending until it beats again")


async def beat(db: Database, instance_id: str, now: datetime) -> None:
    """Say this server is alive (the first beat also records when it started)."""
    async with db.transaction() as session:
        row = {"instance_id": instance_id, "started_at": now, "beat_at": now}
        if not await insert_ignore(session, ServerHeartbeat, [row], ["instance_id"]):
            await session.exec(
                update(ServerHeartbeat).where(col(ServerHeartbeat.instance_id) == instance_id).values(beat_at=now)
            )


async def take_back_from_the_dead(
    db: Database, me: str, now: datetime, dead_after: timedelta = DEAD_AFTER
) -> dict[str, int]:
    """Put the claimed deliveries of every server silent for ``dead_after`` back in the queue.

    Returns {dead instance id: deliveries taken back}. The dead server's row goes too, so this runs once.
    """
    cutoff = now - dead_after
    taken: dict[str, int] = {}
    async with db.transaction() as session:
        quiet = select(ServerHeartbeat.instance_id).where(
            col(ServerHeartbeat.beat_at) < cutoff, col(ServerHeartbeat.instance_id) != me
        )
        for instance_id in (await session.exec(quiet)).all():
            released = await session.exec(
                update(Delivery)
                .where(
                    col(Delivery.state) == DeliveryState.SENDING.value,
                    col(Delivery.claimed_by).startswith(f"{instance_id}:", autoescape=True),
                )
                .values(state=DeliveryState.PENDING.value, claimed_by=None)
                .returning(col(Delivery.id))
            )
            taken[instance_id] = len(released.all())
            await session.exec(
                delete(ServerHeartbeat).where(
                    col(ServerHeartbeat.instance_id) == instance_id, col(ServerHeartbeat.beat_at) < cutoff
                )
            )
    for instance_id, count in taken.items():
        log.warning("server %s stopped beating; took back %d of its claimed deliveries", instance_id, count)
    return taken


async def goodbye(db: Database, instance_id: str) -> None:
    """A clean shutdown: the sender has already handed back its claims, so just leave."""
    async with db.transaction() as session:
        await session.exec(delete(ServerHeartbeat).where(col(ServerHeartbeat.instance_id) == instance_id))


async def run(core: Runtime, stop: asyncio.Event, every: float = BEAT_SECONDS) -> None:
    """Beat and watch the others until ``stop``; a failed beat is logged and tried again."""
    while not stop.is_set():
        try:
            await beat(core.db, core.instance_id, core.clock.now())
            _last_beat[core.instance_id] = time.monotonic()
            if await take_back_from_the_dead(core.db, core.instance_id, core.clock.now()):
                core.wakeup.set()  # send what was taken back now
        except Exception as exc:  # the database restarting: the next beat tries again
            log.error("heartbeat failed (%s: %s); trying again in %.0f s", type(exc).__name__, exc, every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
    _last_beat.pop(core.instance_id, None)
    with contextlib.suppress(Exception):
        await goodbye(core.db, core.instance_id)
