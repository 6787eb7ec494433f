"""A server killed hard: a surviving or restarted server takes its claimed deliveries back as soon as its
heartbeat has gone quiet, not after the 5-minute lease, and each message is still sent once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.delivery import heartbeat
from bot.delivery.outbox import LEASE, Dispatcher
from storage.enums import DeliveryState
from storage.tables import Delivery, ServerHeartbeat
from tests.core.harness import Harness
from tests.scheduler.test_sched_delivery import _queue, _sent_texts, _states


async def _claimed_by(h: Harness, instance_id: str) -> None:
    """Every queued delivery claimed by ``instance_id``, as its sender leaves them when it is killed hard
    between claiming and sending (tests/scheduler/test_sched_delivery.py kills one for real)."""
    async with h.core.db.transaction() as s:
        await s.exec(
            update(Delivery).values(
                state=DeliveryState.SENDING.value, claimed_by=f"{instance_id}:0123456789ab", claimed_at=h.clock.now()
            )
        )


async def test_a_dead_servers_claim_is_taken_back_after_three_missed_beats(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 10)
    survivor = h.core
    await heartbeat.beat(db, "server-a", h.clock.now())
    await heartbeat.beat(db, survivor.instance_id, h.clock.now())
    await _claimed_by(h, "server-a")
    assert await _states(h) == Counter(sending=10)

    h.clock.advance(timedelta(seconds=20))  # two missed beats: maybe just slow
    await heartbeat.beat(db, survivor.instance_id, h.clock.now())
    assert await heartbeat.take_back_from_the_dead(db, survivor.instance_id, h.clock.now()) == {}
    assert await Dispatcher(survivor).run_once() == 0

    h.clock.advance(timedelta(seconds=11))  # known dead, well before the lease
    assert h.clock.now() - start_time < LEASE
    taken = await heartbeat.take_back_from_the_dead(db, survivor.instance_id, h.clock.now())
    assert taken == {"server-a": 10}
    assert await Dispatcher(survivor).run_once() == 10
    assert _sent_texts(h) == Counter(f"message {i}" for i in range(10)), "each sent once"
    assert await Dispatcher(survivor).run_once() == 0
    async with db.session() as s:
        assert [r.instance_id for r in (await s.exec(select(ServerHeartbeat))).all()] == [survivor.instance_id]


async def test_a_live_servers_claims_are_never_taken(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 3)
    await heartbeat.beat(db, "server-b", h.clock.now())
    await _claimed_by(h, "server-b")
    for _ in range(6):  # a minute of regular beats
        h.clock.advance(timedelta(seconds=10))
        await heartbeat.beat(db, "server-b", h.clock.now())
        assert await heartbeat.take_back_from_the_dead(db, h.core.instance_id, h.clock.now()) == {}
    assert await _states(h) == Counter(sending=3)


async def test_a_server_that_stops_cleanly_leaves_the_heartbeat_table(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await heartbeat.beat(db, h.core.instance_id, h.clock.now())
    await heartbeat.beat(db, h.core.instance_id, h.clock.now())  # a second beat updates the same row
    stop = asyncio.Event()
    stop.set()
    await heartbeat.run(h.core, stop)
    async with db.session() as s:
        assert (await s.exec(select(ServerHeartbeat))).all() == []


async def test_a_server_that_missed_its_beats_stops_sending_and_hands_back(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 5)
    heartbeat._last_beat[h.core.instance_id] = time.monotonic() - heartbeat.FENCE.total_seconds() - 1
    try:
        with pytest.raises(BaseExceptionGroup) as info:
            await Dispatcher(h.core).run_once()
        assert info.group_contains(heartbeat.Fenced)
        assert h.port.sent == [], "nothing sent while the others may think this server dead"
        assert await _states(h) == Counter(pending=5), "its claim handed back at once"
        heartbeat._last_beat[h.core.instance_id] = time.monotonic()  # it beats again
        assert await Dispatcher(h.core).run_once() == 5
    finally:
        heartbeat._last_beat.pop(h.core.instance_id, None)
