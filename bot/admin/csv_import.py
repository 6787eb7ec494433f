"""Importing participants from a CSV file, all or nothing.

Every row is checked first; if any row has a problem, every problem is reported with its line and field
and nothing is written. E-mails resolve to platform users through the adapter's optional
``lookup_user_by_email`` (see bot/port.py) or, without it, against people already in the database.

Consent is never skipped: people new to an opt-in program are invited (a Join button); in an opt-out
program they are enrolled and told, with a Leave button. Someone who left a program is only invited back.

Adapters that receive an uploaded file hand it to the core as a ``FileUploadedEvent`` (bot/events.py)
with the message text ``import [program]``; the command line calls :func:`import_participants` directly.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.messages import Actions, Message, Section, Text
from bot.kernel.port import LOOKUP_BY_EMAIL, SendError, UserInfo
from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import BadTime, is_zone, parse_hhmm
from bot.programs.buttons import JOIN, LEAVE, ProgramRef
from bot.programs.membership import default_role, join, split_list
from storage.enums import Enrolment, MembershipStatus, ProgramKind, Role
from storage.tables import AuditEntry, Membership, Program, User, Workspace

IMPORT_COLUMNS = (
    "email",
    "platform_user_id",
    "role",
    "capacity",
    "skills_offered",
    "skills_wanted",
    "interests",
    "department",
    "timezone",
    "work_start",
    "work_end",
)
ALIASES = {
    "user_id": "platform_user_id",
    "skills": "skills_offered",
    "time_zone": "timezone",
    "zone": "timezone",
    "e-mail": "email",
    "mail": "email",
}
IGNORED_COLUMNS = ("name", "status", "paused_until", "joined_at")  # written by exports; 'name' names new people
MAX_ROWS = 5000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass
class ImportRow:
    line: int
    email: str
    platform_user_id: str
    name: str
    role: str | None
    capacity: int
    skills_offered: list[str]
    skills_wanted: list[str]
    interests: list[str]
    department: str | None
    timezone: str | None
    work_start: str | None
    work_end: str | None
    resolved: UserInfo | None = None


@dataclass
class ImportResult:
    problems: list[RowProblem] = field(default_factory=list)
    invited: int = 0
    enrolled: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.problems:
            return f"{len(self.problems)} problem(s); nothing was imported."
        return (
            f"Imported {self.invited + self.enrolled + self.updated} people: {self.invited} invited, "
            f"{self.enrolled} enrolled and told how to leave, {self.updated} already in (profile updated)."
        )


def _header(raw: list[str]) -> list[str]:
    names = [(h or "").strip().lower().replace(" ", "_") for h in raw]
    return [ALIASES.get(n, n) for n in names]


def _unquote(cell: str) -> str:
    """Undo the apostrophe exports put before formula-like text (see bot/exporting.safe_cell)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def _roles(program: Program) -> set[str]:
    if program.kind == ProgramKind.MENTORING.value:
        return {Role.MENTOR.value, Role.MENTEE.value}
    return {Role.PEER.value}


def parse_rows(program: Program, csv_text: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """Check the file's shape and every row's values; no database needed."""
    problems: list[RowProblem] = []
    text = csv_text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = _header(next(reader))
    except StopIteration:
        return [], [RowProblem(1, "header", "the file is empty; the first line must name the columns")]
    except csv.Error as exc:
        return [], [RowProblem(1, "header", f"not a readable CSV file ({exc})")]
    known = set(IMPORT_COLUMNS) | set(IGNORED_COLUMNS)
    for index, name in enumerate(header):
        if name not in known:
            problems.append(
                RowProblem(1, name or f"column {index + 1}", f"unknown column; use {', '.join(IMPORT_COLUMNS)}")
            )
        elif header.count(name) > 1 and header.index(name) == index:
            problems.append(RowProblem(1, name, "this column appears more than once"))
    if "email" not in header and "platform_user_id" not in header:
        problems.append(RowProblem(1, "email", "missing column: add 'email' or 'platform_user_id'"))
    if "role" not in header:
        problems.append(RowProblem(1, "role", "missing column 'role'"))
    if problems:
        return [], problems
    rows: list[ImportRow] = []
    roles = _roles(program)
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                problems.append(RowProblem(line, "row", f"{len(cells)} values but only {len(header)} columns"))
                continue
            values = {name: _unquote(cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
            row = _check_row(line, values, roles, program, problems)
            if row is not None:
                rows.append(row)
            if len(rows) > MAX_ROWS:
                problems.append(RowProblem(line, "row", f"more than {MAX_ROWS} rows; split the file"))
                break
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, "row", f"not readable as CSV ({exc})"))
    if not rows and not problems:
        problems.append(RowProblem(2, "row", "no participants in the file"))
    return rows, problems


def _check_row(
    line: int, v: dict[str, str], roles: set[str], program: Program, problems: list[RowProblem]
) -> ImportRow | None:
    before = len(problems)
    email, platform_id = v.get("email", "").lower(), v.get("platform_user_id", "")
    if not email and not platform_id:
        problems.append(RowProblem(line, "email", "give an e-mail or a platform_user_id"))
    elif email and not _EMAIL.match(email):
        problems.append(RowProblem(line, "email", f"'{email}' is not an e-mail address"))
    role = v.get("role", "").lower() or None
    if role is not None and role not in roles:
        problems.append(RowProblem(line, "role", f"'{role}' is not a role here; use {' or '.join(sorted(roles))}"))
    capacity_text = v.get("capacity", "") or "1"
    if not capacity_text.isdigit() or not 1 <= int(capacity_text) <= 10:
        problems.append(RowProblem(line, "capacity", f"'{capacity_text}' is not a whole number from 1 to 10"))
    tz = v.get("timezone", "") or None
    if tz is not None and not is_zone(tz):
        problems.append(RowProblem(line, "timezone", f"'{tz}' is not a time zone (use a name like Europe/Berlin)"))
    hours: dict[str, str | None] = {}
    for key in ("work_start", "work_end"):
        raw = v.get(key, "")
        hours[key] = None
        if raw:
            try:
                hours[key] = parse_hhmm(raw).strftime("%H:%M")
            except BadTime:
                problems.append(RowProblem(line, key, f"'{raw}' is not a 24-hour time like 09:00"))
    if hours["work_start"] and hours["work_start"] == hours["work_end"]:
        problems.append(RowProblem(line, "work_end", "working hours must not start and end at the same time"))
    department = v.get("department", "")
    if len(department) > 120:
        problems.append(RowProblem(line, "department", "keep it under 120 characters"))
    if len(problems) > before:
        return None
    return ImportRow(
        line=line,
        email=email,
        platform_user_id=platform_id,
        name=v.get("name", ""),
        role=role,
        capacity=int(capacity_text),
        skills_offered=split_list(v.get("skills_offered")),
        skills_wanted=split_list(v.get("skills_wanted")),
        interests=split_list(v.get("interests")),
        department=department or None,
        timezone=tz,
        work_start=hours["work_start"],
        work_end=hours["work_end"],
    )


async def lookup_email(
    core: Runtime | None, workspace: Workspace, known: dict[str, User], email: str
) -> UserInfo | None:
    """Known people first (no platform call); then the adapter's directory, when it has one."""
    user = known.get(email.lower())
    if user is not None:
        return UserInfo(user_id=user.platform_user_id, name=user.display_name, email=user.email, timezone=user.timezone)
    port = core.ports.get(workspace.platform) if core is not None else None
    lookup = getattr(port, LOOKUP_BY_EMAIL, None)
    if lookup is None:
        return None
    return await lookup(workspace.external_id, email)


async def _people(session: AsyncSession, workspace: Workspace) -> list[User]:
    """Everyone the bot knows in the workspace, in one query (imports touch many of them)."""
    return list((await session.exec(select(User).where(User.workspace_id == workspace.id))).all())


async def resolve_rows(
    core: Runtime | None, session: AsyncSession, workspace: Workspace, rows: list[ImportRow]
) -> list[RowProblem]:
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    known = {u.email.lower(): u for u in await _people(session, workspace) if u.email} if rows else {}
    for row in rows:
        if row.platform_user_id:
            row.resolved = UserInfo(user_id=row.platform_user_id, name=row.name, email=row.email or None)
        else:
            try:
                row.resolved = await lookup_email(core, workspace, known, row.email)
            except SendError as exc:
                problems.append(RowProblem(row.line, "email", f"couldn't look up '{row.email}': {exc}"))
                continue
            if row.resolved is None:
                problems.append(
                    RowProblem(row.line, "email", f"nobody with the e-mail '{row.email}' in this workspace")
                )
                continue
        key = row.resolved.user_id
        if key in seen:
            problems.append(
                RowProblem(
                    row.line,
                    "email" if row.email and not row.platform_user_id else "platform_user_id",
                    f"duplicate of line {seen[key]}",
                )
            )
        else:
            seen[key] = row.line
    return problems


def _apply_profile(member: Membership, user: User, row: ImportRow, program: Program) -> None:
    member.role = row.role or member.role or default_role(program)
    member.capacity = row.capacity
    member.skills_offered, member.skills_wanted = row.skills_offered, row.skills_wanted
    member.interests, member.department = row.interests, row.department
    if row.timezone:
        user.timezone, user.timezone_from_profile = row.timezone, True
    if row.work_start:
        user.work_start = row.work_start
    if row.work_end:
        user.work_end = row.work_end


def _consent_message(program: Program, enrolled: bool) -> Message:

    if enrolled:
        text = (
            f"👋 You've been added to **{program.name}** in #{program.channel_id} by its organisers: I'll "
            "introduce you to someone new each round. Not for you? One click and you're out."
        )
        button = LEAVE.button("Leave the program", ProgramRef(program.id or 0), style="danger")
    else:
        text = (
            f"👋 The organisers of **{program.name}** (#{program.channel_id}) would like you to join: I "
            "introduce people to each other and help them book a chat. Want in?"
        )
        button = JOIN.button("Join", ProgramRef(program.id or 0), style="primary")
    return Message(summary=f"About {program.name}", blocks=(Section(text=Text.of(text)), Actions(elements=(button,))))


async def import_participants(
    core: Runtime, session: AsyncSession, program: Program, csv_text: str, actor: User | None, *, filename: str = ""
) -> ImportResult:
    """Check the whole file, then add everyone with consent; returns counts, or the problems and no changes."""
    workspace = await session.get(Workspace, program.workspace_id)
    assert workspace is not None
    rows, problems = parse_rows(program, csv_text)
    problems += await resolve_rows(core, session, workspace, rows)  # so every bad row is reported at once
    result = ImportResult(problems=sorted(problems, key=lambda p: (p.line, p.field)))
    if problems:
        return result
    now = core.clock.now()
    items: list[Outgoing] = []
    users = {u.platform_user_id: u for u in await _people(session, workspace)}
    members = {
        m.user_id: m for m in (await session.exec(select(Membership).where(Membership.program_id == program.id))).all()
    }
    for row in rows:
        assert row.resolved is not None
        user = users.get(row.resolved.user_id)
        if user is None:
            user = User(
                workspace_id=workspace.id,
                platform_user_id=row.resolved.user_id,
                display_name=row.name or row.resolved.name or row.resolved.user_id,
                email=row.email or row.resolved.email,
                created_at=now,
                updated_at=now,
            )
            if row.resolved.timezone and is_zone(row.resolved.timezone):
                user.timezone = row.resolved.timezone
            session.add(user)
            await session.flush()
        elif row.email and not user.email:
            user.email = row.email
        member = members.get(user.id or 0)
        if member is not None and member.status == MembershipStatus.ACTIVE.value:
            _apply_profile(member, user, row, program)
            result.updated += 1
            continue
        left_before = member is not None and member.opted_out
        enrol = program.enrolment == Enrolment.OPT_OUT.value and not left_before
        if enrol:
            member, _ = await join(session, program, user, now, row.role)
            result.enrolled += 1
        else:
            if member is None:
                member = Membership(program_id=program.id, user_id=user.id, role=default_role(program))
                session.add(member)
            member.status = MembershipStatus.INVITED.value
            result.invited += 1
        _apply_profile(member, user, row, program)
        items.append(
            Outgoing(
                key=f"program:{program.id}:import:{user.id}:{now:%Y%m%d%H%M%S}",
                step="import_invite",
                target=to_user(user.platform_user_id),
                message=_consent_message(program, enrol),
                program_id=program.id,
            )
        )
    await session.flush()
    await enqueue(session, program.workspace_id, items, now)
    session.add(
        AuditEntry(
            workspace_id=program.workspace_id,
            actor_user_id=actor.id if actor else None,
            program_id=program.id,
            action="import",
            at=now,
            details={
                "file": filename,
                "invited": result.invited,
                "enrolled": result.enrolled,
                "updated": result.updated,
                "via": "chat" if actor else "command line",
            },
        )
    )
    return result
