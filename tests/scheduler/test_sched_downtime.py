"""Downtime: steps missed while down run once when the service is back, or are skipped past their grace."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from storage.tables import StepRun
from tests.core.harness import Harness

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin; the first round is due at 10:00
PROFILE = {"timezone": "Europe/Berlin", "work_start": "09:00", "work_end": "17:00"}


class Crash(BaseException):
    """The process dying mid-step."""


async def _program(db, grace: timedelta | None = None) -> Harness:  # noqa: ANN001
    h = Harness.create(db, START)
    h.core.step_grace = grace
    await h.create_program(h.actor("UADMIN", "Morgan", admin=True))
    for uid, name in (("U1", "Ana"), ("U2", "Ben")):
        await h.enrol(h.actor(uid, name), profile=PROFILE)
    return h


async def _ledger(h: Harness) -> dict[str, str]:
    async with h.core.db.session() as s:
        # the admins' weekly digest (tests/admin) has its own grace; these tests follow the participants' steps
        return {r.kind: r.state for r in (await s.exec(select(StepRun))).all() if r.kind != "digest"}


def _intros(h: Harness) -> int:
    return len([s for s in h.port.sent if "matched in" in s.message.plain_text()])


def _icebreakers(h: Harness) -> int:
    return len([s for s in h.port.sent if s.channel])


async def test_two_days_down_runs_the_round_once_and_skips_the_stale_icebreaker(db, caplog) -> None:  # noqa: ANN001
    h = await _program(db)
    h.clock.set(START + timedelta(days=2))  # back on Wednesday 09:00: the round is 47 h late, the icebreaker 23 h
    with caplog.at_level(logging.WARNING, logger="tandem.steps"):
        for _ in range(5):  # every tick after the outage: the ledger, not the tick count, decides
            await h.core.tick()
            h.clock.advance(timedelta(minutes=1))
    assert await _ledger(h) == {"round": "done", "prompt": "done", "icebreaker": "skipped"}
    assert _intros(h) == 1 and _icebreakers(h) == 0
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "icebreaker" in skipped[0].getMessage(), "logged once, not once per tick"
    h.clock.set(START + timedelta(days=3, hours=2))  # Thursday: the check-in is on time
    await h.core.tick()
    await h.core.tick()
    assert await _ledger(h) == {"round": "done", "prompt": "done", "icebreaker": "skipped", "checkin": "done"}
    assert len([s for s in h.port.sent if "Did you meet" in s.message.plain_text()]) == 2


@pytest.mark.parametrize(
    ("grace", "expected", "intros"),
    [
        (None, {"round": "skipped", "prompt": "skipped", "icebreaker": "skipped"}, 0),
        (timedelta(hours=72), {"round": "done", "prompt": "done", "icebreaker": "done"}, 1),
    ],
)
async def test_three_days_down_each_missed_step_runs_once_or_is_skipped(db, grace, expected, intros) -> None:  # noqa: ANN001
    h = await _program(db, grace)
    h.clock.set(START + timedelta(days=3))  # Thursday 08:00 UTC: the round is 71 h late
    for _ in range(4):
        await h.core.tick()
        h.clock.advance(timedelta(seconds=60))
    assert await _ledger(h) == expected
    assert _intros(h) == intros and _icebreakers(h) == intros
    async with h.core.db.session() as s:
        assert len((await s.exec(select(StepRun))).all()) == 4, "one row per step (with the digest)"


async def test_step_interrupted_by_a_crash_runs_again_once_later(db, monkeypatch) -> None:  # noqa: ANN001
    h = await _program(db)
    h.clock.set(START + timedelta(hours=1, minutes=1))
    import bot.schedule.steps

    async def dies(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise Crash()

    with monkeypatch.context() as m:
        m.setattr(bot.schedule.steps, "run_round", dies)
        with pytest.raises(Crash):
            await h.core.tick()
    assert (await _ledger(h))["round"] == "running"
    await h.core.tick()
    assert _intros(h) == 0, "a recent 'running' row belongs to someone else: leave it"
    h.clock.advance(bot.schedule.steps.STALE_RUN + timedelta(minutes=1))
    await h.core.tick()
    await h.core.tick()
    assert _intros(h) == 1
    assert (await _ledger(h))["round"] == "done"


async def test_failed_step_is_retried_after_a_pause_not_every_tick(db, monkeypatch) -> None:  # noqa: ANN001
    h = await _program(db)
    h.clock.set(START + timedelta(hours=1, minutes=1))
    import bot.schedule.steps

    calls = 0
    real = bot.schedule.steps.run_round

    async def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database hiccup")
        return await real(*args, **kwargs)

    monkeypatch.setattr(bot.schedule.steps, "run_round", flaky)
    await h.core.tick()
    await h.core.tick()
    assert calls == 1 and (await _ledger(h))["round"] == "failed"
    h.clock.advance(bot.schedule.steps.RETRY_FAILED_AFTER + timedelta(seconds=1))
    await h.core.tick()
    await h.core.tick()
    assert calls == 2 and _intros(h) == 1 and (await _ledger(h))["round"] == "done"
