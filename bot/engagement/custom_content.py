"""Admins' own prompts, icebreakers and survey questions, stored in ``CustomContent`` and mixed into the library.

Kinds and payloads (JSON, so new fields need no migration):

* ``icebreaker``: ``{"text", "category"}``; workspace-wide (``program_id`` empty) or for one program.
* ``prompt``: ``{"week", "question"}``; one program's extra question for week *n* of a pair's track, shown
  under the library prompt of that week (in addition, so the track's follow-ups still apply).
* ``question``: ``{"text", "kind": "text"|"rating", "survey"}``; one program's extra question appended to a
  survey (``pulse`` by default). Only surveys opened after the question was added carry it, so an open
  survey never changes under people's feet. Custom questions never have flags (no rematch, no admin note).

Custom items get stable ids ``custom-<row id>`` so icebreaker rotation and survey answers can refer to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.content import Icebreaker, IcebreakerCategory, QuestionKind, SurveyDefinition, SurveyQuestion, load_library
from bot.content.library import PULSE
from storage.tables import CustomContent, Program

ICEBREAKER = "icebreaker"
PROMPT = "prompt"
QUESTION = "question"
KINDS = (ICEBREAKER, PROMPT, QUESTION)
PREFIX = "custom-"
MAX_TEXT = 300


def custom_id(row: CustomContent) -> str:
    return f"{PREFIX}{row.id}"


async def rows_for(session: AsyncSession, program: Program, kind: str) -> list[CustomContent]:
    """This program's items of one kind plus the workspace-wide ones, oldest first."""
    return list(
        (
            await session.exec(
                select(CustomContent)
                .where(
                    CustomContent.workspace_id == program.workspace_id,
                    CustomContent.kind == kind,
                    or_(col(CustomContent.program_id).is_(None), CustomContent.program_id == program.id),
                )
                .order_by(col(CustomContent.id))
            )
        ).all()
    )


def as_icebreaker(row: CustomContent) -> Icebreaker:
    category = row.payload.get("category") or IcebreakerCategory.FUN.value
    return Icebreaker(id=custom_id(row), category=IcebreakerCategory(category), text=row.payload["text"])


async def custom_icebreakers(session: AsyncSession, program: Program) -> list[Icebreaker]:
    return [as_icebreaker(row) for row in await rows_for(session, program, ICEBREAKER)]


def question_key(text: str) -> str:
    """What makes two questions the same: case, spacing and the closing punctuation don't."""
    return " ".join(text.casefold().split()).rstrip("?!.… ")


async def icebreaker_twin(session: AsyncSession, workspace_id: int, program_id: int | None, text: str) -> str | None:
    """Where this question is already asked (the library, or an item's id), if it is; else None.

    A workspace-wide question meets every program's own; a program's meets its own and the workspace's.
    """
    key = question_key(text)
    if any(question_key(i.text) == key for i in load_library().icebreakers):
        return "the built-in questions"
    query = select(CustomContent).where(CustomContent.workspace_id == workspace_id, CustomContent.kind == ICEBREAKER)
    if program_id is not None:
        query = query.where(or_(col(CustomContent.program_id).is_(None), CustomContent.program_id == program_id))
    for row in (await session.exec(query)).all():
        if question_key(str(row.payload.get("text", ""))) == key:
            return f"item #{row.id}"
    return None


async def custom_prompts(session: AsyncSession, program: Program) -> dict[int, list[str]]:
    """This program's extra questions by week of the track (one query for the whole prompt step)."""
    weeks: dict[int, list[str]] = {}
    for row in await rows_for(session, program, PROMPT):
        if row.program_id == program.id and isinstance(row.payload.get("week"), int):
            weeks.setdefault(row.payload["week"], []).append(row.payload["question"])
    return weeks


def as_question(row: CustomContent) -> SurveyQuestion:
    if row.payload.get("kind") == QuestionKind.RATING.value:
        return SurveyQuestion(id=custom_id(row), kind=QuestionKind.RATING, text=row.payload["text"])
    return SurveyQuestion(
        id=custom_id(row), kind=QuestionKind.TEXT, text=row.payload["text"], required=False, max_length=1000
    )


_QUESTIONS = (
    select(CustomContent)
    .where(CustomContent.program_id == bindparam("program_id"), CustomContent.kind == QUESTION)
    .order_by(col(CustomContent.id))
)
_MEMO = "tandem.custom_questions"  # session.info key: this transaction's question rows, by program


async def _question_rows(session: AsyncSession, program_id: int) -> list[CustomContent]:
    """A program's custom questions, read once per transaction: steps open and remind surveys in loops."""
    memo: dict[int, list[CustomContent]] = session.info.setdefault(_MEMO, {})
    if program_id not in memo:
        memo[program_id] = list((await session.exec(_QUESTIONS, params={"program_id": program_id})).all())
    return memo[program_id]


def questions_exist(program_id: Any) -> Any:
    """A boolean column for a query that also fetches the program: does it have custom questions at all?"""
    return exists().where(CustomContent.program_id == program_id, col(CustomContent.kind) == QUESTION)


def note_no_questions(session: AsyncSession, program_id: int) -> None:
    """The caller's query (with ``questions_exist``) found none: spare the transaction the lookup."""
    session.info.setdefault(_MEMO, {}).setdefault(program_id, [])


def forget(session: AsyncSession) -> None:
    """Drop the transaction's memo after adding or removing custom content in it."""
    session.info.pop(_MEMO, None)


async def with_custom_questions(
    session: AsyncSession, program_id: int, survey: SurveyDefinition, opened_at: datetime | None
) -> SurveyDefinition:
    """The library survey plus this program's questions for it that existed when the survey was opened."""
    rows = await _question_rows(session, program_id)
    extra = tuple(
        as_question(row)
        for row in rows
        if row.payload.get("survey", PULSE) == survey.id
        and (opened_at is None or row.created_at is None or row.created_at <= opened_at)
    )
    if not extra:
        return survey
    return survey.model_copy(update={"questions": survey.questions + extra})


def describe(row: CustomContent, program_names: dict[int, str]) -> str:
    """One line for ``content list``."""
    where = program_names.get(row.program_id or 0, "all programs") if row.program_id else "all programs"
    p = row.payload
    if row.kind == PROMPT:
        what = f"prompt, week {p.get('week')}: {p.get('question')}"
    elif row.kind == QUESTION:
        what = f"{p.get('kind', 'text')} question in {p.get('survey', 'pulse')}: {p.get('text')}"
    else:
        what = f"icebreaker [{p.get('category', 'fun')}]: {p.get('text')}"
    return f"#{row.id} · {where} · {what}"
