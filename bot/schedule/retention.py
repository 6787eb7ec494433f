"""Retention: once a day, forget people inactive past the limit and erase free text past its own limit.

A person's last activity is the later of their own last event (``User.last_active_at``, or when Tandem first
saw them) and the day they left their last program; anyone still active in a program is kept. They are
forgotten exactly as by ``forget me`` (:func:`bot.privacy.erase.forget_person`), one person per transaction,
so a crash half-way loses nothing and the next day's run carries on. Free-text answers and recaps can have a
shorter limit (``PrivacyPolicy.free_text_retention``): only the words go, the ratings and counts stay.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.content import QuestionKind
from bot.engagement.surveys import definition_for
from bot.kernel.runtime import Runtime
from bot.privacy.erase import ForgetReason, forget_person
from bot.privacy.traces import ERASED_TEXT, FORGOTTEN_PREFIX, free_text_answers
from storage.enums import MembershipStatus, ProgramStatus
from storage.tables import Membership, ProcessedEvent, Program, Recap, SurveyAnswer, SurveyInstance, User
from storage.upsert import insert_ignore

log = logging.getLogger("tandem.retention")


async def _first_run_today(core: Runtime, now: datetime) -> bool:
    """Claim today's run (across servers), so the whole-table reads happen once a day, not every tick."""
    async with core.db.transaction() as session:
        key = f"retention:{now:%Y-%m-%d}"
        return bool(await insert_ignore(session, ProcessedEvent, [{"key": key, "at": now}], ["key"]))


def _last_activity(user: User, memberships: list[Membership]) -> datetime | None:
    moments = [user.last_active_at, user.created_at, *(m.left_at for m in memberships)]
    known = [m for m in moments if m is not None]
    return max(known) if known else None


async def inactive_people(session: AsyncSession, cutoff: datetime) -> list[int]:
    """Ids of people (not yet forgotten) whose last activity is before ``cutoff`` and who are in no program.

    Organisers of a program that still runs are kept too: the program is theirs to look after.
    """
    users = (await session.exec(select(User).where(col(User.platform_user_id).not_like(f"{FORGOTTEN_PREFIX}%")))).all()
    memberships: dict[int, list[Membership]] = {}
    for member in (await session.exec(select(Membership))).all():
        memberships.setdefault(member.user_id, []).append(member)
    organisers = set(
        (
            await session.exec(
                select(Program.created_by_user_id).where(col(Program.status) != ProgramStatus.ARCHIVED.value)
            )
        ).all()
    )
    found = []
    for user in users:
        own = memberships.get(user.id or 0, [])
        if user.id in organisers or any(m.status == MembershipStatus.ACTIVE.value for m in own):
            continue
        last = _last_activity(user, own)
        if last is not None and last < cutoff:
            found.append(user.id or 0)
    return found


async def erase_old_free_text(session: AsyncSession, cutoff: datetime) -> int:
    """Free-text survey answers and recaps written before ``cutoff``, erased in place; returns how many."""
    erased = 0
    named = (
        await session.exec(
            select(SurveyAnswer.user_id)
            .where(col(SurveyAnswer.answered_at) < cutoff, col(SurveyAnswer.value) != ERASED_TEXT)
            .distinct()
        )
    ).all()
    for user_id in named:
        if user_id is None:
            continue
        for answer in await free_text_answers(session, user_id):
            if answer.answered_at is not None and answer.answered_at < cutoff and answer.value != ERASED_TEXT:
                answer.value = ERASED_TEXT
                erased += 1
    erased += await _erase_anonymous_text(session, cutoff)
    recaps = (
        await session.exec(select(Recap).where(col(Recap.created_at) < cutoff, col(Recap.text) != ERASED_TEXT))
    ).all()
    for recap in recaps:
        recap.text, recap.action_items = ERASED_TEXT, []
        erased += 1
    return erased


async def _erase_anonymous_text(session: AsyncSession, cutoff: datetime) -> int:
    """Anonymous comments too: they name nobody, but the words themselves can."""
    rows = (
        await session.exec(
            select(SurveyAnswer, SurveyInstance)
            .join(SurveyInstance, col(SurveyInstance.id) == SurveyAnswer.instance_id)
            .where(
                col(SurveyAnswer.user_id).is_(None),
                col(SurveyAnswer.answered_at) < cutoff,
                col(SurveyAnswer.value) != ERASED_TEXT,
            )
        )
    ).all()
    erased = 0
    for answer, instance in rows:
        survey = await definition_for(session, instance)
        question = next((q for q in survey.questions if q.id == answer.question_id), None)
        if question is not None and question.kind is QuestionKind.TEXT:
            answer.value = ERASED_TEXT
            erased += 1
    return erased


async def apply_retention(core: Runtime) -> int:
    """Run the day's retention once (any server may call it every tick); returns how many people were forgotten."""
    policy = core.privacy
    now = core.clock.now()
    if (policy.retention is None and policy.free_text_retention is None) or not await _first_run_today(core, now):
        return 0
    text_limit = policy.free_text_retention or policy.retention
    if text_limit is not None:
        async with core.db.transaction() as session:
            erased = await erase_old_free_text(session, now - text_limit)
        if erased:
            log.info("retention: erased %d free-text answer(s) older than the limit", erased)
    if policy.retention is None:
        return 0
    async with core.db.session() as session:
        people = await inactive_people(session, now - policy.retention)
    for user_id in people:
        async with core.db.transaction() as session:
            user = await session.get(User, user_id)
            if user is not None and not user.platform_user_id.startswith(FORGOTTEN_PREFIX):
                await forget_person(session, user, now, ForgetReason.RETENTION)
    if people:
        log.info("retention: forgot %d person(s) inactive past the limit", len(people))
    return len(people)
