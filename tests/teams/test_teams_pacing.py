"""Pacing inside Teams' documented limits, on fake time."""

from __future__ import annotations

from adapters.teams.pacing import Pacer
from tests.teams.teams_harness import FakeTime


async def test_conversation_windows_and_tenant_rate():
    time = FakeTime()
    pacer = Pacer(clock=time.monotonic, sleep=time.sleep)
    start = time.now
    for _ in range(60):
        await pacer.acquire("t1", "c1")
    # 60 sends in one conversation: 8 per 2 s caps it at 4/s, and 60 per 30 s is not yet exceeded
    assert 13.0 <= time.now - start <= 30.0
    await pacer.acquire("t1", "c1")  # the 61st waits for the 30-second window
    assert time.now - start >= 30.0


async def test_tenant_limit_spans_conversations():
    time = FakeTime()
    pacer = Pacer(clock=time.monotonic, sleep=time.sleep)
    for n in range(30):
        await pacer.acquire("t1", f"c{n}")
    assert time.sleeps == []
    await pacer.acquire("t1", "c-next")
    assert time.sleeps and time.sleeps[-1] > 0
    await pacer.acquire("t2", "other-tenant")  # another tenant has its own budget
    assert len(time.sleeps) == 1


async def test_idle_conversations_are_forgotten():
    time = FakeTime()
    pacer = Pacer(clock=time.monotonic, sleep=time.sleep)
    pacer.MAX_TRACKED = 5
    for n in range(10):
        await pacer.acquire(f"t{n}", f"c{n}")
    time.now += 60
    await pacer.acquire("t-last", "c-last")
    assert len(pacer._conversations) == 1 and len(pacer._tenants) == 1
