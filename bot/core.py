"""The Tandem core: one object the adapters and the wiring talk to.

Adapters call :meth:`Tandem.handle` with neutral events and render the neutral response; the scheduler
calls :meth:`Tandem.tick`. Everything else (programs, rounds, deliveries, surveys) hangs off this object.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from bot.app.home import home_view
from bot.app.once import handled_before
from bot.app.router import handle_event
from bot.delivery.failures import tell_failures
from bot.delivery.outbox import Dispatcher
from bot.kernel.clock import Clock, SystemClock
from bot.kernel.events import Actor, Event, Response
from bot.kernel.messages import Message
from bot.kernel.port import ChatPort
from bot.kernel.runtime import AdminPolicy, PrivacyPolicy
from bot.privacy.erase import workspace_uninstalled
from bot.programs.channel_sync import run_channel_syncs
from bot.schedule.steps import run_due_steps
from storage.database import Database

__all__ = ["AdminPolicy", "PrivacyPolicy", "Tandem"]

log = logging.getLogger("tandem.core")


class Tandem:
    """Holds the database, the clock and one port per platform."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock | None = None,
        admins: AdminPolicy | None = None,
        instance_id: str | None = None,
        default_timezone: str = "UTC",
        step_grace: timedelta | None = None,
        pacing: bool = True,
        privacy: PrivacyPolicy | None = None,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.admins = admins or AdminPolicy()
        self.instance_id = instance_id or f"tandem-{uuid.uuid4().hex[:8]}"
        self.ports: dict[str, ChatPort] = {}
        self.default_timezone = default_timezone
        self.step_grace = step_grace  # None: per-kind defaults in bot.schedule.calendar.GRACE
        self.pacing = pacing  # quiet hours, the weekly cap and the day's digest (bot/delivery/pacing.py)
        self.privacy = privacy or PrivacyPolicy()
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
        return await handle_event(self, event)

    async def handled_before(self, event: Event) -> bool:
        """Whether an event with this id was acted on already, so an adapter can skip slow preparation
        (a download) for a redelivery. ``handle`` stays the guarantee: it acts once per id regardless."""
        return await handled_before(self.db, event)

    async def home(self, actor: Actor) -> Message:
        """The person's home view: matches, next chat, open surveys; admins also see program health."""
        return await home_view(self, actor)

    async def uninstalled(self, platform: str, workspace_id: str) -> int:
        """The app was removed from a workspace; with TANDEM_FORGET_ON_UNINSTALL everyone there is forgotten."""
        return await workspace_uninstalled(
            self.db, platform, workspace_id, self.clock.now(), forget=self.privacy.forget_on_uninstall
        )

    async def tick(self, *, channel_syncs: bool = True) -> None:
        """Run every step that is due, then send what is waiting. Safe to call as often as you like.

        ``channel_syncs=False``: a server works on channel syncs in a loop of its own (``sync_channels``), so a
        long member listing never holds up the scheduled steps."""
        await run_due_steps(self)
        if channel_syncs:
            await self.sync_channels()
        await self.dispatch()

    async def sync_channels(self) -> int:
        """Reach the people already in programs' channels (batches go out as they commit); returns batches."""
        return await run_channel_syncs(self)

    async def dispatch(self, limit: int = 200) -> int:
        """Send pending deliveries; returns how many were sent."""
        dispatcher = Dispatcher(self)
        sent = await dispatcher.run_once(limit=limit)
        if dispatcher.given_up and await tell_failures(self, dispatcher.given_up):
            sent += await Dispatcher(self).run_once(limit=limit)  # the notices go now, not next tick
        return sent
