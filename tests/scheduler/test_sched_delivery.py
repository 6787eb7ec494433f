"""Durable delivery: crashes at every point, quick 429 retries, order per conversation, failures for admins."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.delivery.outbox import LEASE, MAX_ATTEMPTS, Dispatcher, Outgoing, enqueue, to_user
from bot.delivery.report import recent_failures
from bot.kernel.messages import text_message
from bot.kernel.port import SendError
from storage.enums import DeliveryState
from storage.tables import Delivery, Workspace
from tests.core.harness import Harness


class Crash(BaseException):
    """The process dying: not an error anyone handles."""


async def _queue(h: Harness, count: int, *, same_user: bool = False) -> int:
    async with h.core.db.transaction() as s:
        ws = (await s.exec(select(Workspace))).first()
        if ws is None:
            ws = Workspace(platform="console", external_id="T-TEST", name="t")
            s.add(ws)
            await s.flush()
        items = [
            Outgoing(
                key=f"k{i}",
                step="test",
                target=to_user("U0" if same_user else f"U{i}"),
                message=text_message(f"message {i}"),
            )
            for i in range(count)
        ]
        await enqueue(s, ws.id, items, h.clock.now())
        return ws.id or 0


async def _states(h: Harness) -> Counter:
    async with h.core.db.session() as s:
        return Counter((await s.exec(select(Delivery.state))).all())


def _sent_texts(h: Harness) -> Counter:
    return Counter(s.message.plain_text() for s in h.port.sent)


async def test_crash_between_claim_and_send_loses_nothing(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 10)

    async def die(self, delivery, workspace):  # noqa: ANN001, ANN202
        raise Crash()

    with monkeypatch.context() as m:
        m.setattr(Dispatcher, "_send", die)
        with pytest.raises(BaseExceptionGroup) as info:
            await Dispatcher(h.core).run_once()
        assert info.group_contains(Crash)
    assert await _states(h) == Counter(sending=10), "claimed, not sent, not lost"
    assert await Dispatcher(h.core).run_once() == 0, "still leased to the dead sender"
    h.clock.advance(LEASE + timedelta(seconds=1))
    assert await Dispatcher(h.core).run_once() == 10
    assert _sent_texts(h) == Counter(f"message {i}" for i in range(10))
    assert await _states(h) == Counter(sent=10)


async def test_crash_between_send_and_record_resends_only_the_documented_window(
    db,
    start_time,  # noqa: ANN001
    monkeypatch,
) -> None:
    h = Harness.create(db, start_time)
    await _queue(h, 10, same_user=True)  # one conversation: sent strictly one after another
    real = Dispatcher._send
    calls = 0

    async def dies_on_eighth(self, delivery, workspace):  # noqa: ANN001, ANN202
        nonlocal calls
        calls += 1
        if calls == 8:
            raise Crash()
        return await real(self, delivery, workspace)

    with monkeypatch.context() as m:
        m.setattr(Dispatcher, "_send", dies_on_eighth)
        with pytest.raises(BaseExceptionGroup):
            await Dispatcher(h.core, record_every=4, flush_seconds=60, concurrency=1).run_once()
    assert len(h.port.sent) == 7
    assert await _states(h) == Counter(sent=4, sending=6), "4 recorded; 3 sent but unrecorded; 3 never sent"
    h.clock.advance(LEASE + timedelta(seconds=1))
    await Dispatcher(h.core).run_once()
    counts = _sent_texts(h)
    assert set(counts) == {f"message {i}" for i in range(10)}, "nothing lost"
    duplicates = {text for text, n in counts.items() if n > 1}
    assert len(duplicates) == 3 < 4, "only the sent-but-unrecorded ones, fewer than record_every, go twice"
    assert await _states(h) == Counter(sent=10)


async def test_cancelled_sender_records_what_it_sent_so_nothing_goes_twice(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 12)
    hang, both_stuck = asyncio.Event(), asyncio.Event()
    original = h.port.send_to_user
    stuck = 0

    async def slow_after_five(workspace_id, user_id, message):  # noqa: ANN001, ANN202
        nonlocal stuck
        if len(h.port.sent) >= 5:
            stuck += 1
            if stuck == 2:  # concurrency=2: both send slots hang, so no send is in flight and 5 outcomes are kept
                both_stuck.set()
            await hang.wait()
        return await original(workspace_id, user_id, message)

    h.port.send_to_user = slow_after_five  # type: ignore[method-assign]
    task = asyncio.create_task(Dispatcher(h.core, record_every=100, flush_seconds=60, concurrency=2).run_once())
    await asyncio.wait_for(both_stuck.wait(), timeout=10)  # a safety bound, not a timing assumption
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _states(h) == Counter(sent=5, pending=7), "sends recorded and the rest handed back on the way out"
    h.port.send_to_user = original  # type: ignore[method-assign]
    assert await Dispatcher(h.core).run_once() == 7, "no need to wait for the lease"
    assert _sent_texts(h) == Counter(f"message {i}" for i in range(12)), "each exactly once"


async def test_stop_while_the_last_sends_are_being_recorded_sends_nothing_twice(db, start_time, monkeypatch) -> None:  # noqa: ANN001
    """Every send is done and its recording has begun when the stop comes: the recording must finish, not be
    cancelled with the batch (which left the rows claimed, so the lease handed them out again)."""
    h = Harness.create(db, start_time)
    await _queue(h, 10)
    recording, go = asyncio.Event(), asyncio.Event()
    real = Dispatcher._record_now

    async def held(self, outcomes, token):  # noqa: ANN001, ANN202
        recording.set()
        await go.wait()
        return await real(self, outcomes, token)

    with monkeypatch.context() as m:
        m.setattr(Dispatcher, "_record_now", held)
        task = asyncio.create_task(Dispatcher(h.core, record_every=100, flush_seconds=60).run_once())
        await asyncio.wait_for(recording.wait(), timeout=10)  # a safety bound, not a timing assumption
        assert len(h.port.sent) == 10, "every send done; only the recording is left"
        task.cancel()
        await asyncio.sleep(0)  # the cancellation reaches the batch while its recording waits
        task.cancel()  # and a second stop signal must not cut the recording short either
        go.set()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await _states(h) == Counter(sent=10), "recorded on the way out"
    h.clock.advance(LEASE + timedelta(seconds=1))
    assert await Dispatcher(h.core).run_once() == 0
    assert _sent_texts(h) == Counter(f"message {i}" for i in range(10)), "each exactly once"


async def test_short_rate_limit_is_retried_in_the_same_pass(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 3)
    h.port.fail_next = [SendError("429", retry_after=0.01), SendError("429", retry_after=0.01)]
    assert await h.core.dispatch() == 3
    async with db.session() as s:
        assert all(d.attempts == 1 for d in (await s.exec(select(Delivery))).all())


async def test_order_within_a_conversation_survives_a_failure(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 3, same_user=True)
    h.port.fail_next = [SendError("platform down", retry_after=30)]
    assert await h.core.dispatch() == 0
    assert h.port.sent == [], "the later messages wait for the first"
    async with db.session() as s:
        rows = (await s.exec(select(Delivery).order_by(Delivery.id))).all()
        assert [r.attempts for r in rows] == [1, 0, 0] and len({r.next_attempt_at for r in rows}) == 1
    h.clock.advance(timedelta(minutes=1))
    assert await h.core.dispatch() == 3
    assert [s.message.plain_text() for s in h.port.sent] == ["message 0", "message 1", "message 2"]


async def test_final_failure_is_kept_and_shown_to_admins(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    ana = h.actor("U1", "Ana")
    ben = h.actor("U2", "Ben")
    await h.enrol(ana)
    await h.enrol(ben)
    await h.command(admin, "match now")
    h.port.fail_next = [SendError("channel_not_found: the group chat is gone", gone=True)]
    await h.core.dispatch()
    status = (await h.command(admin, "status")).message.plain_text()
    assert "round 1: 0/1 delivered" in status and "1 failed" in status
    assert "intro to group U1, U2 after 1 attempt(s): channel_not_found" in status
    home = (await h.core.home(admin)).plain_text()
    assert "channel_not_found" in home and "Last 1 failed deliveries" in home
    assert "channel_not_found" not in (await h.command(ana, "status")).message.plain_text(), "admins only"
    async with db.session() as s:
        failures = await recent_failures(s)
        assert [f.step for f in failures] == ["intro"]


async def test_retryable_failures_back_off_then_fail_for_good(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 1)
    waits = []
    for _ in range(MAX_ATTEMPTS):
        h.port.fail_next = [SendError("502 bad gateway")]
        await h.core.dispatch()
        async with db.session() as s:
            row = (await s.exec(select(Delivery))).one()
        if row.state == DeliveryState.FAILED.value:
            break
        waits.append(row.next_attempt_at - h.clock.now())
        h.clock.set(row.next_attempt_at)
    assert row.state == DeliveryState.FAILED.value and row.attempts == MAX_ATTEMPTS
    assert row.last_error == "502 bad gateway"
    assert waits == sorted(waits) and waits[0] <= timedelta(seconds=5) and waits[-1] >= timedelta(minutes=10)


async def test_two_senders_share_the_queue_without_overlap(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    await _queue(h, 300)
    from bot.core import Tandem

    other = Tandem(db, clock=h.clock, instance_id="other", pacing=False)
    other.register_port("console", h.port)
    counts = await asyncio.gather(
        Dispatcher(h.core).run_once(limit=50),
        Dispatcher(other).run_once(limit=50),
        Dispatcher(h.core).run_once(limit=50),
    )
    assert sum(counts) == 300
    assert _sent_texts(h) == Counter(f"message {i}" for i in range(300))
