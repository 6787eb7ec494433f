"""The session engine behind `tandem chat` and `tandem playground`: the real core with simulated colleagues.

A program is created in its channel, a few colleagues arrive, and whoever a front end seats (a terminal, a
browser pane) acts through this engine; everyone else is simulated, as in the demo. Both front ends speak the
same events here: typed text, a click on a button or an option, a submitted form, a week passing. What the
person sees is the front end's own business (it reads the port's transcript).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from adapters.console.port import PLATFORM, ConsolePort, Sent
from bot.core import Tandem
from bot.kernel.clock import SimulatedClock
from bot.kernel.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    DirectMessageEvent,
    FormSubmittedEvent,
    MemberJoinedEvent,
    OpenForm,
    Place,
    Reply,
    Response,
    SentRef,
)
from bot.kernel.messages import Actions, Button, Choice, Form, Message
from tandem.demo import START, Simulation, admin_actor, advance, program_values
from tandem.people import Person, make_people

ADMIN_ID = "UADMIN"
ADMIN_NAME = "Morgan"
ADMIN_ZONE = "Europe/London"
Values = dict[str, str | list[str] | None]


@dataclass
class SessionOptions:
    people: int = 6
    kind: str = "peer"  # or "mentoring"
    seed: int = 7
    db_url: str | None = None


@dataclass(frozen=True)
class Clickable:
    """One thing a person can click: a button, or one option of a drop-down."""

    label: str
    action_id: str
    value: str
    sent: Sent | None  # None for an answer only that person saw (it has no message to update)


def clickables(message: Message, sent: Sent | None) -> list[Clickable]:
    """The buttons and drop-down options of a message, in reading order (links are not clicks)."""
    found: list[Clickable] = []
    for block in message.blocks:
        if not isinstance(block, Actions):
            continue
        for element in block.elements:
            if isinstance(element, Button) and not element.url:
                found.append(Clickable(element.label, element.action_id, element.value, sent))
            elif isinstance(element, Choice):
                found.extend(
                    Clickable(f"{element.placeholder}: {o.label}", element.action_id, o.value, sent)
                    for o in element.options
                )
    return found


class Session:
    """The core, its simulated clock and the simulated colleagues; ``seat`` says who is not simulated."""

    def __init__(self, core: Tandem, clock: SimulatedClock, port: ConsolePort, sim: Simulation, channel: str) -> None:
        self.core, self.clock, self.port, self.sim, self.channel = core, clock, port, sim, channel
        self.people = list(sim.people)
        self.admin = admin_actor()
        self.program_name = ""

    def seat(self, *people: Person) -> None:
        """These people act only when told to; the rest answer by themselves."""
        self.sim.by_id = {p.user_id: p for p in self.people if p not in people}

    def actor(self, person: Person | None) -> Actor:
        """The person's actor; None is the admin."""
        return self.sim.actor(person) if person else self.admin

    def user_id(self, person: Person | None) -> str:
        return person.user_id if person else ADMIN_ID

    async def say(self, person: Person | None, text: str) -> Response:
        """Text typed as in a direct message; the admin types in the program's channel, as a slash command."""
        if person is None:
            event: CommandEvent | DirectMessageEvent = CommandEvent(
                actor=self.admin, text=text, place=Place(channel_id=self.channel)
            )
        else:
            event = DirectMessageEvent(actor=self.actor(person), text=text)
        return await self.core.handle(event)

    async def click(self, person: Person | None, item: Clickable) -> Response:
        """A click on a button (or an option), carried to the core's action path as that person."""
        viewer = self.user_id(person)
        event = ActionEvent(
            actor=self.actor(person),
            action_id=item.action_id,
            value=item.value,
            message=item.sent.ref if item.sent else None,
            event_id=f"chat:{self.clock.now():%Y%m%d%H%M%S}:{viewer}:{item.action_id}:{item.value}",
        )
        return await self.core.handle(event)

    async def submit(self, person: Person | None, form: Form, values: Values) -> Response:
        """A filled-in form through the core's form-submit path (the form's own state goes back with it)."""
        return await self.core.handle(
            FormSubmittedEvent(actor=self.actor(person), form_id=form.form_id, values=values, state=form.state)
        )

    async def show(self, person: Person | None, response: Response, replaces: SentRef | None = None) -> Form | None:
        """Put a reply where the person sees it (in place of ``replaces`` when the core says so); a form to
        fill in is returned to the front end."""
        if isinstance(response, OpenForm):
            return response.form
        if isinstance(response, Reply):
            if response.replace_original and replaces is not None:
                await self.port.update_message(self.actor(person).workspace_id, replaces, response.message)
            else:
                self.port.show_reply(self.user_id(person), response.message)
        return None

    async def settle(self) -> None:
        await self.sim.settle()

    async def week(self) -> None:
        """A week passes: the scheduler wakes whenever something is due; the others answer as they go."""
        await self.wait(timedelta(weeks=1))

    async def wait(self, span: timedelta) -> None:
        """Time passes, as in :meth:`week`, for any span (the playground also has a day)."""
        await advance(self.core, self.clock, self.sim, self.clock.now() + span)


async def open_session(
    db,  # noqa: ANN001
    options: SessionOptions,
    make_port: Callable[[SimulatedClock, list[Person]], ConsolePort],
    seated: Callable[[Session], None] = lambda session: None,
    started: Callable[[Session], None] = lambda session: None,
) -> Session:
    """A program with a few colleagues in its channel, not yet joined. ``seated`` runs once the session
    exists (a front end takes its seats there), ``started`` once the program exists, before anyone arrives."""
    rng = random.Random(options.seed)
    clock = SimulatedClock(START)
    core = Tandem(db, clock=clock, default_timezone=ADMIN_ZONE, instance_id="chat")
    people = make_people(options.people, rng, mentoring=options.kind == "mentoring")
    port = make_port(clock, people)
    core.register_port(PLATFORM, port)
    sim = Simulation(core, port, people, rng, None)
    values = program_values(options.kind, 2, 12)
    session = Session(core, clock, port, sim, str(values["channel"]))
    session.program_name = str(values["name"])
    seated(session)
    admin = session.admin
    opened = await core.handle(
        CommandEvent(actor=admin, text="program create", place=Place(channel_id=session.channel))
    )
    assert isinstance(opened, OpenForm)
    await session.submit(None, opened.form, values)
    started(session)
    for person in people:
        await core.handle(MemberJoinedEvent(actor=sim.actor(person), channel_id=session.channel))
    await sim.settle()
    return session


def names_and_zones(people: list[Person]) -> tuple[dict[str, str], dict[str, str]]:
    """Who is who for a port's transcript: the colleagues and the admin."""
    names = {p.user_id: p.name for p in people} | {ADMIN_ID: ADMIN_NAME}
    zones = {p.user_id: p.timezone for p in people} | {ADMIN_ID: ADMIN_ZONE}
    return names, zones


__all__ = ["ADMIN_ID", "Clickable", "Session", "SessionOptions", "clickables", "open_session"]
