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
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError, ValidationInfo, field_validator
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.messages import Actions, Message, Section, Text
from bot.kernel.port import LOOKUP_BY_EMAIL, SendError, UserInfo
from bot.kernel.runtime import Runtime
from bot.kernel.timeutil import BadTime, is_zone, parse_hhmm
from bot.kernel.zones import zone_problem
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


class ImportRow(BaseModel):
    """One participant from the file; each validator says, in the words people see, what's wrong with its field.

    Pydantic checks every field even when one fails, so a row reports all its problems at once.
    """

    line: int
    platform_user_id: str
    email: str  # after platform_user_id: either of the two is enough
    name: str
    role: str | None
    capacity: int
    skills_offered: list[str]
    skills_wanted: list[str]
    interests: list[str]
    timezone: str | None
    work_start: str | None
    work_end: str | None  # after work_start: they must differ
    department: str | None
    resolved: UserInfo | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, raw: str, info: ValidationInfo) -> str:
        """The e-mail or platform id is how we find the person; a malformed e-mail finds nobody."""
        email = raw.lower()
        if not email and not info.data.get("platform_user_id"):
            raise ValueError("give an e-mail or a platform_user_id")
        if email and not _EMAIL.match(email):
            raise ValueError(f"'{email}' is not an e-mail address")
        return email

    @field_validator("role")
    @classmethod
    def _role(cls, raw: str | None, info: ValidationInfo) -> str | None:
        """Only the program's own roles (given as context), so a peer program gets no mentors."""
        role = (raw or "").lower() or None
        roles: set[str] = info.context["roles"] if info.context else set()
        if role is not None and role not in roles:
            raise ValueError(f"'{role}' is not a role here; use {' or '.join(sorted(roles))}")
        return role

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity(cls, raw: str) -> int:
        """How many matches at once: 1 when blank, never more than 10."""
        text = raw or "1"
        if not text.isdigit() or not 1 <= int(text) <= 10:
            raise ValueError(f"'{text}' is not a whole number from 1 to 10")
        return int(text)

    @field_validator("skills_offered", "skills_wanted", "interests", mode="before")
    @classmethod
    def _list(cls, raw: str) -> list[str]:
        """Lists are written as one cell separated by commas or semicolons."""
        return split_list(raw)

    @field_validator("department")
    @classmethod
    def _department(cls, raw: str | None) -> str | None:
        """Departments are short labels; a long one is most likely a pasted mistake."""
        if raw is not None and len(raw) > 120:
            raise ValueError("keep it under 120 characters")
        return raw or None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, raw: str | None) -> str | None:
        """Only IANA zone names, so meeting times are right; an abbreviation gets the names it might mean."""
        problem = zone_problem(raw) if raw else None
        if problem:
            raise ValueError(problem)
        return raw or None

    @field_validator("work_start", "work_end")
    @classmethod
    def _hours(cls, raw: str | None, info: ValidationInfo) -> str | None:
        """Working hours as HH:MM; a day that starts and ends at the same time has no hours."""
        if not raw:
            return None
        try:
            hhmm = parse_hhmm(raw).strftime("%H:%M")
        except BadTime:
            raise ValueError(f"'{raw}' is not a 24-hour time like 09:00") from None
        if info.field_name == "work_end" and hhmm == info.data.get("work_start"):
            raise ValueError("working hours must not start and end at the same time")
        return hhmm


@dataclass
class ImportResult:
    problems: list[RowProblem] = field(default_factory=list)
    invited: int = 0
    enrolled: int = 0
    updated: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # field → how many people's own entry was kept
    overwrite: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def keep(self, fields: list[str]) -> None:
        for name in fields:
            self.kept[name] = self.kept.get(name, 0) + 1

    def summary(self) -> str:
        if self.problems:
            return f"{len(self.problems)} problem(s); nothing was imported."
        text = (
            f"Imported {self.invited + self.enrolled + self.updated} people: {self.invited} invited, "
            f"{self.enrolled} enrolled and told how to leave, {self.updated} already in (profile updated)."
        )
        if self.kept:
            fields = ", ".join(
                f"{name} ({n} {'person' if n == 1 else 'people'})" for name, n in sorted(self.kept.items())
            )
            text += f" Kept what people entered themselves: {fields}. To replace it, import again with --overwrite."
        return text


def _header(raw: list[str]) -> list[str]:
    names = [(h or "").strip().lower().replace(" ", "_") for h in raw]
    return [ALIASES.get(n, n) for n in names]


def _unquote(cell: str) -> str:
    """Undo the apostrophe exports put before formula-like text (see bot/admin/csv_format.safe_cell)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def _roles(program: Program) -> set[str]:
    if program.kind == ProgramKind.MENTORING.value:
        return {Role.MENTOR.value, Role.MENTEE.value}
    return {Role.PEER.value}


def _header_problems(header: list[str]) -> list[RowProblem]:
    """Unknown, repeated or missing columns: reported before any row, as no row can be read right."""
    problems: list[RowProblem] = []
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
    return problems


def _read_rows(reader: Any, header: list[str], roles: set[str], problems: list[RowProblem]) -> list[ImportRow]:
    """Every non-blank row checked, its problems added to ``problems``; stops past ``MAX_ROWS``."""
    rows: list[ImportRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                problems.append(RowProblem(line, "row", f"{len(cells)} values but only {len(header)} columns"))
                continue
            values = {name: _unquote(cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
            row = _check_row(line, values, roles, problems)
            if row is not None:
                rows.append(row)
            if len(rows) > MAX_ROWS:
                problems.append(RowProblem(line, "row", f"more than {MAX_ROWS} rows; split the file"))
                break
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, "row", f"not readable as CSV ({exc})"))
    return rows


def parse_rows(program: Program, csv_text: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """Check the file's shape and every row's values; no database needed."""
    text = csv_text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = _header(next(reader))
    except StopIteration:
        return [], [RowProblem(1, "header", "the file is empty; the first line must name the columns")]
    except csv.Error as exc:
        return [], [RowProblem(1, "header", f"not a readable CSV file ({exc})")]
    problems = _header_problems(header)
    if problems:
        return [], problems
    rows = _read_rows(reader, header, _roles(program), problems)
    if not rows and not problems:
        problems.append(RowProblem(2, "row", "no participants in the file"))
    return rows, problems


_BLANK_ROW = dict.fromkeys((*IMPORT_COLUMNS, "name"), "")  # a column the file leaves out reads as blank


def _check_row(line: int, v: dict[str, str], roles: set[str], problems: list[RowProblem]) -> ImportRow | None:
    """The row as an ImportRow, or None with each bad field added to ``problems`` in our own words."""
    try:
        return ImportRow.model_validate({**_BLANK_ROW, **v, "line": line}, context={"roles": roles})
    except ValidationError as error:
        problems.extend(
            RowProblem(line, str(e["loc"][0]), str(e.get("ctx", {}).get("error", e["msg"]))) for e in error.errors()
        )
        return None


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


def _put(obj: Membership | User, name: str, value: object, overwrite: bool, kept: list[str]) -> None:
    """Set one field, unless the person entered it themselves and the admin didn't ask to overwrite."""
    if value is None or getattr(obj, name) == value:
        return
    own = obj.self_entered
    if name in own and not overwrite:
        kept.append(name)
        return
    setattr(obj, name, value)
    if name in own:  # the admin's value replaced theirs: it is no longer theirs to keep
        obj.self_entered = [f for f in own if f != name]


def _apply_profile(member: Membership, user: User, row: ImportRow, program: Program, overwrite: bool) -> list[str]:
    """Write the row's profile; returns the fields kept because the person had entered them themselves."""
    kept: list[str] = []
    _put(member, "role", row.role or member.role or default_role(program), overwrite, kept)
    for name in ("capacity", "skills_offered", "skills_wanted", "interests", "department"):
        _put(member, name, getattr(row, name), overwrite, kept)
    for name in ("timezone", "work_start", "work_end"):
        _put(user, name, getattr(row, name) or None, overwrite, kept)
    if row.timezone and user.timezone == row.timezone:
        user.timezone_from_profile = True
    return kept


def _consent_message(program: Program, enrolled: bool) -> Message:

    if enrolled:
        text = (
            f"👋 You've been added to **{program.name}** by its organisers: I'll "
            "introduce you to someone new each round. Not for you? One click and you're out."
        )
        button = LEAVE.button("Leave the program", ProgramRef(program.id or 0), style="danger")
    else:
        text = (
            f"👋 The organisers of **{program.name}** would like you to join: I "
            "introduce people to each other and help them book a chat. Want in?"
        )
        button = JOIN.button("Join", ProgramRef(program.id or 0), style="primary")
    return Message(summary=f"About {program.name}", blocks=(Section(text=Text.of(text)), Actions(elements=(button,))))


async def _user_for(
    session: AsyncSession, workspace: Workspace, users: dict[str, User], row: ImportRow, now: datetime
) -> User:
    """The row's person: someone known gets a missing e-mail filled in, someone new is created now."""
    assert row.resolved is not None
    user = users.get(row.resolved.user_id)
    if user is None:
        user = User(
            workspace_id=workspace.id or 0,
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
    return user


async def _invite_or_enrol(
    session: AsyncSession, program: Program, member: Membership | None, user: User, row: ImportRow, now: datetime
) -> tuple[Membership, bool]:
    """Enrol in an opt-out program unless they left it before, else invite: consent is never skipped."""
    left_before = member is not None and member.opted_out
    enrol = program.enrolment == Enrolment.OPT_OUT.value and not left_before
    if enrol:
        member, _ = await join(session, program, user, now, row.role)
    else:
        if member is None:
            member = Membership(program_id=program.id or 0, user_id=user.id or 0, role=default_role(program))
            session.add(member)
        member.status = MembershipStatus.INVITED.value
    return member, enrol


def _consent_outgoing(program: Program, user: User, enrol: bool, now: datetime) -> Outgoing:
    """The Join or Leave message an imported person gets, so they choose for themselves."""
    return Outgoing(
        key=f"program:{program.id}:import:{user.id}:{now:%Y%m%d%H%M%S}",
        step="import_invite",
        target=to_user(user.platform_user_id),
        message=_consent_message(program, enrol),
        program_id=program.id,
    )


def _audit(program: Program, actor: User | None, filename: str, result: ImportResult, now: datetime) -> AuditEntry:
    """The audit trail: who imported which file, through which door, with what effect."""
    return AuditEntry(
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
            "kept": result.kept,
            "overwrite": result.overwrite,
            "via": "chat" if actor else "command line",
        },
    )


async def import_participants(
    core: Runtime,
    session: AsyncSession,
    program: Program,
    csv_text: str,
    actor: User | None,
    *,
    filename: str = "",
    overwrite: bool = False,
) -> ImportResult:
    """Check the whole file, then add everyone with consent; returns counts, or the problems and no changes.

    What people entered in their own profile is kept unless ``overwrite``; the result counts what was kept.
    """
    workspace = await session.get(Workspace, program.workspace_id)
    assert workspace is not None
    rows, problems = parse_rows(program, csv_text)
    problems += await resolve_rows(core, session, workspace, rows)  # so every bad row is reported at once
    result = ImportResult(problems=sorted(problems, key=lambda p: (p.line, p.field)), overwrite=overwrite)
    if problems:
        return result
    now = core.clock.now()
    items: list[Outgoing] = []
    users = {u.platform_user_id: u for u in await _people(session, workspace)}
    members = {
        m.user_id: m for m in (await session.exec(select(Membership).where(Membership.program_id == program.id))).all()
    }
    for row in rows:
        user = await _user_for(session, workspace, users, row, now)
        member = members.get(user.id or 0)
        if member is not None and member.status == MembershipStatus.ACTIVE.value:
            result.keep(_apply_profile(member, user, row, program, overwrite))
            result.updated += 1
            continue
        member, enrol = await _invite_or_enrol(session, program, member, user, row, now)
        if enrol:
            result.enrolled += 1
        else:
            result.invited += 1
        result.keep(_apply_profile(member, user, row, program, overwrite))
        items.append(_consent_outgoing(program, user, enrol, now))
    await session.flush()
    await enqueue(session, program.workspace_id, items, now)
    session.add(_audit(program, actor, filename, result, now))
    return result
