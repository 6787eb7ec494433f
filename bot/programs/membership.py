"""Programs and memberships: creating programs, joining with consent, pausing, profiles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.errors import CommandError
from bot.kernel.timeutil import BadTime, parse_hhmm, parse_weekday, zone
from storage.enums import Cadence, Enrolment, MembershipStatus, ProgramKind, ProgramStatus, Role
from storage.tables import Avoidance, Membership, Program, User, Workspace
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


MEETING_MINUTES = (10, 120)  # allowed coffee-chat lengths
REMINDER_MINUTES = (0, 24 * 60)  # how long before a booked chat people are reminded (0: as it starts)


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


def parse_spec(values: dict[str, Any], default_tz: str = "UTC") -> tuple[ProgramSpec | None, dict[str, str]]:
    """Check a program form; returns the spec or field errors worded for the admin."""
    errors: dict[str, str] = {}

    def text(key: str, default: str = "") -> str:
        raw = values.get(key)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        return str(raw).strip() if raw not in (None, "") else default

    channel = text("channel").lstrip("#")
    if not channel:
        errors["channel"] = "Pick the channel the program runs in."
    kind = text("kind", ProgramKind.PEER.value).lower()
    if kind not in {k.value for k in ProgramKind}:
        errors["kind"] = "Choose mentoring or peer."
    cadence = text("cadence", Cadence.WEEKLY.value).lower()
    if cadence not in {c.value for c in Cadence}:
        errors["cadence"] = "Choose weekly, biweekly or monthly."
    weekday = 0
    try:
        weekday = parse_weekday(text("weekday", "monday"))
    except BadTime as exc:
        errors["weekday"] = str(exc)
    at = text("time", "10:00")
    try:
        at = parse_hhmm(at).strftime("%H:%M")
    except BadTime as exc:
        errors["time"] = str(exc)
    tz = text("timezone", default_tz)
    try:
        zone(tz)
    except BadTime as exc:
        errors["timezone"] = str(exc)
    size_text = text("group_size", "2")
    size = 2
    if not size_text.isdigit() or not 2 <= int(size_text) <= MAX_GROUP_SIZE:
        errors["group_size"] = f"Group size is a whole number from 2 to {MAX_GROUP_SIZE}."
    else:
        size = int(size_text)
    if kind == ProgramKind.MENTORING.value and size != 2:
        errors["group_size"] = "Mentoring groups are one mentor and one mentee (size 2)."
    enrolment = text("enrolment", Enrolment.OPT_IN.value).lower().replace("-", "_")
    if enrolment not in {e.value for e in Enrolment}:
        errors["enrolment"] = "Choose opt-in or opt-out."
    minutes = {}
    for key, (low, high), default, label in (
        ("meeting_minutes", MEETING_MINUTES, "30", "Chat length"),
        ("reminder_minutes", REMINDER_MINUTES, "60", "The reminder"),
    ):
        raw = text(key, default)
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[key] = f"{label} is a whole number of minutes from {low} to {high}."
        else:
            minutes[key] = int(raw)
    holidays, problem = parse_holidays(text("holidays"))
    if problem:
        errors["holidays"] = problem
    name = text("name") or f"{kind.capitalize()} in #{channel}"
    if len(name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    if errors:
        return None, errors
    return ProgramSpec(
        name=name,
        channel_id=channel,
        kind=kind,
        cadence=cadence,
        weekday=weekday,
        time=at,
        timezone=tz,
        group_size=size,
        enrolment=enrolment,
        meeting_minutes=minutes["meeting_minutes"],
        reminder_minutes=minutes["reminder_minutes"],
        holidays=holidays,
    ), {}


async def create_program(
    session: AsyncSession, workspace: Workspace, creator: User | None, spec: ProgramSpec, now: datetime
) -> Program:
    existing = await program_for_channel(session, workspace.id, spec.channel_id)
    if existing is not None:
        raise ProgramError(f"#{spec.channel_id} already runs '{existing.name}'.")
    program = Program(
        workspace_id=workspace.id,
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
    await insert_ignore(
        session,
        Membership,
        [
            {
                "program_id": program.id,
                "user_id": user.id,
                "role": default_role(program),
                "capacity": 1,
                "skills_offered": [],
                "skills_wanted": [],
                "interests": [],
                "status": MembershipStatus.INVITED.value,
                "opted_out": False,
                "wants_rematch": False,
                "ignored_intros": 0,
            }
        ],
        ["program_id", "user_id"],
    )
    found = await membership(session, program.id, user.id)
    assert found is not None
    return found


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


async def leave(session: AsyncSession, program: Program, user: User, now: datetime) -> bool:
    found = await membership(session, program.id, user.id)
    if found is None or found.status == MembershipStatus.LEFT.value:
        return False
    found.status = MembershipStatus.LEFT.value
    found.opted_out = True
    found.left_at = now
    await session.flush()
    return True


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
    session.add(Avoidance(user_id=user.id, avoided_user_id=other.id, created_at=now))
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
