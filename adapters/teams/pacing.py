"""Keeps outgoing sends inside Teams' documented bot limits instead of waiting for 429s.

Per bot per conversation: 7 messages / 1 s, 8 / 2 s, 60 / 30 s; per app per tenant: 30 requests / s.
Clock and sleep are injected so tests never wait for real time.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

CONVERSATION_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0))
TENANT_LIMITS: tuple[tuple[int, float], ...] = ((30, 1.0),)


class SlidingWindows:
    """Sliding-window counters for one key: how long until one more event fits every window."""

    def __init__(self, limits: tuple[tuple[int, float], ...]) -> None:
        self.limits = limits
        self.horizon = max(window for _, window in limits)
        self.events: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        while self.events and now - self.events[0] >= self.horizon:
            self.events.popleft()
        wait = 0.0
        for count, window in self.limits:
            recent = [t for t in self.events if now - t < window]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + window - now)
        return wait


class Pacer:
    """``await pacer.acquire(tenant, conversation)`` before each send."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._conversations: dict[str, SlidingWindows] = defaultdict(lambda: SlidingWindows(CONVERSATION_LIMITS))
        self._tenants: dict[str, SlidingWindows] = defaultdict(lambda: SlidingWindows(TENANT_LIMITS))
        self._lock = asyncio.Lock()

    MAX_TRACKED = 10_000

    def _prune(self, now: float) -> None:
        """Forget conversations idle for longer than the widest window (keeps memory flat)."""
        for table in (self._conversations, self._tenants):
            if len(table) > self.MAX_TRACKED:
                for key in [k for k, w in table.items() if not w.events or now - w.events[-1] >= w.horizon]:
                    del table[key]

    async def acquire(self, tenant_id: str, conversation_id: str | None) -> None:
        async with self._lock:
            self._prune(self.clock())
            while True:
                now = self.clock()
                windows = [self._tenants[tenant_id]]
                if conversation_id:
                    windows.append(self._conversations[conversation_id])
                wait = max(w.wait_time(now) for w in windows)
                if wait <= 0:
                    for w in windows:
                        w.events.append(now)
                    return
                await self.sleep(wait)
