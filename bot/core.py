"""The Tandem core: one object the adapters and the wiring talk to.

Adapters call :meth:`Tandem.handle` with neutral events and render the neutral response; the scheduler
calls :meth:`Tandem.tick`. Everything else (programs, rounds, deliveries, surveys) hangs off this object.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

from bot.clock import Clock, SystemClock
from bot.events import Actor, Event, Response
from bot.messages import Message
from bot.port import ChatPort
from storage.database import Database

log = logging.getLogger("tandem.core")


@dataclass
class AdminPolicy:
    """Extra admins by platform user id (e.g. from TANDEM_SLACK_ADMINS), on top of platform admins."""

    extra_admins: dict[str, frozenset[str]] = field(default_factory=dict)

    def is_listed(self, platform: str, user_id: str) -> bool:
        return user_id in self.extra_admins.get(platform, frozenset())


class Tandem:
    """Holds the database, the clock and one port per platform."""

    def __init__(self, db: Database, *, clock: Clock | None = None, admins: AdminPolicy | None = None,
                 instance_id: str | None = None, default_timezone: str = "UTC") -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.admins = admins or AdminPolicy()
        self.instance_id = instance_id or f"tandem-{uuid.uuid4().hex[:8]}"
        self.ports: dict[str, ChatPort] = {}
        self.default_timezone = default_timezone
        self.wakeup = asyncio.Event()  # set when new deliveries are waiting, so the sender loop runs now

    def register_port(self, platform: str, port: ChatPort) -> None:
        self.ports[platform] = port

    def port(self, platform: str) -> ChatPort:
        try:
            return self.ports[platform]
        except KeyError:
            raise LookupError(f"no adapter is registered for platform '{platform}'") from None

    async def handle(self, event: Event) -> Response:
        """Act on one inbound event and say what to answer where it happened."""
        from bot.handler import handle_event

        return await handle_event(self, event)

    async def home(self, actor: Actor) -> Message:
        """The person's home view: matches, next chat, open surveys; admins also see program health."""
        from bot.home import home_view

        return await home_view(self, actor)

    async def tick(self) -> None:
        """Run every step that is due, then send what is waiting. Safe to call as often as you like."""
        from bot.steps import run_due_steps

        await run_due_steps(self)
        await self.dispatch()

    async def dispatch(self, limit: int = 200) -> int:
        """Send pending deliveries; returns how many were sent."""
        from bot.outbox import Dispatcher

        return await Dispatcher(self).run_once(limit=limit)
