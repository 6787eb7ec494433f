"""Survey results for admins, aggregated so they never point at individuals.

Every question with fewer than ``MIN_ANSWERS`` answers shows "not enough answers" instead of numbers or
comments. Anonymous surveys never show names, and their comments are sorted alphabetically so their order
can't be lined up with who answered when.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.admin.stats import MIN_ANSWERS
from bot.chat.visibility import ANONYMOUS_LABEL, NAMED_LABEL
from bot.content import QuestionKind, SurveyQuestion, load_library
from bot.engagement.custom_content import with_custom_questions
from storage.tables import Program, SurveyAnswer, SurveyInstance, SurveyRecipient, User

NOT_ENOUGH = "not enough answers"


@dataclass(frozen=True)
class QuestionReport:
    question_id: str
    text: str
    kind: str
    answers: int
    counts: tuple[tuple[str, int], ...] = ()  # option label (or rating value) → answers; empty when hidden
    average: float | None = None  # ratings only
    comments: tuple[str, ...] = ()  # free text; "Name: text" unless anonymous

    @property
    def enough(self) -> bool:
        return self.answers >= MIN_ANSWERS


@dataclass(frozen=True)
class SurveyReport:
    definition_id: str
    title: str
    anonymous: bool
    sent: int  # survey instances
    asked: int
    responded: int
    questions: list[QuestionReport] = field(default_factory=list)


async def surveys_with_instances(session: AsyncSession, program: Program) -> list[str]:
    rows = (
        await session.exec(
            select(SurveyInstance.definition_id).where(SurveyInstance.program_id == program.id).distinct()
        )
    ).all()
    order = list(load_library().surveys)
    return sorted(set(rows), key=lambda d: order.index(d) if d in order else len(order))


async def _instances(session: AsyncSession, program: Program, definition_id: str) -> list[SurveyInstance]:
    """Every time this survey was sent in the program: the report covers all of them."""
    return list(
        (
            await session.exec(
                select(SurveyInstance).where(
                    SurveyInstance.program_id == program.id, SurveyInstance.definition_id == definition_id
                )
            )
        ).all()
    )


async def _recipients(session: AsyncSession, ids: list[int | None]) -> list[SurveyRecipient]:
    """Who was asked, to show the response rate; no query when nothing was sent."""
    if not ids:
        return []
    return list((await session.exec(select(SurveyRecipient).where(col(SurveyRecipient.instance_id).in_(ids)))).all())


async def _answers(session: AsyncSession, ids: list[int | None]) -> list[SurveyAnswer]:
    """All answers in the order given, so named comments read chronologically."""
    if not ids:
        return []
    return list(
        (
            await session.exec(
                select(SurveyAnswer).where(col(SurveyAnswer.instance_id).in_(ids)).order_by(col(SurveyAnswer.id))
            )
        ).all()
    )


async def _names(session: AsyncSession, rows: list[SurveyAnswer], anonymous_ids: set[int | None]) -> dict[int, str]:
    """Display names of people who answered named surveys; anonymous answers are never looked up."""
    named = {row.user_id for row in rows if row.user_id and row.instance_id not in anonymous_ids}
    if not named:
        return {}
    return {
        u.id or 0: u.display_name
        for u in (await session.exec(select(User).where(col(User.id).in_(sorted(named))))).all()
    }


def _rating(question: SurveyQuestion, answers: list[SurveyAnswer]) -> tuple[tuple[tuple[str, int], ...], float | None]:
    """Answers per rating value and the average rating."""
    values = [int(a.value) for a in answers if a.value.isdigit()]
    counts = tuple((str(n), values.count(n)) for n in question.scale)
    return counts, sum(values) / len(values) if values else None


def _comments(answers: list[SurveyAnswer], anonymous_ids: set[int | None], names: dict[int, str]) -> tuple[str, ...]:
    """Free-text answers: sorted without names when anonymous, so order can't betray who wrote what."""
    if any(a.instance_id in anonymous_ids for a in answers):
        return tuple(sorted(a.value for a in answers))
    return tuple(f"{names.get(a.user_id or 0, 'someone')}: {a.value}" for a in answers)


def _question_report(
    question: SurveyQuestion, answers: list[SurveyAnswer], anonymous_ids: set[int | None], names: dict[int, str]
) -> QuestionReport:
    """One question's results, hidden when too few people answered to keep them unidentifiable."""
    if len(answers) < MIN_ANSWERS:
        return QuestionReport(question.id, question.text, question.kind.value, len(answers))
    counts: tuple[tuple[str, int], ...] = ()
    average = None
    comments: tuple[str, ...] = ()
    if question.kind is QuestionKind.CHOICE:
        counts = tuple((o.label, sum(1 for a in answers if a.value == o.value)) for o in question.options)
    elif question.kind is QuestionKind.RATING:
        counts, average = _rating(question, answers)
    else:
        comments = _comments(answers, anonymous_ids, names)
    return QuestionReport(question.id, question.text, question.kind.value, len(answers), counts, average, comments)


async def survey_report(session: AsyncSession, program: Program, definition_id: str) -> SurveyReport:
    """Per question: answer count, counts per option, average rating, and comments, all only from 3 answers."""
    survey = await with_custom_questions(session, program.id or 0, load_library().survey(definition_id), None)
    instances = await _instances(session, program, definition_id)
    ids = [i.id for i in instances]
    anonymous_ids = {i.id for i in instances if i.anonymous or survey.anonymous}
    recipients = await _recipients(session, ids)
    rows = await _answers(session, ids)
    names = await _names(session, rows, anonymous_ids)
    by_question: dict[str, list[SurveyAnswer]] = {}
    for row in rows:
        by_question.setdefault(row.question_id, []).append(row)
    questions = [
        _question_report(
            question, [a for a in by_question.get(question.id, []) if a.value.strip()], anonymous_ids, names
        )
        for question in survey.questions
    ]
    return SurveyReport(
        definition_id=definition_id,
        title=survey.title,
        anonymous=survey.anonymous,
        sent=len(instances),
        asked=len(recipients),
        responded=sum(1 for r in recipients if r.answered),
        questions=questions,
    )


def report_lines(report: SurveyReport) -> list[str]:
    """The report as chat lines."""
    who = ANONYMOUS_LABEL if report.anonymous else NAMED_LABEL
    lines = [f"**{report.title}** ({who}) · sent {report.sent}×, {report.responded} of {report.asked} responded"]
    for q in report.questions:
        if not q.enough:
            lines.append(f"• {q.text}: _{NOT_ENOUGH}_")
            continue
        if q.kind == QuestionKind.RATING.value:
            spread = ", ".join(f"{label}: {n}" for label, n in q.counts)
            mean = f"{q.average:.1f}" if q.average is not None else "-"
            lines.append(f"• {q.text}: average {mean} from {q.answers} answers ({spread})")
        elif q.kind == QuestionKind.CHOICE.value:
            lines.append(f"• {q.text} ({q.answers} answers): " + ", ".join(f"{label}: {n}" for label, n in q.counts))
        else:
            lines.append(f"• {q.text} ({q.answers} answers):")
            lines.extend(f"    “{c[:300]}”" for c in q.comments)
    return lines
