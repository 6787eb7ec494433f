"""Several servers on one PostgreSQL: one scheduler leader, every step fired once, shared sending."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.core import Tandem
from storage.tables import Match, Round, StepRun
from tandem.leader import SchedulerLeader, lock_key
from tests.core.harness import Harness

PROFILE = {"timezone": "Europe/Berlin", "work_start": "09:00", "work_end": "17:00"}


# Several processes share a database only on PostgreSQL (SQLite means one process), so these tests take the
# `db` fixture on PostgreSQL alone; without TANDEM_TEST_POSTGRES_URL they skip like every PostgreSQL run.
ON_POSTGRES = pytest.mark.parametrize("db", ["postgres"], indirect=True)


@ON_POSTGRES
async def test_two_schedulers_ticking_at_once_make_one_round(db, start_time) -> None:  # noqa: ANN001
    h = Harness.create(db, start_time)
    admin = h.actor("UADMIN", "Morgan", admin=True)
    await h.create_program(admin)
    for uid, name in (("U1", "Ana"), ("U2", "Ben"), ("U3", "Chen"), ("U4", "Dee")):
        await h.enrol(h.actor(uid, name), profile=PROFILE)
    other = Tandem(db, clock=h.clock, instance_id="second-server", pacing=False)
    other.register_port("console", h.port)
    before = len(h.port.sent)
    for _ in range(4):  # the round (with its prompt step), icebreaker, admin digest, check-in; both servers racing
        due = await _next_step(h)
        h.clock.set(due)
        await asyncio.gather(h.core.tick(), other.tick(), h.core.tick(), other.tick())
    async with db.session() as s:
        assert len((await s.exec(select(Round))).all()) == 1
        assert len((await s.exec(select(Match))).all()) == 2
        runs = (await s.exec(select(StepRun))).all()
        assert Counter(r.kind for r in runs) == Counter(round=1, prompt=1, icebreaker=1, digest=1, checkin=1)
    new = h.port.sent[before:]
    intros = [s for s in new if "matched in" in s.message.plain_text()]
    assert len(intros) == 2, "one intro per group, not one per server"
    assert len([s for s in new if s.channel]) == 1, "one icebreaker"
    assert len([s for s in new if "Did you meet" in s.message.plain_text()]) == 4, "one check-in per person"


async def _next_step(h: Harness):  # noqa: ANN202
    from bot.schedule.calendar import occurrences

    async with h.core.db.session() as s:
        from storage.tables import Program

        program = (await s.exec(select(Program))).one()
        done = set((await s.exec(select(StepRun.key))).all())
    upcoming = [
        o for o in occurrences(program, h.clock.now() + timedelta(days=8)) if o.key(program.id or 0) not in done
    ]
    return upcoming[0].due_at


@ON_POSTGRES
async def test_only_one_leader_and_release_hands_over(db) -> None:  # noqa: ANN001
    key = lock_key(f"test:{uuid.uuid4()}")
    ticks: list[str] = []

    async def tick_now() -> None:
        ticks.append("tick")

    first, second = SchedulerLeader(db, key=key), SchedulerLeader(db, key=key, on_acquire=tick_now)
    try:
        assert await first.refresh() is True
        assert await second.refresh() is False
        assert first.is_leader and not second.is_leader
        assert await first.refresh() is True, "the holder keeps it"
        await first.release()
        assert not first.is_leader
        assert await second.refresh() is True and second.is_leader
        await asyncio.sleep(0)
        assert ticks == ["tick"], "the new leader ticks at once instead of waiting for the next minute"
        assert await second.refresh() is True and ticks == ["tick"]
        assert await first.refresh() is False
    finally:
        await first.release()
        await second.release()


@ON_POSTGRES
async def test_leader_that_dies_is_replaced_at_the_next_attempt(db) -> None:  # noqa: ANN001
    key = lock_key(f"test:{uuid.uuid4()}")
    took_over, refused_twice = asyncio.Event(), asyncio.Event()

    async def on_acquire() -> None:
        took_over.set()

    first = SchedulerLeader(db, key=key)
    second = SchedulerLeader(db, key=key, retry_seconds=0.05, on_acquire=on_acquire)
    refusals = 0
    real_refresh = second.refresh

    async def observed_refresh() -> bool:  # run() calls this: count the attempts that found the lock held
        nonlocal refusals
        got = await real_refresh()
        if not got:
            refusals += 1
            if refusals == 2:
                refused_twice.set()
        return got

    second.refresh = observed_refresh  # type: ignore[method-assign]
    stop = asyncio.Event()
    try:
        assert await first.refresh()
        runner = asyncio.create_task(second.run(stop))
        await asyncio.wait_for(refused_twice.wait(), timeout=10)  # tried, was refused, and tried again
        assert not second.is_leader
        assert first._conn is not None
        pid = (await first._conn.execute(text("SELECT pg_backend_pid()"))).scalar()
        async with db.engine.connect() as conn:  # the holder's session dies (process killed, network gone)
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.wait_for(took_over.wait(), timeout=10)  # a safety bound, not a timing assumption
        assert second.is_leader, "taken over within a retry interval"
        assert await first.refresh() is False and not first.is_leader, "the old holder notices it lost the lock"
        stop.set()
        await runner
        assert not second.is_leader, "stopping releases the lock"
    finally:
        stop.set()
        await first.release()
        await second.release()


async def test_sqlite_process_always_leads(sqlite_db) -> None:  # noqa: ANN001
    leader = SchedulerLeader(sqlite_db)
    assert leader.is_leader and await leader.refresh()


def test_grace_and_leader_settings_reach_the_core(monkeypatch, sqlite_db) -> None:  # noqa: ANN001
    from tandem.server import build_core
    from tandem.settings import load_settings

    monkeypatch.setenv("TANDEM_STEP_GRACE_HOURS", "72")
    monkeypatch.setenv("TANDEM_LEADER_RETRY_SECONDS", "5")
    settings = load_settings()
    assert build_core(sqlite_db, settings).step_grace == timedelta(hours=72)
    assert settings.leader_retry_seconds == 5
    monkeypatch.delenv("TANDEM_STEP_GRACE_HOURS")
    assert build_core(sqlite_db, load_settings()).step_grace is None


@ON_POSTGRES
async def test_two_serve_processes_one_scheduler_and_takeover(db, caplog) -> None:  # noqa: ANN001
    """The wiring: two `tandem serve` instances on one PostgreSQL schema; stopping the leader hands over."""
    import logging
    import socket

    from tandem.server import build_core, serve
    from tandem.settings import load_settings

    def settings():  # noqa: ANN202
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return load_settings(TANDEM_PORT=port, TANDEM_LEADER_RETRY_SECONDS=0.1)

    def acquired() -> int:
        return sum("now runs the scheduler" in r.getMessage() for r in caplog.records)

    class Watch(logging.Handler):
        """Turns the leader's log lines into events: someone took the lock; a follower was refused it."""

        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.loop = asyncio.get_running_loop()
            self.acquired, self.refused = 0, 0
            self.first_acquired, self.refused_twice, self.second_acquired = (asyncio.Event() for _ in range(3))

        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if "now runs the scheduler" in message:
                self.acquired += 1
                self._set_if(self.acquired >= 1, self.first_acquired)
                self._set_if(self.acquired >= 2, self.second_acquired)
            elif "held by another process" in message:
                self.refused += 1
                self._set_if(self.refused >= 2, self.refused_twice)

        def _set_if(self, condition: bool, event: asyncio.Event) -> None:
            if condition:  # the loggers run in the loop's thread, but this is safe from any thread
                self.loop.call_soon_threadsafe(event.set)

    caplog.set_level(logging.DEBUG, logger="tandem.leader")  # DEBUG: the refused attempts too
    watch = Watch()
    logging.getLogger("tandem.leader").addHandler(watch)
    servers = []
    try:
        for _ in range(2):
            ready, stop = asyncio.Event(), asyncio.Event()
            conf = settings()
            servers.append((asyncio.create_task(serve(build_core(db, conf), conf, ready=ready, stop=stop)), stop))
            await asyncio.wait_for(ready.wait(), 10)
        await asyncio.wait_for(watch.first_acquired.wait(), 10)  # safety bounds, not timing assumptions
        await asyncio.wait_for(watch.refused_twice.wait(), 10)  # the other server tried (and retried) meanwhile
        assert acquired() == 1, "exactly one of the two runs the scheduler"
        first_task, first_stop = servers[0]
        first_stop.set()
        await first_task
        await asyncio.wait_for(watch.second_acquired.wait(), 10)
        assert acquired() == 2, "the other server took over"
    finally:
        logging.getLogger("tandem.leader").removeHandler(watch)
        for task, stop in servers:
            stop.set()
            await task
