"""CSV exports of a program: participants, matches, meetings and survey answers.

Named survey answers are exported row by row; anonymous ones only as per-question totals, and only when
at least ``MIN_ANSWERS`` people answered (fewer would point at individuals). ``participants.csv`` uses
the import columns, so an export can be imported into another program as it is.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.admin.csv_format import LIST_SEPARATOR, csv_text, iso
from bot.admin.export_relationships import agreements_csv, goals_csv
from bot.admin.stats import MIN_ANSWERS
from bot.chat.lookup import slug
from bot.kernel.messages import FileAttachment
from bot.programs.membership import ProgramError
from storage.enums import ProgramStatus
from storage.tables import (
    Match,
    MatchMember,
    Meeting,
    Membership,
    Program,
    Round,
    SurveyAnswer,
    SurveyInstance,
    User,
)

PARTICIPANT_COLUMNS = (
    "email",
    "platform_user_id",
    "name",
    "role",
    "capacity",
    "skills_offered",
    "skills_wanted",
    "interests",
    "department",
    "timezone",
    "work_start",
    "work_end",
    "status",
    "paused_until",
    "joined_at",
)


MATCH_COLUMNS = (
    "match_id",
    "round",
    "members",
    "status",
    "score",
    "reasons",
    "created_at",
    "met_at",
    "meetings_count",
    "started_at",
    "ended_at",
    "end_reason",
)


async def participants_csv(session: AsyncSession, program: Program) -> str:
    rows = (
        await session.exec(
            select(Membership, User)
            .join(User, col(User.id) == Membership.user_id)
            .where(Membership.program_id == program.id)
            .order_by(col(User.id))
        )
    ).all()
    return csv_text(
        PARTICIPANT_COLUMNS,
        [
            [
                u.email or "",
                u.platform_user_id,
                u.display_name,
                m.role,
                m.capacity,
                LIST_SEPARATOR.join(m.skills_offered),
                LIST_SEPARATOR.join(m.skills_wanted),
                LIST_SEPARATOR.join(m.interests),
                m.department or "",
                u.timezone,
                u.work_start,
                u.work_end,
                m.status,
                iso(m.paused_until),
                iso(m.joined_at),
            ]
            for m, u in rows
        ],
    )


async def matches_csv(session: AsyncSession, program: Program) -> str:
    rows = (
        await session.exec(
            select(Match, Round.number)
            .join(Round, col(Round.id) == Match.round_id)
            .where(Match.program_id == program.id)
            .order_by(col(Match.id))
        )
    ).all()
    members: dict[int, list[str]] = {}
    for mm, user in (
        await session.exec(
            select(MatchMember, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .join(Match, col(Match.id) == MatchMember.match_id)
            .where(Match.program_id == program.id)
            .order_by(col(MatchMember.id))
        )
    ).all():
        members.setdefault(mm.match_id, []).append(f"{user.display_name} <{user.platform_user_id}> ({mm.role})")
    return csv_text(
        MATCH_COLUMNS,
        [
            [
                m.id,
                number,
                LIST_SEPARATOR.join(members.get(m.id or 0, [])),
                m.status,
                round(m.score, 3),
                LIST_SEPARATOR.join(m.reasons),
                iso(m.created_at),
                iso(m.met_at),
                m.meetings_count,
                iso(m.created_at),
                iso(m.ended_at),
                m.end_reason or "",
            ]
            for m, number in rows
        ],
    )


async def meetings_csv(session: AsyncSession, program: Program) -> str:
    rows = (
        await session.exec(
            select(Meeting)
            .join(Match, col(Match.id) == Meeting.match_id)
            .where(Match.program_id == program.id)
            .order_by(col(Meeting.id))
        )
    ).all()
    return csv_text(
        ("meeting_id", "match_id", "state", "start_at", "end_at", "confirmed_at"),
        [[m.id, m.match_id, m.state, iso(m.start_at), iso(m.end_at), iso(m.confirmed_at)] for m in rows],
    )


def _named_row(answer: SurveyAnswer, instance: SurveyInstance, user: User | None) -> list[object]:
    """One named answer with who gave it, for the row-by-row file."""
    return [
        instance.definition_id,
        instance.round_id or "",
        instance.match_id or "",
        answer.question_id,
        user.platform_user_id if user else "",
        user.display_name if user else "",
        answer.value,
        iso(answer.answered_at),
        "named",
    ]


def _counts_cell(values: list[str]) -> str:
    """Answers per value for short answers; free text is never exported, even as totals."""
    if not all(len(v) <= 40 for v in values):
        return "(free text, not exported)"
    return LIST_SEPARATOR.join(f"{v}: {n}" for v, n in sorted(Counter(values).items()))


def _total_row(survey: str, question: str, values: list[str]) -> list[object]:
    """Anonymous answers to one question as totals, hidden below MIN_ANSWERS so nobody can be singled out."""
    if len(values) < MIN_ANSWERS:
        return [survey, question, len(values), "not enough answers", "", "anonymous"]
    numbers = [int(v) for v in values if v.isdigit()]
    average = f"{sum(numbers) / len(numbers):.2f}" if numbers and len(numbers) == len(values) else ""
    counts = "" if average else _counts_cell(values)
    return [survey, question, len(values), counts, average, "anonymous"]


async def survey_csvs(session: AsyncSession, program: Program) -> tuple[str, str]:
    """Named answers row by row; anonymous answers only as totals per survey and question."""
    rows = (
        await session.exec(
            select(SurveyAnswer, SurveyInstance)
            .join(SurveyInstance, col(SurveyInstance.id) == SurveyAnswer.instance_id)
            .where(SurveyInstance.program_id == program.id)
            .order_by(col(SurveyAnswer.id))
        )
    ).all()
    users = {u.id: u for u in (await session.exec(select(User).where(User.workspace_id == program.workspace_id))).all()}
    named: list[list[object]] = []
    pooled: dict[tuple[str, str], list[str]] = {}
    for answer, instance in rows:
        if instance.anonymous or answer.user_id is None:
            pooled.setdefault((instance.definition_id, answer.question_id), []).append(answer.value)
        else:
            named.append(_named_row(answer, instance, users.get(answer.user_id)))
    summary = [_total_row(survey, question, values) for (survey, question), values in sorted(pooled.items())]
    return (
        csv_text(
            (
                "survey",
                "round_id",
                "match_id",
                "question",
                "platform_user_id",
                "name",
                "answer",
                "answered_at",
                "answered_as",
            ),
            named,
        ),
        csv_text(("survey", "question", "answers", "counts", "average", "answered_as"), summary),
    )


async def export_program(session: AsyncSession, program: Program) -> dict[str, str]:
    """Every export file of a program, by file name."""
    named, anonymous = await survey_csvs(session, program)
    return {
        "participants.csv": await participants_csv(session, program),
        "matches.csv": await matches_csv(session, program),
        "meetings.csv": await meetings_csv(session, program),
        "goals.csv": await goals_csv(session, program),
        "agreements.csv": await agreements_csv(session, program),
        "survey_answers.csv": named,
        "survey_answers_anonymous_totals.csv": anonymous,
    }


def attachments(program: Program, files: dict[str, str]) -> tuple[FileAttachment, ...]:
    prefix = slug(program.name) or f"program-{program.id}"
    return tuple(
        FileAttachment(
            filename=f"{prefix}-{name}",
            mime_type="text/csv",
            title=name,
            content_b64=base64.b64encode(text.encode("utf-8")).decode("ascii"),
        )
        for name, text in files.items()
    )


def _write_files(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


async def write_export(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write the export files to a folder (off the event loop: file I/O blocks)."""
    return await asyncio.to_thread(_write_files, folder, files)


async def find_program_anywhere(session: AsyncSession, ref: str) -> Program:
    """For the command line, which has no workspace: a program by id, name or channel across workspaces."""
    programs = list(
        (
            await session.exec(
                select(Program).where(Program.status != ProgramStatus.ARCHIVED.value).order_by(col(Program.id))
            )
        ).all()
    )
    key = slug(ref.lstrip("#"))
    hits = [p for p in programs if str(p.id) == ref.strip()] or [
        p for p in programs if key in (slug(p.name), slug(p.channel_id))
    ]
    if not hits:
        names = ", ".join(f"'{p.name}' (id {p.id})" for p in programs) or "none"
        raise ProgramError(f"no program called '{ref}'; programs: {names}")
    if len(hits) > 1:
        raise ProgramError(f"'{ref}' matches several programs ({', '.join(str(p.id) for p in hits)}); use the id")
    return hits[0]
