"""`tandem simulate`: a dry run of a real roster before launch, through the real core.

The roster is imported exactly as `tandem import` would (same checks, same line-numbered problems) into a
throwaway database, into an opt-out program so everyone starts with the profile the file gives them. Then
the weeks pass as in the demo: rounds, intros, bookings, surveys, with simulated people who answer at the
rate the admin sets. What comes out is the program's own export plus a report built from it.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from adapters.console.port import PLATFORM, ConsolePort
from bot.admin.csv_import import RowProblem, import_participants
from bot.admin.export import export_program
from bot.admin.stats import program_stats
from bot.core import Tandem
from bot.kernel.clock import SimulatedClock
from bot.kernel.events import CommandEvent, FormSubmittedEvent, OpenForm, Place, Reply
from bot.kernel.port import UserInfo
from storage.database import check_connection, open_database, upgrade
from storage.tables import Delivery, Membership, Program, User
from tandem.demo import START, Simulation, admin_actor, advance, program_values
from tandem.logs import ErrorCounter
from tandem.people import Person

CHECKPOINTS = (4, 8, 12)


@dataclass
class SimulateOptions:
    roster: Path
    weeks: int = 12
    kind: str = "peer"
    reply_rate: float = 0.85
    seed: int = 7
    group_size: int = 2


@dataclass
class Checkpoint:
    """What the admin's `stats` says after a number of weeks."""

    week: int
    active: int
    paused: int
    waitlisted: int
    rounds: int
    matches: int
    met: int
    meeting_rate: float | None
    response_rate: float | None
    pulse: float | None = None  # average pulse (1-5), None with too few answers
    goals_done: float | None = None  # share of the goals set that are done, None with no goals


@dataclass
class SimulationRun:
    problems: list[RowProblem] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)  # user id → e-mail from the roster
    export: dict[str, str] = field(default_factory=dict)  # the program's own export files, by name
    messages: dict[str, list[int]] = field(default_factory=dict)  # user id → messages received, per week
    waitlist_notes: dict[str, str] = field(default_factory=dict)  # user id → the bot's last "no match" message
    checkpoints: list[Checkpoint] = field(default_factory=list)
    stats_chart: bytes | None = None  # the PNG the admin's `stats` attaches
    weeks: int = 0
    kind: str = "peer"
    reply_rate: float = 0.85  # how often the simulated people answer surveys (the admin's --reply-rate)
    weekly_cap: int = 4  # the program's cap on unprompted messages per person and week
    failures: int = 0


def directory(text: str) -> dict[str, UserInfo]:
    """Every e-mail in the roster is someone in the simulated workspace (bad rows are the import's to report)."""
    people: dict[str, UserInfo] = {}
    try:
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error:
        return people
    for row in rows:
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        email = (cells.get("email") or cells.get("e-mail") or cells.get("mail") or "").lower()
        if email and email not in people:
            name = cells.get("name") or email.split("@")[0].replace(".", " ").title()
            people[email] = UserInfo(user_id=f"U{len(people) + 1:05d}", name=name, email=email)
    return people


async def run_simulation(options: SimulateOptions, text: str) -> SimulationRun:
    """Import the roster and let the weeks pass; a roster with problems stops before anything runs."""
    with tempfile.TemporaryDirectory(prefix="tandem-simulate-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'simulate.db'}")
        errors = ErrorCounter()
        logging.getLogger().addHandler(errors)
        try:
            await check_connection(db)
            await upgrade(db)
            run = await _simulate(db, options, text)
        finally:
            logging.getLogger().removeHandler(errors)
            await db.dispose()
        run.failures = errors.count
        return run


async def _simulate(db, options: SimulateOptions, text: str) -> SimulationRun:  # noqa: ANN001
    rng = random.Random(options.seed)
    clock = SimulatedClock(START)
    core = Tandem(db, clock=clock, default_timezone="Europe/London", instance_id="simulate")
    port = ConsolePort(clock=clock, directory=directory(text))
    core.register_port(PLATFORM, port)
    run = SimulationRun(weeks=options.weeks, kind=options.kind, reply_rate=options.reply_rate)
    created = await _create_program(core, options)
    async with db.transaction() as session:
        program = await session.get(Program, created.id)  # this session's copy: the import writes through it
        assert program is not None
        result = await import_participants(core, session, program, text, None, filename=options.roster.name)
    if not result.ok:
        run.problems = result.problems
        return run
    run.people, run.emails = await _people(db, program)
    run.weekly_cap = program.weekly_cap
    sim = Simulation(core, port, run.people, rng, None)
    sim.reply_rate = options.reply_rate
    await sim.settle()
    for week in range(1, options.weeks + 1):
        before = len(port.sent)
        await advance(core, clock, sim, START + timedelta(weeks=week))
        for sent in port.sent[before:]:
            for user_id in sent.audience:
                run.messages.setdefault(user_id, [0] * options.weeks)[week - 1] += 1
        if week in CHECKPOINTS or week == options.weeks:
            run.checkpoints.append(await _checkpoint(db, program, clock, week))
    async with db.session() as session:
        run.export = await export_program(session, program)
        run.waitlist_notes = await _waitlist_notes(session)
    run.stats_chart = await _chart(core)
    return run


async def _create_program(core: Tandem, options: SimulateOptions) -> Program:
    admin = admin_actor()
    values = program_values(options.kind, options.group_size, options.weeks)
    values |= {"enrolment": "opt_out", "track_weeks": str(min(12, max(2, options.weeks)))}
    place = Place(channel_id=str(values["channel"]))
    opened = await core.handle(CommandEvent(actor=admin, text="program create", place=place))
    assert isinstance(opened, OpenForm)
    await core.handle(FormSubmittedEvent(actor=admin, form_id=opened.form.form_id, values=values))
    async with core.db.session() as session:
        return (await session.exec(select(Program))).one()


async def _people(db, program: Program) -> tuple[list[Person], dict[str, str]]:  # noqa: ANN001
    """The imported people as the simulation's colleagues (their zone and hours as the roster says)."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Membership, User)
                .join(User, col(User.id) == Membership.user_id)
                .where(Membership.program_id == program.id)
                .order_by(col(User.id))
            )
        ).all()
    people = [
        Person(
            user_id=u.platform_user_id,
            name=u.display_name,
            timezone=u.timezone or "Europe/London",
            work_start=u.work_start or "09:00",
            work_end=u.work_end or "17:00",
            role=m.role,
            department=m.department or "",
            skills_offered=tuple(m.skills_offered),
            skills_wanted=tuple(m.skills_wanted),
            interests=tuple(m.interests),
        )
        for m, u in rows
    ]
    return people, {u.platform_user_id: u.email or "" for _, u in rows}


async def _checkpoint(db, program: Program, clock: SimulatedClock, week: int) -> Checkpoint:  # noqa: ANN001
    async with db.session() as session:
        fresh = await session.get(Program, program.id)
        assert fresh is not None
        stats = await program_stats(session, fresh, clock.now())
    overall = stats.overall()
    return Checkpoint(
        week=week,
        active=stats.active,
        paused=stats.paused,
        waitlisted=stats.waitlisted,
        rounds=len(stats.rounds),
        matches=overall.matches,
        met=overall.met,
        meeting_rate=overall.meeting_rate,
        response_rate=overall.response_rate,
        pulse=overall.average_pulse,
        goals_done=overall.goal_rate,
    )


async def _waitlist_notes(session) -> dict[str, str]:  # noqa: ANN001
    """What the bot told each person it could not match (the latest time): its own reason, in its words."""
    notes: dict[str, str] = {}
    for delivery in (await session.exec(select(Delivery).where(Delivery.step == "waitlist"))).all():
        user_id = delivery.target.get("user_id")
        if user_id:
            notes[str(user_id)] = _message_text(delivery.message)
    return notes


def _message_text(message: dict) -> str:
    """The plain text of a stored message (its sections, bold marks dropped), falling back to its summary."""
    parts: list[str] = []
    for block in message.get("blocks", []):
        text = block.get("text") if isinstance(block, dict) else None
        if isinstance(text, dict):
            parts.extend(p if isinstance(p, str) else f"@{p.get('name', '')}" for p in text.get("parts", []))
            parts.append(" ")
    return " ".join("".join(parts).replace("**", "").split()) or str(message.get("summary", ""))


async def _chart(core: Tandem) -> bytes | None:
    """The chart the admin's `stats` attaches, as the admin would get it."""
    import base64

    response = await core.handle(
        CommandEvent(actor=admin_actor(), text="stats", place=Place(channel_id=None, is_direct=True))
    )
    if isinstance(response, Reply):
        for attachment in response.message.files:
            if attachment.mime_type == "image/png":
                return base64.b64decode(attachment.content_b64)
    return None
