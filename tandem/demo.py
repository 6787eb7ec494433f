"""`tandem demo`: a simulated program, end to end, through the same core the real adapters use.

Simulated people click the buttons they are sent (join, propose a time, accept, answer surveys) by
sending the same neutral events a Slack or Teams adapter would. Nothing in the core knows it is a demo.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from adapters.console.port import PLATFORM, ConsolePort, Sent
from adapters.console.render import render_form
from bot.admin.stats import avg, pct, program_stats
from bot.booking import offers as booking
from bot.core import Tandem
from bot.engagement import surveys
from bot.kernel.clock import SimulatedClock
from bot.kernel.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    DirectMessageEvent,
    FormErrors,
    FormSubmittedEvent,
    MemberJoinedEvent,
    OpenForm,
    Place,
    Reply,
    Response,
)
from bot.kernel.messages import Actions, Button, Form, Mention, RatingInput, Section, SelectInput
from bot.kernel.timeutil import show
from bot.programs.buttons import JOIN
from bot.schedule.wakeup import next_due
from storage.database import check_connection, open_database, upgrade
from storage.tables import Program
from tandem.logs import ErrorCounter
from tandem.people import Person, make_people

WORKSPACE = "T-DEMO"
CHANNEL = "mentoring-circle"
PEER_CHANNEL = "coffee-chats"
START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)  # a Monday morning


@dataclass
class DemoOptions:
    participants: int = 24
    weeks: int = 4
    seed: int = 7
    db_url: str | None = None
    console: Console | None = None
    kind: str = "mentoring"  # or "peer"
    group_size: int = 2  # peer groups only; mentoring is always pairs
    progress: Callable[[str], None] | None = None  # told where the simulation is (e.g. for a status line)


@dataclass
class DemoResult:
    messages: int = 0
    rounds: int = 0
    matches: int = 0
    failures: int = 0  # errors logged along the way (a failed step): the demo then did not work
    stats_rows: list[tuple[str, ...]] = field(default_factory=list)


# Buttons of the relationship's life whose exact ids belong to other features: the simulated people click
# them by prefix, so the demo works whichever of them exist ("wrapup:" is bot/relationships/wrapup.py).
WRAPUP = "wrapup:"
LIFECYCLE_PREFIXES = ("agree:open", "agree:confirm", "goal:status", "chat:met", "chat:recap")
ACTION_ITEMS = ("Send the draft agenda", "Book a slot with the design team", "Read the chapter on feedback")
GOALS = ("Give a talk at the team meeting", "Lead a design review", "Learn to say no kindly", "Ship a side project")


def demo_track_weeks(weeks: int) -> int:
    """A mentoring track that ends inside the simulation, so the wrap-up shows (two weeks are left for it)."""
    return max(2, min(12, weeks - 2))


def admin_actor() -> Actor:
    """The simulated program admin (a platform admin, so every admin command is theirs)."""
    return Actor(
        platform=PLATFORM,
        workspace_id=WORKSPACE,
        user_id="UADMIN",
        name="Morgan (program admin)",
        timezone="Europe/London",
        is_platform_admin=True,
    )


def program_values(kind: str, group_size: int, weeks: int) -> dict[str, str | list[str] | None]:
    """What the admin types into the program form: weekly rounds on Monday at 10:00, London time."""
    mentoring = kind == "mentoring"
    return {
        "name": "Mentoring Circle" if mentoring else "Coffee Chats",
        "channel": CHANNEL if mentoring else PEER_CHANNEL,
        "kind": kind,
        "cadence": "weekly",
        "weekday": "monday",
        "time": "10:00",
        "timezone": "Europe/London",
        "group_size": str(2 if mentoring else group_size),
        "enrolment": "opt_in",
        "track_weeks": str(demo_track_weeks(weeks)),
    }


def _filled(form: Form, rng: random.Random) -> dict[str, str | list[str] | None]:
    """Plausible values for any form (agreement, goals, recap): the first choices, a goal, a short note."""
    values: dict[str, str | list[str] | None] = {}
    for f in form.fields:
        if isinstance(f, SelectInput):
            pick = f.initial[0] if f.initial else (f.options[0].value if f.options else "")
            values[f.field_id] = [pick] if f.multiple else pick
        elif isinstance(f, RatingInput):
            values[f.field_id] = str(max(f.minimum, min(f.maximum, 4)))
        elif f.initial:
            values[f.field_id] = f.initial
        elif "goal" in f.field_id.lower():
            values[f.field_id] = "\n".join(rng.sample(GOALS, rng.randint(1, 3)))
        elif f.field_id == "items":  # a recap's action items, one per line
            values[f.field_id] = "\n".join(rng.sample(ACTION_ITEMS, rng.randint(1, 2)))
        elif f.field_id == "text" or not f.optional:
            values[f.field_id] = "We talked it through; next step agreed."
    return values


def _answer(button: Button) -> surveys.AnswerRef:
    """What a survey answer button answers (the demo only clicks buttons the bot just drew)."""
    value = surveys.ANSWER.decode(button.value)
    assert value is not None
    return value


class Simulation:
    def __init__(
        self, core: Tandem, port: ConsolePort, people: list[Person], rng: random.Random, console: Console | None
    ) -> None:
        self.core, self.port, self.people, self.rng, self.console = core, port, people, rng, console
        self.by_id = {p.user_id: p for p in people}
        self.seen = 0
        self.declined: set[str] = set()
        self.reply_rate = 0.85  # how often someone answers a survey or a wrap-up at all

    def actor(self, person: Person) -> Actor:
        return Actor(
            platform=PLATFORM,
            workspace_id=WORKSPACE,
            user_id=person.user_id,
            name=person.name,
            timezone=person.timezone,
        )

    async def act(self, person: Person, event_factory, note: str = "") -> Response:  # noqa: ANN001
        response = await self.core.handle(event_factory(self.actor(person)))
        if isinstance(response, Reply) and not response.replace_original:
            self.port.show_reply(person.user_id, response.message)
        return response

    async def click(self, person: Person, sent: Sent, button: Button) -> Response:
        event_id = f"{sent.ref.message_id}:{person.user_id}:{button.action_id}:{button.value}"
        return await self.act(
            person,
            lambda a: ActionEvent(
                actor=a, action_id=button.action_id, value=button.value, message=sent.ref, event_id=event_id
            ),
        )

    async def settle(self) -> None:
        """Send what's waiting, let people react, repeat until quiet."""
        for _ in range(20):
            await self.core.dispatch()
            if self.seen == len(self.port.sent):
                return
            fresh = self.port.sent[self.seen :]
            self.seen = len(self.port.sent)
            for sent in fresh:
                await self.react(sent)

    async def react(self, sent: Sent) -> None:
        buttons = [
            e
            for b in sent.message.blocks
            if isinstance(b, Actions)
            for e in b.elements
            if isinstance(e, Button) and not e.url
        ]
        if not buttons or sent.channel:
            return
        kinds = {b.action_id for b in buttons}
        audience = [self.by_id[u] for u in sent.audience if u in self.by_id]
        if JOIN.action_id in kinds:
            for person in audience:
                await self.click(person, sent, next(b for b in buttons if b.action_id == JOIN.action_id))
                await self.fill_profile(person)
            return
        if booking.PROPOSE.action_id in kinds or booking.ACCEPT.action_id in kinds:
            await self.book(sent, buttons, kinds, audience)
        if any(k.startswith(WRAPUP) for k in kinds):
            for person in audience:
                if self.rng.random() < self.reply_rate:
                    await self.wrap_up(person, sent, buttons)
        elif surveys.ANSWER.action_id in kinds or surveys.COMMENT.action_id in kinds:
            for person in audience:
                if self.rng.random() < self.reply_rate:
                    await self.answer_survey(person, sent, buttons)
        lifecycle = [b for b in buttons if b.action_id.startswith(LIFECYCLE_PREFIXES)]
        for person in audience if lifecycle else []:
            if self.rng.random() < 0.8:
                await self.lifecycle(person, sent, lifecycle)

    async def book(self, sent: Sent, buttons: list[Button], kinds: set[str], audience: list[Person]) -> None:
        """Someone proposes one of the offered times; the others accept (now and then one declines)."""
        if booking.PROPOSE.action_id in kinds:
            if audience and self.rng.random() < 0.9:
                proposer = audience[self.rng.randrange(len(audience))]
                options = [b for b in buttons if b.action_id == booking.PROPOSE.action_id]
                await self.click(proposer, sent, options[self.rng.randrange(len(options))])
            return
        proposer_id = self._mentioned(sent)
        for person in audience:
            if person.user_id == proposer_id:
                continue
            key = next(b.value for b in buttons if b.action_id == booking.ACCEPT.action_id)
            if key not in self.declined and self.rng.random() < 0.12:
                self.declined.add(key)
                await self.click(person, sent, next(b for b in buttons if b.action_id == booking.DECLINE.action_id))
                return
            await self.click(person, sent, next(b for b in buttons if b.action_id == booking.ACCEPT.action_id))

    async def wrap_up(self, person: Person, sent: Sent, buttons: list[Button]) -> None:
        """Keep meeting (sometimes) or wrap up, and usually say yes to a celebration."""
        for question, (first, second), odds in (("choice", ("keep", "done"), 0.3), ("celebrate", ("yes", "no"), 0.8)):
            options = [b for b in buttons if b.action_id == f"{WRAPUP}{question}"]
            want = first if self.rng.random() < odds else second
            pick = next((b for b in options if b.value.endswith(f"|{want}")), options[0] if options else None)
            if pick is not None:
                await self.click(person, sent, pick)

    async def lifecycle(self, person: Person, sent: Sent, buttons: list[Button]) -> None:
        """An agreement, goal, "we met" or recap button: pick one as a person would, fill in any form it opens."""
        for pick in self._lifecycle_picks(buttons):
            response = await self.click(person, sent, pick)
            if isinstance(response, OpenForm):
                await self.submit(person, response.form)

    async def submit(self, person: Person, form: Form) -> None:
        values = _filled(form, self.rng)
        await self.act(
            person, lambda a: FormSubmittedEvent(actor=a, form_id=form.form_id, values=values, state=form.state)
        )

    def _lifecycle_picks(self, buttons: list[Button]) -> list[Button]:
        """Goal reviews: a status per goal (mostly progress); after a chat: "we met", and now and then a recap."""
        statuses = [b for b in buttons if b.action_id == "goal:status"]
        if statuses:
            by_goal: dict[str, list[Button]] = {}
            for b in statuses:
                by_goal.setdefault(b.value.split("|")[0], []).append(b)
            weights = {"not_started": 1, "on_track": 5, "stuck": 1, "done": 3}
            return [
                self.rng.choices(options, weights=[weights.get(b.value.rsplit("|", 1)[-1], 1) for b in options])[0]
                for options in by_goal.values()
            ]
        picks = [next((b for b in buttons if b.style == "primary"), buttons[0])]
        recap = next((b for b in buttons if b.action_id == "chat:recap"), None)
        if recap is not None and self.rng.random() < 0.3:
            picks.append(recap)
        return picks

    def _mentioned(self, sent: Sent) -> str | None:
        for block in sent.message.blocks:
            if isinstance(block, Section):
                for part in block.text.parts:
                    if isinstance(part, Mention):
                        return part.user_id
        return None

    async def answer_survey(self, person: Person, sent: Sent, buttons: list[Button]) -> None:
        questions: dict[str, list[Button]] = {}
        for b in buttons:
            if b.action_id == surveys.ANSWER.action_id:
                questions.setdefault(_answer(b).question_id, []).append(b)
        weights = {
            "yes": 8,
            "not_yet": 2,
            "cant_meet": 0.3,
            "good_fit": 8,
            "too_early": 2,
            "not_a_fit": 0.4,
            "1": 0.2,
            "2": 0.5,
            "3": 2,
            "4": 5,
            "5": 4,
        }
        for index, options in enumerate(questions.values()):
            if index and self.rng.random() > 0.3:
                break  # most people answer the first question and move on
            pick = self.rng.choices(options, weights=[weights.get(_answer(b).answer, 1) for b in options])[0]
            await self.click(person, sent, pick)
        comments = [b for b in buttons if b.action_id == surveys.COMMENT.action_id]
        if comments and self.rng.random() < 0.1:
            response = await self.click(person, sent, comments[0])
            if isinstance(response, OpenForm):
                text = self.rng.choice(
                    [
                        "Great conversation about career paths.",
                        "We swapped book tips!",
                        "Hard to find time this week, but worth it.",
                    ]
                )
                await self.act(
                    person,
                    lambda a: FormSubmittedEvent(
                        actor=a, form_id=response.form.form_id, values={"answer": text}, state=response.form.state
                    ),
                )

    async def fill_profile(self, person: Person) -> None:
        response = await self.act(person, lambda a: DirectMessageEvent(actor=a, text="profile"))
        if not isinstance(response, OpenForm):
            return
        values: dict[str, str | list[str] | None] = {
            "role": person.role,  # "peer" in a peer program
            "capacity": "2" if person.role == "mentor" else "1",
            "skills_offered": ", ".join(person.skills_offered),
            "skills_wanted": ", ".join(person.skills_wanted),
            "interests": ", ".join(person.interests),
            "department": person.department,
            "timezone": person.timezone,
            "work_start": person.work_start,
            "work_end": person.work_end,
            "shoutouts": "yes",
        }
        result = await self.act(
            person,
            lambda a: FormSubmittedEvent(
                actor=a, form_id=response.form.form_id, values=values, state=response.form.state
            ),
        )
        if isinstance(result, FormErrors):
            raise RuntimeError(f"demo profile rejected: {result.errors}")


async def advance(core: Tandem, clock: SimulatedClock, sim: Simulation, until: datetime) -> None:
    """Move the clock to ``until``, waking the scheduler whenever something is due, as a server would."""
    while True:
        due = await next_due(core, clock.now())
        step = min(_ceil_half_hour(due), until) if due is not None else until  # a server waking every 30 min
        step = min(max(step, clock.now() + timedelta(minutes=1)), until)
        clock.set(step)
        await core.tick()
        await sim.settle()
        if step >= until:
            return


def _ceil_half_hour(instant: datetime) -> datetime:
    """Simulated time moves in half hours at most as finely: like a scheduler that wakes every 30 min."""
    base = instant.replace(minute=0, second=0, microsecond=0)
    for step in (base, base + timedelta(minutes=30), base + timedelta(hours=1)):
        if step >= instant:
            return step
    return base + timedelta(hours=1)


def _print(console: Console | None, *items: object) -> None:
    if console is not None:
        console.print(*items)


async def run_demo(options: DemoOptions) -> DemoResult:
    """Run the whole simulated program; the caller has validated the options."""
    with tempfile.TemporaryDirectory(prefix="tandem-demo-") as tmp:
        url = options.db_url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        db = open_database(url)
        errors = ErrorCounter()
        logging.getLogger().addHandler(errors)
        try:
            await check_connection(db)
            await upgrade(db)
            result = await _simulate(db, options)
        finally:
            logging.getLogger().removeHandler(errors)
            await db.dispose()
        result.failures = errors.count
        return result


async def _simulate(db, options: DemoOptions) -> DemoResult:  # noqa: ANN001
    console = options.console
    rng = random.Random(options.seed)
    clock = SimulatedClock(START)
    core = Tandem(db, clock=clock, default_timezone="Europe/London", instance_id="demo")
    mentoring = options.kind == "mentoring"
    people = make_people(options.participants, rng, mentoring=mentoring)
    port = ConsolePort(
        clock=clock,
        console=console,
        collapse=True,
        names={p.user_id: p.name for p in people} | {"UADMIN": "Morgan"},
        zones={p.user_id: p.timezone for p in people} | {"UADMIN": "Europe/London"},
    )
    core.register_port(PLATFORM, port)
    sim = Simulation(core, port, people, rng, console)
    admin = admin_actor()

    zones = sorted({p.timezone for p in people})
    _print(
        console,
        Rule(
            f"Tandem demo · {len(people)} people in {len(zones)} time zones · {options.weeks} weeks · "
            f"seed {options.seed}"
        ),
    )
    channel = CHANNEL if mentoring else PEER_CHANNEL
    response = await core.handle(CommandEvent(actor=admin, text="program create", place=Place(channel_id=channel)))
    assert isinstance(response, OpenForm)
    values = program_values(options.kind, options.group_size, options.weeks)
    port.print(render_form(response.form, values))  # what Morgan filled in, not the option lists
    created = await core.handle(FormSubmittedEvent(actor=admin, form_id=response.form.form_id, values=values))
    if isinstance(created, Reply):
        port.show_reply("UADMIN", created.message)

    port.print(Rule("People join the channel and say yes"))
    for person in people:
        await core.handle(MemberJoinedEvent(actor=sim.actor(person), channel_id=channel))
    await sim.settle()

    preview = await core.handle(CommandEvent(actor=admin, text="match preview", place=Place(channel_id=channel)))
    if isinstance(preview, Reply):
        port.show_reply("UADMIN", preview.message)

    pauser = people[min(3, len(people) - 1)]
    pause_at = START + timedelta(days=8, hours=2)
    end = START + timedelta(weeks=options.weeks)
    last_day = None
    paused = False
    while True:
        due = await next_due(core, clock.now())
        step = min(_ceil_half_hour(due), end) if due is not None else end
        if not paused and step >= pause_at:
            step = pause_at
        if step <= clock.now():
            step = clock.now() + timedelta(minutes=1)
        if step > end:
            break
        clock.set(step)
        now = clock.now()
        if now.date() != last_day:
            last_day = now.date()
            port.heading = f"Week {(now - START).days // 7 + 1} · {now:%A %-d %B %Y}"
            if options.progress is not None:
                options.progress(f"Simulating {port.heading} of {options.weeks} weeks…")
        await core.tick()
        await sim.settle()
        if not paused and now >= pause_at:
            paused = True
            port.heading = f"{pauser.name} is going on holiday"
            await sim.act(pauser, lambda a: DirectMessageEvent(actor=a, text="pause 2w"))
            await sim.settle()
        if now >= end:
            break

    port.heading = None
    port.print(Rule("Where things stand"))
    await sim.act(people[0], lambda a: DirectMessageEvent(actor=a, text="status"))
    result = DemoResult(messages=len(port.sent))
    async with db.session() as session:
        from sqlmodel import select

        program = (await session.exec(select(Program))).one()
        stats = await program_stats(session, program, clock.now())
    table = Table(title=f"📊 {program.name}: stats after {options.weeks} weeks ({show(clock.now(), 'Europe/London')})")
    for column in ("Round", "Matches", "Meeting rate", "Survey response", "Avg pulse", "Waitlisted"):
        table.add_column(column, justify="right" if column != "Round" else "left")
    for r in stats.rounds:
        rate = "–" if r.response_rate is None else f"{r.response_rate:.0%}"
        row = (str(r.number), str(r.matches), pct(r.meeting_rate), rate, avg(r.average_pulse), str(r.waitlisted))
        table.add_row(*row)
        result.stats_rows.append(row)
    overall = stats.overall()
    rate = "–" if overall.response_rate is None else f"{overall.response_rate:.0%}"
    table.add_row(
        "All",
        str(overall.matches),
        pct(overall.meeting_rate),
        rate,
        avg(overall.average_pulse),
        str(stats.waitlisted),
        style="bold",
    )
    port.print(table)
    _print(
        console,
        f"Participants: {stats.active} active, {stats.paused} paused, {stats.waitlisted} waitlisted · "
        f"messages delivered: {stats.deliveries_sent}, waiting: {stats.deliveries_pending}, "
        f"failed: {stats.deliveries_failed}",
    )
    result.rounds, result.matches = len(stats.rounds), overall.matches
    return result
