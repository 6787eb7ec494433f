"""Programs and memberships: creating programs, joining with consent, pausing, profiles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator, model_validator
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.errors import CommandError
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.messages import Mention, Message, Section, Text
from bot.kernel.timeutil import parse_hhmm, parse_weekday
from bot.kernel.zones import typed_zone
from bot.programs.matches import end_match
from storage.enums import Cadence, EndReason, Enrolment, MatchStatus, MembershipStatus, ProgramKind, ProgramStatus, Role
from storage.tables import Avoidance, Match, MatchMember, Membership, Program, User, Workspace
from storage.upsert import insert_ignore

MAX_GROUP_SIZE = 8


class ProgramError(CommandError):
    """Something about a program request that the person can fix; the message says what."""


@dataclass(frozen=True)
class ProgramSpec:
    name: str
    channel_id: str
    kind: str = ProgramKind.PEER.value
    cadence: str = Cadence.WEEKLY.value
    weekday: int = 0
    time: str = "10:00"
    timezone: str = "UTC"
    group_size: int = 2
    enrolment: str = Enrolment.OPT_IN.value
    meeting_minutes: int = 30
    reminder_minutes: int = 60
    holidays: tuple[str, ...] = ()
    track_weeks: int = 12
    min_shared_hours: float = 1.0
    weekly_cap: int = 4


MIN_SHARED_HOURS = (0, 8)  # matching avoids pairs with fewer shared working hours than the program asks
MIN_SHARED_KEY = "min_shared_hours"  # where a program keeps it: in its matching weights (bot/matching/problem.py)


def min_shared_hours(program: Program) -> float:
    """The program's minimum shared working hours (1 h unless an admin changed it)."""
    return float(program.weights.get(MIN_SHARED_KEY, 1.0))


MEETING_MINUTES = (10, 120)  # allowed coffee-chat lengths
TRACK_WEEKS = (2, 52)  # how long a mentoring relationship runs before its wrap-up
REMINDER_MINUTES = (0, 24 * 60)  # how long before a booked chat people are reminded (0: as it starts)
WEEKLY_CAP = (1, 21)  # unprompted messages a person gets per week at most (bot/delivery/pacing.py)


def parse_holidays(raw: str) -> tuple[tuple[str, ...], str | None]:
    """'2026-12-24, 2026-12-25' → sorted unique ISO dates, or an error naming the first bad entry."""
    days: set[str] = set()
    for part in re.split(r"[,;\s]+", raw.strip()):
        if not part:
            continue
        try:
            days.add(date.fromisoformat(part).isoformat())
        except ValueError:
            return (), f"'{part}' is not a date like 2026-12-24 (separate dates with commas)."
    if len(days) > 200:
        return (), "At most 200 holidays."
    return tuple(sorted(days)), None


_FORM_DEFAULTS = {  # what a blank field of the program form means
    "channel": "",
    "kind": ProgramKind.PEER.value,
    "cadence": Cadence.WEEKLY.value,
    "weekday": "monday",
    "time": "10:00",
    "timezone": "",  # the deployment's default zone, given as context
    "group_size": "2",
    "enrolment": Enrolment.OPT_IN.value,
    "meeting_minutes": "30",
    "reminder_minutes": "60",
    "holidays": "",
    "track_weeks": "12",
    "min_shared_hours": "1",
    "weekly_cap": "4",
    "name": "",
}
_MINUTES = {"meeting_minutes": (MEETING_MINUTES, "Chat length"), "reminder_minutes": (REMINDER_MINUTES, "The reminder")}


def _form_text(values: dict[str, Any], key: str, default: str) -> str:
    """One form value as trimmed text: platforms send some fields as one-item lists, blanks mean the default."""
    raw = values.get(key)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return str(raw).strip() if raw not in (None, "") else default


class ProgramForm(BaseModel):
    """The program settings form; each validator says, in the admin's words, what's wrong with its field.

    Pydantic checks every field even when one fails, so the admin sees all the problems at once. Fields are
    in the order the form shows them (kind before group_size: mentoring pairs are always two).
    """

    channel: str
    kind: str
    cadence: str
    weekday: int
    time: str
    timezone: str
    group_size: int
    enrolment: str
    meeting_minutes: int
    reminder_minutes: int
    holidays: tuple[str, ...]
    track_weeks: int
    min_shared_hours: float
    weekly_cap: int
    name: str

    @model_validator(mode="before")
    @classmethod
    def _texts(cls, values: dict[str, Any], info: ValidationInfo) -> dict[str, str]:
        """Raw form values as text with defaults; the default name needs the kind and channel as typed."""
        texts = {key: _form_text(values, key, default) for key, default in _FORM_DEFAULTS.items()}
        texts["timezone"] = texts["timezone"] or (info.context or {}).get("default_tz", "UTC")
        texts["channel"] = texts["channel"].lstrip("#")
        texts["name"] = texts["name"] or f"{texts['kind'].lower().capitalize()} in #{texts['channel']}"
        return texts

    @field_validator("channel")
    @classmethod
    def _channel(cls, raw: str) -> str:
        """A program lives in a channel: that's where people join."""
        if not raw:
            raise ValueError("Pick the channel the program runs in.")
        return raw

    @field_validator("kind", "cadence", "enrolment")
    @classmethod
    def _choice(cls, raw: str, info: ValidationInfo) -> str:
        """One of the fixed options, forgiving case (and opt-in written with a dash)."""
        choice = raw.lower().replace("-", "_") if info.field_name == "enrolment" else raw.lower()
        options, message = {
            "kind": ({k.value for k in ProgramKind}, "Choose mentoring or peer."),
            "cadence": ({c.value for c in Cadence}, "Choose weekly, biweekly or monthly."),
            "enrolment": ({e.value for e in Enrolment}, "Choose opt-in or opt-out."),
        }[info.field_name or ""]
        if choice not in options:
            raise ValueError(message)
        return choice

    @field_validator("weekday", mode="before")
    @classmethod
    def _weekday(cls, raw: str) -> int:
        """Intro day as a number (Monday is 0); BadTime's message already says what's wrong."""
        return parse_weekday(raw)

    @field_validator("time")
    @classmethod
    def _time(cls, raw: str) -> str:
        """Intro time as HH:MM."""
        return parse_hhmm(raw).strftime("%H:%M")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, raw: str) -> str:
        """Only IANA zone names (no abbreviations), so intros go out at the right hour."""
        return typed_zone(raw)

    @field_validator("group_size", mode="before")
    @classmethod
    def _group_size(cls, raw: str, info: ValidationInfo) -> int:
        """Two to MAX_GROUP_SIZE people, and exactly two for mentoring."""
        if not raw.isdigit() or not 2 <= int(raw) <= MAX_GROUP_SIZE:
            raise ValueError(f"Group size is a whole number from 2 to {MAX_GROUP_SIZE}.")
        if info.data.get("kind") == ProgramKind.MENTORING.value and int(raw) != 2:
            raise ValueError("Mentoring groups are one mentor and one mentee (size 2).")
        return int(raw)

    @field_validator("meeting_minutes", "reminder_minutes", mode="before")
    @classmethod
    def _minutes(cls, raw: str, info: ValidationInfo) -> int:
        """Chat lengths and reminder lead times within sensible bounds."""
        (low, high), label = _MINUTES[info.field_name or ""]
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"{label} is a whole number of minutes from {low} to {high}.")
        return int(raw)

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, raw: str) -> tuple[str, ...]:
        """Days without intros, as sorted ISO dates."""
        holidays, problem = parse_holidays(raw)
        if problem:
            raise ValueError(problem)
        return holidays

    @field_validator("track_weeks", mode="before")
    @classmethod
    def _track_weeks(cls, raw: str) -> int:
        """A mentoring relationship's length in weeks; its wrap-up comes at the end."""
        low, high = TRACK_WEEKS
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"The mentoring length is a whole number of weeks from {low} to {high}.")
        return int(raw)

    @field_validator("min_shared_hours", mode="before")
    @classmethod
    def _min_shared_hours(cls, raw: str) -> float:
        """Hours of the working day a pair should share, in quarter hours: matching works in those."""
        low, high = MIN_SHARED_HOURS
        problem = f"Shared hours are a number of hours from {low} to {high}, like 1 or 1.5."
        try:
            hours = float(raw.replace(",", ".").removesuffix("h").strip())
        except ValueError:
            raise ValueError(problem) from None
        if not low <= hours <= high or (hours * 4) % 1:
            raise ValueError(problem)
        return hours

    @field_validator("weekly_cap", mode="before")
    @classmethod
    def _weekly_cap(cls, raw: str) -> int:
        """At least one message a week (or nothing unprompted would ever arrive), at most three a day."""
        low, high = WEEKLY_CAP
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"The weekly cap is a whole number of messages from {low} to {high}.")
        return int(raw)

    @field_validator("name")
    @classmethod
    def _name(cls, raw: str) -> str:
        """Names show in every message; a very long one is a mistake."""
        if len(raw) > 200:
            raise ValueError("Keep the name under 200 characters.")
        return raw


def parse_spec(values: dict[str, Any], default_tz: str = "UTC") -> tuple[ProgramSpec | None, dict[str, str]]:
    """Check a program form; returns the spec or field errors worded for the admin."""
    try:
        form = ProgramForm.model_validate(values, context={"default_tz": default_tz})
    except ValidationError as error:
        return None, {str(e["loc"][0]): str(e.get("ctx", {}).get("error", e["msg"])) for e in error.errors()}
    return ProgramSpec(
        name=form.name,
        channel_id=form.channel,
        kind=form.kind,
        cadence=form.cadence,
        weekday=form.weekday,
        time=form.time,
        timezone=form.timezone,
        group_size=form.group_size,
        enrolment=form.enrolment,
        meeting_minutes=form.meeting_minutes,
        reminder_minutes=form.reminder_minutes,
        holidays=form.holidays,
        track_weeks=form.track_weeks,
        min_shared_hours=form.min_shared_hours,
        weekly_cap=form.weekly_cap,
    ), {}


async def create_program(
    session: AsyncSession, workspace: Workspace, creator: User | None, spec: ProgramSpec, now: datetime
) -> Program:
    existing = await program_for_channel(session, workspace.id, spec.channel_id)
    if existing is not None:
        raise ProgramError(f"#{spec.channel_id} already runs '{existing.name}'.")
    program = Program(
        workspace_id=workspace.id or 0,
        name=spec.name,
        channel_id=spec.channel_id,
        kind=spec.kind,
        cadence=spec.cadence,
        intro_weekday=spec.weekday,
        intro_time=spec.time,
        timezone=spec.timezone,
        group_size=spec.group_size,
        enrolment=spec.enrolment,
        status=ProgramStatus.ACTIVE.value,
        meeting_minutes=spec.meeting_minutes,
        reminder_minutes=spec.reminder_minutes,
        holidays=list(spec.holidays),
        track_weeks=spec.track_weeks,
        weights={MIN_SHARED_KEY: spec.min_shared_hours},
        weekly_cap=spec.weekly_cap,
        created_by_user_id=creator.id if creator else None,
        created_at=now,
        starts_on=now,
    )
    session.add(program)
    await session.flush()
    return program


async def programs_in(session: AsyncSession, workspace_id: int | None) -> list[Program]:
    return list(
        (
            await session.exec(
                select(Program)
                .where(Program.workspace_id == workspace_id, Program.status != ProgramStatus.ARCHIVED.value)
                .order_by(col(Program.id))
            )
        ).all()
    )


async def program_for_channel(session: AsyncSession, workspace_id: int | None, channel_id: str) -> Program | None:
    return (
        await session.exec(
            select(Program).where(
                Program.workspace_id == workspace_id,
                Program.channel_id == channel_id,
                Program.status != ProgramStatus.ARCHIVED.value,
            )
        )
    ).first()


async def membership(session: AsyncSession, program_id: int | None, user_id: int | None) -> Membership | None:
    return (
        await session.exec(select(Membership).where(Membership.program_id == program_id, Membership.user_id == user_id))
    ).first()


async def memberships_of(session: AsyncSession, user_id: int | None, *, active_only: bool = True) -> list[Membership]:
    query = select(Membership).where(Membership.user_id == user_id)
    if active_only:
        query = query.where(Membership.status == MembershipStatus.ACTIVE.value)
    return list((await session.exec(query.order_by(col(Membership.id)))).all())


def default_role(program: Program) -> str:
    return Role.MENTEE.value if program.kind == ProgramKind.MENTORING.value else Role.PEER.value


async def invite(session: AsyncSession, program: Program, user: User, now: datetime) -> Membership:
    """Note that someone was told about an opt-in program; they are not enrolled until they say yes."""
    return await _membership_row(session, program, user)


async def _membership_row(session: AsyncSession, program: Program, user: User) -> Membership:
    """The person's row in the program, created as 'invited' if missing (insert-or-ignore: events may race)."""
    found = await membership(session, program.id, user.id)
    if found is not None:
        return found
    await insert_ignore(session, Membership, [new_membership_row(program, user.id)], ["program_id", "user_id"])
    found = await membership(session, program.id, user.id)
    assert found is not None
    return found


def new_membership_row(program: Program, user_id: int | None, now: datetime | None = None) -> dict[str, Any]:
    """A person's first row in a program: 'invited', or 'active' from ``now`` (an opt-out enrolment)."""
    return {
        "program_id": program.id,
        "user_id": user_id,
        "role": default_role(program),
        "capacity": 1,
        "skills_offered": [],
        "skills_wanted": [],
        "interests": [],
        "status": MembershipStatus.ACTIVE.value if now is not None else MembershipStatus.INVITED.value,
        "opted_out": False,
        "wants_rematch": False,
        "ignored_intros": 0,
        "consented_at": now,
        "joined_at": now,
    }


async def join(
    session: AsyncSession, program: Program, user: User, now: datetime, role: str | None = None
) -> tuple[Membership, bool]:
    """Enrol with consent; returns the membership and whether it is new."""
    if role is not None:
        check_role(program, role)
    found = await _membership_row(session, program, user)
    created = found.status != MembershipStatus.ACTIVE.value
    if role is not None:
        found.role = role
    found.status = MembershipStatus.ACTIVE.value
    found.opted_out = False
    found.consented_at = found.consented_at or now
    found.joined_at = found.joined_at or now
    found.left_at = None
    await session.flush()
    return found, created


def check_role(program: Program, role: str) -> None:
    allowed = (
        {Role.MENTOR.value, Role.MENTEE.value} if program.kind == ProgramKind.MENTORING.value else {Role.PEER.value}
    )
    if role not in allowed:
        raise ProgramError(f"In '{program.name}' the roles are {' or '.join(sorted(allowed))}.")


async def leave(
    session: AsyncSession, program: Program, user: User, now: datetime, reason: EndReason = EndReason.LEFT
) -> bool:
    """Take someone out of a program (``reason`` LEFT or REMOVED); their live matches end and the others hear."""
    found = await membership(session, program.id, user.id)
    if found is None or found.status == MembershipStatus.LEFT.value:
        return False
    found.status = MembershipStatus.LEFT.value
    found.opted_out = True
    found.left_at = now
    await end_matches_of(session, program, user, reason, now)
    await session.flush()
    return True


async def end_matches_of(
    session: AsyncSession, program: Program, user: User, reason: EndReason, now: datetime
) -> list[Match]:
    """End this person's live matches in the program and tell everyone else in each of them, once per match.

    The notice never says whether they left or were removed: that is between them and the organisers.
    """
    live = (
        await session.exec(
            select(Match)
            .join(MatchMember, col(MatchMember.match_id) == Match.id)
            .where(
                Match.program_id == program.id,
                MatchMember.user_id == user.id,
                col(Match.status) != MatchStatus.ENDED.value,
            )
            .order_by(col(Match.id))
        )
    ).all()
    ended = [m for m in live if end_match(m, reason, now)]
    if not ended:
        return []
    others = (
        await session.exec(
            select(MatchMember.match_id, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .where(col(MatchMember.match_id).in_([m.id for m in ended]), MatchMember.user_id != user.id)
            .order_by(col(MatchMember.id))
        )
    ).all()
    body = Text.of(
        Mention(user_id=user.platform_user_id, name=user.display_name),
        f" has left {program.name}; you'll get a new match next round.",
    )
    message = Message(summary=body.plain(), blocks=(Section(text=body),))
    items = [
        Outgoing(
            key=f"match:{match_id}:gone:{user.id}:to:{other.id}",
            step="match_ended",
            target=to_user(other.platform_user_id),
            message=message,
            program_id=program.id,
            match_id=match_id,
        )
        for match_id, other in others
    ]
    await enqueue(session, program.workspace_id, items, now)
    return ended


def is_paused(m: Membership, now: datetime) -> bool:
    return m.paused_until is not None and m.paused_until > now


def is_available(m: Membership, now: datetime) -> bool:
    """Can this person be matched, prompted or surveyed right now?"""
    return m.status == MembershipStatus.ACTIVE.value and not m.opted_out and not is_paused(m, now)


async def pause(session: AsyncSession, user: User, until: datetime, program: Program | None = None) -> int:
    count = 0
    for m in await memberships_of(session, user.id):
        if program is None or m.program_id == program.id:
            m.paused_until = until
            count += 1
    await session.flush()
    return count


async def resume(session: AsyncSession, user: User, now: datetime) -> int:
    count = 0
    for m in await memberships_of(session, user.id):
        if m.paused_until is not None:
            m.paused_until = None
            count += 1
    await session.flush()
    return count


async def add_avoid(session: AsyncSession, user: User, other: User, now: datetime) -> bool:
    if user.id == other.id:
        raise ProgramError("You can't avoid yourself.")
    found = (
        await session.exec(select(Avoidance).where(Avoidance.user_id == user.id, Avoidance.avoided_user_id == other.id))
    ).first()
    if found is not None:
        return False
    session.add(Avoidance(user_id=user.id or 0, avoided_user_id=other.id or 0, created_at=now))
    await session.flush()
    return True


def split_list(raw: str | list[str] | None) -> list[str]:
    """'Python, public speaking; SQL' → ['Python', 'public speaking', 'SQL'] (trimmed, de-duplicated)."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else re.split(r"[,;\n]", raw)
    seen: dict[str, str] = {}
    for item in items:
        clean = " ".join(str(item).split())[:60]
        if clean and clean.lower() not in seen:
            seen[clean.lower()] = clean
    return list(seen.values())[:30]


async def everyone_available(session: AsyncSession, program: Program, users: list[User], now: datetime) -> bool:
    """Whether everyone is still in the program and not away: otherwise a nudge would only nag the others."""
    found = {
        m.user_id: m
        for m in (
            await session.exec(
                select(Membership).where(
                    Membership.program_id == program.id, col(Membership.user_id).in_([u.id for u in users])
                )
            )
        ).all()
    }
    return all(u.id in found and is_available(found[u.id or 0], now) for u in users)
