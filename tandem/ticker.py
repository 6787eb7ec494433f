"""The program scheduler's clock: one plain asyncio loop that calls ``core.tick()`` once a minute.

Why not a job library: there is one job, and what matters across several servers is *who* ticks (the
advisory-lock leader, tandem/leader.py) and that a step runs once (the step ledger), not the timing. A loop
in our own hands also makes shutdown plain: a tick that is running when SIGTERM arrives finishes (within a
bound), and only then does the process stop, so nothing is cancelled half-way or logged as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.core import Tandem
from tandem.leader import SchedulerLeader
from tandem.metrics import TICK_FAILURES, TICK_SECONDS

log = logging.getLogger("tandem.server")

TICK_SECONDS_INTERVAL = 60.0


async def tick_safely(core: Tandem, leader: SchedulerLeader | None = None) -> None:
    """One scheduler tick, only in the process that holds the scheduler lock (every process sends)."""
    if leader is not None and not leader.is_leader:
        return
    started = time.perf_counter()
    try:
        await core.tick(channel_syncs=False)  # the server syncs channels in its own loop (tandem/server.py)
    except Exception:
        TICK_FAILURES.inc()
        log.exception("scheduler tick failed; the next one will pick up where this one stopped")
    finally:
        TICK_SECONDS.observe(time.perf_counter() - started)


class Ticker:
    """Ticks at once, then every ``interval`` seconds, or sooner when poked (a process that just took over)."""

    def __init__(self, core: Tandem, leader: SchedulerLeader | None, interval: float = TICK_SECONDS_INTERVAL) -> None:
        self.core = core
        self.leader = leader
        self.interval = interval
        self.wake = asyncio.Event()
        self.ticking = False

    def poke(self) -> None:
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.wake.clear()
            self.ticking = True
            try:
                await tick_safely(self.core, self.leader)
            finally:
                self.ticking = False
            if stop.is_set():
                break
            pause = max(0.0, self.interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=pause)

    async def stop(self, task: asyncio.Task, grace: float) -> None:
        """Let a running tick finish (at most ``grace`` seconds), then end the loop; never an error."""
        self.poke()  # a loop waiting for its next minute wakes up and sees stop
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        except TimeoutError:
            log.warning("the scheduler tick did not finish within %.0f s; stopping it (the next start resumes)", grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
