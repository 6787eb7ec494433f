"""What the browser drives: the session engine, the open forms, one step at a time.

Each pane is a person (or the admin) seated in the engine; the others in the channel are simulated. A step
(typed text, a click, a form, a week) runs under a lock: the core sees one person at a time, as in a chat.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.kernel.events import FormErrors, Response, SentRef
from bot.kernel.messages import Form
from tandem.people import Person
from tandem.playground.port import PlaygroundPort
from tandem.session import ADMIN_ID, Clickable, Session, Values, clickables

ADMIN_PANE = "admin"
SPANS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}


class NotFound(Exception):
    """A pane, message, button or form that is not (or no longer) there."""


@dataclass
class OpenedForm:
    form: Form
    values: Values | None = None
    errors: dict[str, str] | None = None


class Playground:
    def __init__(self, session: Session, seated: list[Person]) -> None:
        self.session, self.seated = session, seated
        assert isinstance(session.port, PlaygroundPort)
        self.port: PlaygroundPort = session.port
        self.forms: dict[str, OpenedForm] = {}  # pane → the form open in it
        self.lock = asyncio.Lock()
        self.token = secrets.token_urlsafe(16)  # every form carries it: a page elsewhere cannot post here

    def person(self, pane: str) -> Person | None:
        """The person in a pane (None: the admin's)."""
        if pane == ADMIN_PANE:
            return None
        found = next((p for p in self.seated if p.user_id == pane), None)
        if found is None:
            raise NotFound(f"no pane {pane!r}")
        return found

    def user_id(self, pane: str) -> str:
        return ADMIN_ID if pane == ADMIN_PANE else pane

    async def say(self, pane: str, typed: str) -> None:
        person = self.person(pane)
        if typed.strip():
            await self._show(pane, person, await self.session.say(person, typed.strip()))

    async def click(self, pane: str, message_id: str, action_id: str, value: str) -> None:
        """A button (or a drop-down option) of a message this pane sees, clicked as its person."""
        person = self.person(pane)
        sent = self.port.find(message_id)
        if sent is None or self.user_id(pane) not in sent.audience:
            raise NotFound("no such message in this pane")
        item = next((c for c in clickables(sent.message, sent) if (c.action_id, c.value) == (action_id, value)), None)
        if item is None:
            raise NotFound("that message has no such button")
        if message_id in self.port.private:  # an answer only they saw: no platform message to point at
            item = Clickable(item.label, item.action_id, item.value, None)
        await self._show(pane, person, await self.session.click(person, item), sent.ref)

    async def submit(self, pane: str, values: Values) -> None:
        person, opened = self.person(pane), self.forms.get(pane)
        if opened is None:
            raise NotFound("no form is open in this pane")
        result = await self.session.submit(person, opened.form, values)
        if isinstance(result, FormErrors):
            self.forms[pane] = OpenedForm(opened.form, values, result.errors)
            return
        del self.forms[pane]
        await self._show(pane, person, result)

    def cancel(self, pane: str) -> None:
        self.person(pane)
        self.forms.pop(pane, None)

    async def wait(self, span: str) -> None:
        """ "day" or "week" passes (the scheduler runs; the simulated colleagues answer)."""
        if span not in SPANS:
            raise NotFound(f"no such span of time {span!r}")
        await self.session.wait(SPANS[span])

    async def _show(
        self, pane: str, person: Person | None, response: Response, replaces: SentRef | None = None
    ) -> None:
        form = await self.session.show(person, response, replaces)
        if form is not None:
            self.forms[pane] = OpenedForm(form)
        await self.session.settle()
