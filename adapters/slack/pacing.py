"""Client-side pacing so a big round stays under Slack's rate limits instead of bouncing off them.

Slack documents its Web API limits per method *tier*, per workspace (https://api.slack.com/apis/rate-limits):
Tier 2 = 20+/min, Tier 3 = 50+/min, Tier 4 = 100+/min, and ``chat.postMessage`` is "special": about one
message per second per channel with short bursts, plus a workspace-wide cap of "several hundred per minute".
We pace at those documented floors (300/min for the workspace-wide post cap), with a small burst allowance,
so a 1,000-pair round trickles out steadily (about 20 minutes: one Tier 3 conversations.open per pair).

Slack applies limits "per API method per app per workspace" and answers a 429 with a Retry-After: "the number
of seconds until you can retry". So a 429 pauses that method in that workspace for that long; other methods
and other workspaces keep going. A send that would wait out more than ``max_pause_wait`` of a pause is
handed back instead (``Paused``), so the outbox sends other messages meanwhile and retries it afterwards.

``chat.postMessage`` has two limits and its 429 doesn't say which one answered. A 429 pauses only the
channel it came from (the per-channel limit, or a hiccup): pausing every post in the workspace for it cost a
quarter of the workspace's rate when Slack answered 5 % of posts with 429. 429s from ``WORKSPACE_429S``
channels whose pauses overlap mean the workspace-wide limit, and pause every post there. Two would do, but
then two unrelated 429s a second apart (likely at 5 % of 5 posts a second) stop the workspace for nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

# Documented tiers of the methods Tandem calls (https://api.slack.com/methods, "Rate limits" on each page).
METHOD_TIER: dict[str, int] = {
    "conversations.open": 3,
    "conversations.members": 4,
    "conversations.replies": 3,
    "chat.getPermalink": 4,
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.open": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
}
POST_MESSAGE = "chat.postMessage"
WORKSPACE_429S = 3  # post 429s from this many channels, their pauses overlapping: the workspace's limit
MAX_PAUSE_WAIT = 2.0  # a send waits out a 429 pause this short; a longer one is handed back (``Paused``)


@dataclass(frozen=True)
class RateLimits:
    """Per-workspace rates in calls per minute; ``per_method`` overrides a single method (benchmarks)."""

    tier_per_minute: dict[int, float] = field(default_factory=lambda: {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0})
    post_per_minute: float = 300.0  # chat.postMessage, workspace-wide ("several hundred per minute")
    post_per_channel_per_second: float = 1.0
    # calls allowed back-to-back after a quiet spell; below what Slack tolerates, because Slack counts from when
    # a call arrives and varying latency bunches calls up (a burst of 5 against a fake tolerating 5 drew 429s)
    burst: int = 3
    per_method: dict[str, float] = field(default_factory=dict)
    enabled: bool = True
    max_pause_wait: float = MAX_PAUSE_WAIT

    def per_minute(self, method: str) -> float | None:
        if method in self.per_method:
            return self.per_method[method]
        if method == POST_MESSAGE:
            return self.post_per_minute
        tier = METHOD_TIER.get(method)
        return self.tier_per_minute.get(tier) if tier else None

    def scaled(self, factor: float) -> RateLimits:
        """Every rate ``factor`` times faster, and pauses that much shorter (benchmarks compress time)."""
        return replace(
            self,
            tier_per_minute={t: r * factor for t, r in self.tier_per_minute.items()},
            post_per_minute=self.post_per_minute * factor,
            post_per_channel_per_second=self.post_per_channel_per_second * factor,
            per_method={m: r * factor for m, r in self.per_method.items()},
            max_pause_wait=self.max_pause_wait / factor,
        )


class Paused(Exception):
    """Slack asked (429) to leave this method alone for longer than a send should wait; try again later."""

    def __init__(self, method: str, seconds: float) -> None:
        super().__init__(f"{method}: rate limited (paused for {seconds:.1f} s)")
        self.method = method
        self.seconds = seconds


class TokenBucket:
    """A bucket refilled at ``rate`` per second holding up to ``burst`` tokens (GCRA form: one float of state)."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate
        self.burst = max(1, burst)
        self._next = 0.0

    def reserve(self, now: float) -> float:
        """Take the next free slot and return how long to wait for it (no awaits: atomic under asyncio)."""
        slot = max(self._next, now - (self.burst - 1) * self.interval)
        self._next = slot + self.interval
        return max(0.0, slot - now)

    def hold_until(self, when: float) -> None:
        """No slot before ``when``; slots after it are spaced again (no burst saved up during the pause)."""
        self._next = max(self._next, when)

    def idle(self, now: float) -> bool:
        return self._next < now


class Pacer:
    """Hands out send slots per (workspace, method) and, for posts, per (workspace, channel).

    ``clock`` and ``sleep`` are injectable so tests never wait for real time.
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._paused: dict[tuple[str, str], float] = {}  # (workspace, method) → no calls before this instant
        self._channel_paused: dict[tuple[str, str], float] = {}  # (workspace, channel) of the last lone post 429

    async def wait(self, workspace_id: str, method: str, channel: str | None = None) -> float:
        """Sleep until this call may go out; returns the time waited (for logs and benchmarks).

        Raises ``Paused`` instead of sleeping through more than ``max_pause_wait`` of a 429 pause.
        """
        if not self.limits.enabled:
            return 0.0
        waited = 0.0
        key = (workspace_id, method)
        channel_delay = 0.0
        if method == POST_MESSAGE and channel:  # reserved once: a pause is per method, not per channel
            rate = self.limits.post_per_channel_per_second
            channel_delay = self._bucket((workspace_id, "#" + channel), rate, 1).reserve(self._clock())
        channel_ready = self._clock() + channel_delay
        while True:
            now = self._clock()
            paused = self._paused.get(key, 0.0) - now
            if channel and method == POST_MESSAGE:
                paused = max(paused, self._channel_paused.get((workspace_id, channel), 0.0) - now)
            if paused > self.limits.max_pause_wait:
                raise Paused(method, paused)
            per_minute = self.limits.per_minute(method)
            delay = max(paused, channel_ready - now)
            if per_minute:
                bucket = self._bucket(key, per_minute / 60.0, self.limits.burst)
                delay = max(delay, bucket.reserve(now))
            if delay <= 0:
                return waited
            await self._sleep(delay)
            waited += delay
            if self._paused.get(key, 0.0) <= self._clock():
                return waited
            # a 429 for this method came in while we waited: our slot fell inside the pause, queue again

    def pause(self, workspace_id: str, method: str, seconds: float, channel: str | None = None) -> None:
        """Slack answered 429 with Retry-After ``seconds``: no more calls of ``method`` there until then.

        For a post, ``channel`` is where it went: a lone 429 pauses just that channel (module docstring).
        """
        if not self.limits.enabled or seconds <= 0:
            return
        key = (workspace_id, method)
        until = self._clock() + seconds
        if method == POST_MESSAGE and channel and self._lone_post_429(workspace_id, channel, until):
            return
        if until <= self._paused.get(key, 0.0):
            return
        self._paused[key] = until
        per_minute = self.limits.per_minute(method)
        if per_minute:
            self._bucket(key, per_minute / 60.0, self.limits.burst).hold_until(until)

    def _lone_post_429(self, workspace_id: str, channel: str, until: float) -> bool:
        """Pause this channel alone, unless enough other channels' pauses still run (the workspace's limit)."""
        now = self._clock()
        others = [c for (w, c), end in self._channel_paused.items() if w == workspace_id and c != channel and end > now]
        if len(self._channel_paused) > 10_000:
            self._prune()
        self._channel_paused[(workspace_id, channel)] = max(until, self._channel_paused.get((workspace_id, channel), 0))
        return len(others) < WORKSPACE_429S - 1

    def paused_for(self, workspace_id: str, method: str) -> float:
        """Seconds left of a 429 pause (0 when none)."""
        return max(0.0, self._paused.get((workspace_id, method), 0.0) - self._clock())

    def _bucket(self, key: tuple[str, str], rate: float, burst: int) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._prune()
            bucket = self._buckets[key] = TokenBucket(rate, burst)
        return bucket

    def _prune(self) -> None:
        now = self._clock()
        for key in [k for k, b in self._buckets.items() if b.idle(now)]:
            del self._buckets[key]
        for key in [k for k, until in self._paused.items() if until < now]:
            del self._paused[key]
        for key in [k for k, until in self._channel_paused.items() if until < now]:
            del self._channel_paused[key]
