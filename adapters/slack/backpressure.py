"""Back-pressure: a full backlog turns Slack requests away *before* they are acked, so nothing acked is lost.

Every request the adapter accepts leaves work behind its ack (adapters/slack/background.py), and under a
flood that work used to pile up without limit, memory with it. Now the backlog is bounded and a request
that finds it full is answered by kind, in the way that loses nothing Tandem has taken on:

* Events API deliveries get 503. Slack sends a failed delivery again (up to 3 times, with
  ``X-Slack-Retry-Num``); Slack's last retry may use the headroom, since nothing comes after it.
* Slash commands are not sent again: they get 200 with a "busy, try again in a moment" answer that only
  the person sees.
* Clicks, modal submissions and menus are not sent again either, and their answer can't carry text: they
  may use the headroom, and past it get 503, which Slack shows the person as a failed action.

One warning line says shedding began (then at most one a minute, with the count), one info line when the
backlog has room again. docs/slack.md ("Back-pressure") has the whole story.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import is_event, is_slash_command
from slack_bolt.response import BoltResponse

from adapters.metrics import slack_shed
from adapters.slack.background import Background

log = logging.getLogger("tandem.slack")

BUSY = "Tandem is busy right now and didn't get to this. Please try again in a moment."
LAST_RETRY = 3  # Slack retries a failed event delivery 3 times
LOG_EVERY = 60.0  # seconds between two shedding lines


class Shedding:
    """Counts what was turned away and says so in one line now and then, not one per request."""

    def __init__(self, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.total: Counter[str] = Counter()
        self._unreported: Counter[str] = Counter()
        self._last_line: float | None = None
        self.active = False

    def shed(self, kind: str, background: Background) -> None:
        slack_shed(kind)
        self.total[kind] += 1
        self._unreported[kind] += 1
        now = self.clock()
        if self._last_line is not None and now - self._last_line < self.every:
            return
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self._unreported.items()))
        log.warning(
            "slack: backlog full (%d waiting; bound %d, +%d for clicks and Slack's last retries): turning requests "
            "away until there is room (%s; events come again, commands are told to retry, clicks show an error)",
            background.pending,
            background.limit,
            background.headroom,
            counts,
        )
        self._unreported.clear()
        self._last_line = now
        self.active = True

    def room_again(self, background: Background) -> None:
        if self.active:
            self.active = False
            log.info(
                "slack: backlog has room again (%d of %d); %d requests turned away in all",
                background.pending,
                background.limit,
                sum(self.total.values()),
            )


def kind_of(req: AsyncBoltRequest) -> str:
    if is_event(req.body):
        return "event"
    if is_slash_command(req.body):
        return "command"
    return "interaction"


def _retry_number(req: AsyncBoltRequest) -> int:
    raw = (req.headers.get("x-slack-retry-num") or ["0"])[0]
    return int(raw) if raw.isdigit() else 0


def turned_away(kind: str) -> BoltResponse:
    if kind == "command":
        body = json.dumps({"response_type": "ephemeral", "text": BUSY})
        return BoltResponse(status=200, body=body, headers={"content-type": "application/json"})
    return BoltResponse(status=503, body="")


def room_for_work(
    background: Background, shedding: Shedding
) -> Callable[[AsyncBoltRequest, BoltResponse, Callable[[], Awaitable[BoltResponse]]], Awaitable[BoltResponse]]:
    """The bolt middleware: a place in the backlog for the request's work, or a refusal Slack understands."""

    async def middleware(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        kind = kind_of(req)
        last_chance = kind == "interaction" or (kind == "event" and _retry_number(req) >= LAST_RETRY)
        if not background.reserve(last_chance=last_chance):
            shedding.shed(kind, background)
            return turned_away(kind)
        try:
            if background.pending < background.limit // 2:
                shedding.room_again(background)
            return await next()
        finally:
            background.release()

    return middleware
