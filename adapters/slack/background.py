"""Work that runs after Slack has been answered: Slack wants an ack within 3 s, the core may take longer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from adapters.metrics import slack_backlog

log = logging.getLogger("tandem.slack")


class Background:
    """Keeps references to fire-and-forget tasks (so they aren't garbage-collected) and logs their errors.

    At most ``concurrency`` of them run at once. The acks share the event loop with this work, and an ack
    waits behind every task that is ready to run; a small pool keeps that queue (and so the ack's tail
    latency) short while a burst of events is worked off in order.

    At most ``limit`` of them wait or run (the backlog): a request takes a *reservation* before its listener
    runs (``reserve``) and gives it back after, so the listener's own task never takes the backlog over its
    bound; a request that finds no room is shed by adapters/slack/backpressure.py before anything is acked.
    ``headroom`` extra places are kept for what Slack will not send again (clicks, Slack's last retry).
    """

    def __init__(self, concurrency: int = 8, limit: int = 1000, headroom: int | None = None) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.limit = max(1, limit)
        self.headroom = max(1, self.limit // 4) if headroom is None else max(0, headroom)
        self._reserved = 0
        self.max_pending = 0  # the most tasks seen at once (benchmarks/slack_http.py reports it)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._limited(coro), name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)
        self._counted()
        return task

    def reserve(self, *, last_chance: bool = False) -> bool:
        """Room for one more request's work? Takes a place if so (give it back with ``release``)."""
        bound = self.limit + (self.headroom if last_chance else 0)
        if len(self._tasks) + self._reserved >= bound:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        self._reserved -= 1

    async def _limited(self, coro: Coroutine[Any, Any, Any]) -> Any:
        async with self._slots:
            return await coro

    def _counted(self) -> None:
        pending = len(self._tasks)
        self.max_pending = max(self.max_pending, pending)
        slack_backlog(pending)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._counted()
        if not self._tasks:
            self._idle.set()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("slack: %s failed: %s", task.get_name(), exc, exc_info=exc)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every spawned task (and any they spawned) has finished; used at shutdown and in tests."""
        while self._tasks:
            await self._idle.wait()

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
