"""A small driver for core tests: a core on a simulated clock with the console adapter as its platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.console.port import PLATFORM, ConsolePort, Sent
from bot.core import Tandem
from bot.kernel.clock import SimulatedClock
from bot.kernel.events import (
    ActionEvent,
    Actor,
    ChannelRef,
    CommandEvent,
    FormSubmittedEvent,
    MemberJoinedEvent,
    MentionRef,
    OpenForm,
    Place,
    Response,
)
from bot.kernel.messages import Actions, Button
from storage.database import Database

WORKSPACE = "T-TEST"


@dataclass
class Harness:
    core: Tandem
    port: ConsolePort
    clock: SimulatedClock

    @classmethod
    def create(cls, db: Database, start: datetime, *, pacing: bool = False) -> Harness:
        """``pacing`` off by default: feature tests check what is sent, not when the reader's day allows it
        (tests/core/test_pacing.py, the adapters' digest tests and the 12-week demo test pacing itself)."""
        clock = SimulatedClock(start)
        core = Tandem(db, clock=clock, instance_id="test", pacing=pacing)
        port = ConsolePort(clock=clock)
        core.register_port(PLATFORM, port)
        return cls(core=core, port=port, clock=clock)

    def actor(self, user_id: str, name: str | None = None, tz: str = "Europe/Berlin", admin: bool = False) -> Actor:
        return Actor(
            platform=PLATFORM,
            workspace_id=WORKSPACE,
            user_id=user_id,
            name=name or user_id,
            timezone=tz,
            is_platform_admin=admin,
        )

    async def command(
        self,
        actor: Actor,
        text: str,
        channel: str | None = None,
        mentions: tuple[MentionRef, ...] = (),
        channels: tuple[ChannelRef, ...] = (),
    ) -> Response:
        """A typed command; people and channels named in it are passed structured, as adapters do."""
        event = CommandEvent(
            actor=actor, text=text, place=Place(channel_id=channel), mentions=mentions, channels=channels
        )
        return await self.core.handle(event)

    async def submit(self, actor: Actor, form: OpenForm, values: dict) -> Response:
        return await self.core.handle(
            FormSubmittedEvent(actor=actor, form_id=form.form.form_id, values=values, state=form.form.state)
        )

    async def create_program(self, admin: Actor, channel: str = "coffee", **values: str) -> Response:
        form = await self.command(admin, "program create", channel)
        assert isinstance(form, OpenForm)
        base = {
            "name": "Coffee",
            "channel": channel,
            "kind": "peer",
            "cadence": "weekly",
            "weekday": "monday",
            "time": "10:00",
            "timezone": "Europe/Berlin",
            "group_size": "2",
            "enrolment": "opt_in",
        }
        return await self.submit(admin, form, base | values)

    async def enrol(self, actor: Actor, channel: str = "coffee", profile: dict | None = None) -> None:
        await self.core.handle(MemberJoinedEvent(actor=actor, channel_id=channel))
        await self.core.dispatch()
        invite = self.last_to(actor.user_id)
        await self.click(actor, invite, "program:join")
        if profile is not None:
            form = await self.command(actor, "profile")
            assert isinstance(form, OpenForm), form
            result = await self.submit(actor, form, profile)
            assert not hasattr(result, "errors"), result

    def last_to(self, user_id: str) -> Sent:
        for sent in reversed(self.port.sent):
            if user_id in sent.audience:
                return sent
        raise AssertionError(f"nothing was sent to {user_id}")

    def to(self, user_id: str) -> list[Sent]:
        return [s for s in self.port.sent if user_id in s.audience]

    async def click(
        self, actor: Actor, sent: Sent, action_id: str, value: str | None = None, event_id: str | None = None
    ) -> Response:
        button = next(
            e
            for b in sent.message.blocks
            if isinstance(b, Actions)
            for e in b.elements
            if isinstance(e, Button) and e.action_id == action_id and (value is None or e.value == value)
        )
        return await self.core.handle(
            ActionEvent(actor=actor, action_id=action_id, value=button.value, message=sent.ref, event_id=event_id)
        )
