"""Work that runs after Slack has been answered: Slack wants an ack within 3 s, the core may take longer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("tandem.slack")


class Background:
    """Keeps references to fire-and-forget tasks (so they aren't garbage-collected) and logs their errors.

    At most ``concurrency`` of them run at once. The acks share the event loop with this work, and an ack
    waits behind every task that is ready to run; a small pool keeps that queue (and so the ack's tail
    latency) short while a burst of events is worked off in order.
    """

    def __init__(self, concurrency: int = 8) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._limited(coro), name=name)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)
        return task

    async def _limited(self, coro: Coroutine[Any, Any, Any]) -> Any:
        async with self._slots:
            return await coro

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
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
