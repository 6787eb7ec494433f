"""Client-side pacing so a big round stays under Slack's rate limits instead of bouncing off them.

Slack documents its Web API limits per method *tier*, per workspace (https://api.slack.com/apis/rate-limits):
Tier 2 = 20+/min, Tier 3 = 50+/min, Tier 4 = 100+/min, and ``chat.postMessage`` is "special": about one
message per second per channel with short bursts, plus a workspace-wide cap of "several hundred per minute".
We pace at those documented floors (300/min for the workspace-wide post cap), with a small burst allowance,
so a 1,000-pair round trickles out steadily; a 429 that still happens is handled by the port/outbox.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

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
}
POST_MESSAGE = "chat.postMessage"


@dataclass(frozen=True)
class RateLimits:
    """Per-workspace rates in calls per minute; ``per_method`` overrides a single method (benchmarks)."""

    tier_per_minute: dict[int, float] = field(default_factory=lambda: {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0})
    post_per_minute: float = 300.0  # chat.postMessage, workspace-wide ("several hundred per minute")
    post_per_channel_per_second: float = 1.0
    burst: int = 5  # calls allowed back-to-back after a quiet spell
    per_method: dict[str, float] = field(default_factory=dict)
    enabled: bool = True

    def per_minute(self, method: str) -> float | None:
        if method in self.per_method:
            return self.per_method[method]
        if method == POST_MESSAGE:
            return self.post_per_minute
        tier = METHOD_TIER.get(method)
        return self.tier_per_minute.get(tier) if tier else None


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

    def idle(self, now: float) -> bool:
        return self._next < now


class Pacer:
    """Hands out send slots per (workspace, method) and, for posts, per (workspace, channel)."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    async def wait(self, workspace_id: str, method: str, channel: str | None = None) -> float:
        """Sleep until this call may go out; returns the time waited (for logs and benchmarks)."""
        if not self.limits.enabled:
            return 0.0
        now = time.monotonic()
        delay = 0.0
        per_minute = self.limits.per_minute(method)
        if per_minute:
            delay = self._bucket((workspace_id, method), per_minute / 60.0, self.limits.burst).reserve(now)
        if method == POST_MESSAGE and channel:
            rate = self.limits.post_per_channel_per_second
            delay = max(delay, self._bucket((workspace_id, "#" + channel), rate, 1).reserve(now))
        if delay > 0:
            await asyncio.sleep(delay)
        return delay

    def _bucket(self, key: tuple[str, str], rate: float, burst: int) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._prune()
            bucket = self._buckets[key] = TokenBucket(rate, burst)
        return bucket

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [k for k, b in self._buckets.items() if b.idle(now)]:
            del self._buckets[key]
