"""Running a program's steps exactly once each: the step ledger is the truth, timers only wake us up.

A step is claimed by inserting its ledger row; whoever inserts it runs it. Every step only writes
deliveries with idempotency keys, so re-running a step that crashed half-way sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.admin.risk import send_digest
from bot.booking.followup import send_followups
from bot.booking.offers import send_booking_nudges, send_due_reminders
from bot.booking.recurring import offer_next_chats
from bot.delivery.outbox import Outgoing, enqueue, to_group, to_user
from bot.engagement.custom_content import custom_prompts
from bot.engagement.icebreakers import post_icebreaker
from bot.engagement.prompts import prompt_blocks
from bot.engagement.survey_ids import DID_YOU_MEET, GOOD_FIT, MIDPOINT, PULSE
from bot.engagement.surveys import SurveyAsk, close_and_remind, open_surveys
from bot.kernel.messages import Context, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.programs.matches import about_line
from bot.programs.membership import is_available
from bot.relationships.agreements import send_agreement_reminders
from bot.relationships.goal_reviews import send_halfway_reviews
from bot.relationships.goals import goal_reminder, goals_by_match
from bot.relationships.rounds import end_finished_peer_groups, run_round
from bot.relationships.wrapup import wrap_up_relationships
from bot.schedule import calendar
from bot.schedule.retention import apply_retention
from storage.enums import MatchStatus, MembershipStatus, ProgramKind, ProgramStatus, StepState
from storage.tables import (
    Match,
    MatchMember,
    Membership,
    Program,
    Round,
    StepRun,
    SurveyInstance,
    User,
    Workspace,
)
from storage.upsert import insert_ignore

log = logging.getLogger("tandem.steps")

STALE_RUN = timedelta(minutes=10)  # a step 'running' this long was interrupted; run it again
RETRY_FAILED_AFTER = timedelta(minutes=5)  # a failed step is tried again (within its grace), not on every tick


async def run_due_steps(core: Runtime) -> int:
    """Run every due step of every active program; returns how many ran.

    Safe to call from any number of ticks and processes at once: each step is claimed in the ledger first.
    """
    now = core.clock.now()
    async with core.db.session() as session:
        programs = list(
            (
                await session.exec(
                    select(Program).where(Program.status == ProgramStatus.ACTIVE.value).order_by(col(Program.id))
                )
            ).all()
        )
    ran = 0
    for program in programs:
        due = calendar.occurrences(program, now)
        finished = await _finished_keys(core, program)
        todo = [o for o in due if o.key(program.id or 0) not in finished]
        late = [o for o in todo if now - o.due_at > calendar.grace(o.kind, core.step_grace)]
        await _skip_late(core, program, late, now)
        for occurrence in todo:
            if occurrence in late:
                continue
            if await _run_once(core, program, occurrence, now):
                ran += 1
    await close_and_remind(core)
    await send_due_reminders(core)
    await send_followups(core)
    await end_finished_peer_groups(core)
    await offer_next_chats(core)
    await send_booking_nudges(core)
    await send_agreement_reminders(core)
    await send_halfway_reviews(core)
    await welcome_back(core)
    await wrap_up_relationships(core)
    await apply_retention(core)
    return ran


async def _finished_keys(core: Runtime, program: Program) -> set[str]:
    """Keys of steps that are done or skipped for good: one query instead of one per step."""
    async with core.db.session() as session:
        rows = (
            await session.exec(
                select(StepRun.key).where(
                    StepRun.program_id == program.id,
                    col(StepRun.state).in_([StepState.DONE.value, StepState.SKIPPED.value]),
                )
            )
        ).all()
    return set(rows)


async def _skip_late(core: Runtime, program: Program, late: list[calendar.Occurrence], now: datetime) -> None:
    """Steps missed past their grace get a 'skipped' ledger row (once) and one log line per program."""
    if not late:
        return
    detail = "missed while the service was down; past its grace period"
    async with core.db.transaction() as session:
        fresh = await insert_ignore(
            session,
            StepRun,
            [
                dict(
                    key=o.key(program.id or 0),
                    program_id=program.id,
                    kind=o.kind,
                    round_number=None,
                    due_at=o.due_at,
                    state=StepState.SKIPPED.value,
                    started_at=now,
                    finished_at=now,
                    detail=detail,
                )
                for o in late
            ],
            ["key"],
        )
        # a step that failed or was interrupted and is now past its grace is given up on, too
        await session.exec(
            update(StepRun)
            .where(
                col(StepRun.program_id) == program.id,
                col(StepRun.key).in_([o.key(program.id or 0) for o in late]),
                col(StepRun.state).in_([StepState.FAILED.value, StepState.RUNNING.value]),
                col(StepRun.started_at) < now - STALE_RUN,
            )
            .values(state=StepState.SKIPPED.value, finished_at=now, detail=detail)
        )
    if fresh:
        names = ", ".join(f"{o.kind} due {o.due_at:%Y-%m-%d %H:%M}Z" for o in late[-5:])
        log.warning(
            "program %s: skipped %d step(s) missed past their grace period (latest: %s)", program.id, fresh, names
        )


async def _next_round_number(session: AsyncSession, program_id: int | None) -> int:
    """After every round made so far (scheduled or 'match now') and every round step still under way."""
    made = (await session.exec(select(func.max(Round.number)).where(Round.program_id == program_id))).one()
    claimed = (
        await session.exec(
            select(func.max(StepRun.round_number)).where(StepRun.program_id == program_id, StepRun.kind == "round")
        )
    ).one()
    return max(made or 0, claimed or 0) + 1


async def _claim(
    core: Runtime, program: Program, occurrence: calendar.Occurrence, now: datetime
) -> tuple[bool, int | None]:
    """Claim the step by inserting its ledger row, or by taking over an interrupted or failed run.

    Every path is one atomic statement, so two schedulers can never both win the same step. A round step
    fixes its round number in the ledger when first claimed, so a re-run makes (or finds) that same round,
    and a cadence change or a 'match now' in between never makes the schedule reuse a number.
    """
    key = occurrence.key(program.id or 0)
    async with core.db.transaction() as session:
        number = await _next_round_number(session, program.id) if occurrence.kind == "round" else None
        inserted = await insert_ignore(
            session,
            StepRun,
            [
                dict(
                    key=key,
                    program_id=program.id,
                    kind=occurrence.kind,
                    round_number=number,
                    due_at=occurrence.due_at,
                    state=StepState.RUNNING.value,
                    started_at=now,
                )
            ],
            ["key"],
        )
        if inserted:
            return True, number
        stale = and_(col(StepRun.state) == StepState.RUNNING.value, col(StepRun.started_at) < now - STALE_RUN)
        retry = and_(col(StepRun.state) == StepState.FAILED.value, col(StepRun.finished_at) < now - RETRY_FAILED_AFTER)
        taken = (
            await session.exec(
                update(StepRun)
                .where(col(StepRun.key) == key, or_(stale, retry))
                .values(state=StepState.RUNNING.value, started_at=now, finished_at=None)
                .returning(col(StepRun.round_number))
            )
        ).all()
        if taken:
            log.warning("running step %s again (it was interrupted or failed)", key)
            return True, taken[0][0]
        return False, None


async def _run_once(core: Runtime, program: Program, occurrence: calendar.Occurrence, now: datetime) -> bool:
    claimed, number = await _claim(core, program, occurrence, now)
    if not claimed:
        return False
    key = occurrence.key(program.id or 0)
    try:
        await run_step(core, program.id or 0, replace(occurrence, round_number=number or occurrence.round_number))
    except Exception as exc:
        log.exception("step %s failed", key)
        await _finish(core, key, StepState.FAILED.value, f"{type(exc).__name__}: {exc}")
        return False
    await _finish(core, key, StepState.DONE.value, None)
    core.wakeup.set()  # its messages are in the outbox: the sender can start now
    return True


async def _finish(core: Runtime, key: str, state: str, detail: str | None) -> None:
    async with core.db.transaction() as session:
        await session.exec(
            update(StepRun)
            .where(col(StepRun.key) == key)
            .values(state=state, finished_at=core.clock.now(), detail=detail)
        )


async def run_step(core: Runtime, program_id: int, occurrence: calendar.Occurrence) -> None:
    if occurrence.kind == "round":
        await run_round(core, program_id, occurrence.round_number)
        return
    async with core.db.transaction() as session:
        program = await session.get(Program, program_id)
        assert program is not None
        if occurrence.kind == "prompt":
            await send_prompts(core, session, program, occurrence.due_at)
        elif occurrence.kind == "checkin":
            await send_checkins(core, session, program, occurrence.week)
        elif occurrence.kind == "icebreaker":
            await post_icebreaker(core, session, program, f"week:{occurrence.week}")
        elif occurrence.kind == "digest":
            await send_digest(core, session, program, occurrence.week, occurrence.due_at)


async def active_matches(session: AsyncSession, program: Program, now: datetime) -> list[Match]:
    query = select(Match).where(Match.program_id == program.id, col(Match.status).not_in([MatchStatus.ENDED.value]))
    if program.kind == ProgramKind.MENTORING.value:
        query = query.where(col(Match.created_at) >= now - timedelta(weeks=program.track_weeks))
    else:  # a group of an earlier round still live only for its booked chat gets no prompts or check-ins
        latest = select(func.max(Round.id)).where(Round.program_id == program.id).scalar_subquery()
        query = query.where(Match.round_id == latest)
    return list((await session.exec(query.order_by(col(Match.id)))).all())


@dataclass(frozen=True)
class GroupView:
    """An active match with its members and those of them who may be messaged now (not paused)."""

    match: Match
    members: list[User]
    available: list[User]
    asked: frozenset[str]  # survey definitions already sent to this match


async def active_groups(session: AsyncSession, program: Program, now: datetime) -> list[GroupView]:
    """Everything a step needs about the program's active matches, in four queries whatever its size."""
    matches = await active_matches(session, program, now)
    if not matches:
        return []
    ids = [m.id for m in matches]
    members: dict[int, list[User]] = {}
    for mm, user in (
        await session.exec(
            select(MatchMember, User)
            .join(User, col(User.id) == MatchMember.user_id)
            .where(col(MatchMember.match_id).in_(ids))
            .order_by(col(MatchMember.id))
        )
    ).all():
        members.setdefault(mm.match_id, []).append(user)
    memberships = {
        m.user_id: m for m in (await session.exec(select(Membership).where(Membership.program_id == program.id))).all()
    }
    asked: dict[int, set[str]] = {}
    for match_id, definition_id in (
        await session.exec(
            select(SurveyInstance.match_id, SurveyInstance.definition_id).where(col(SurveyInstance.match_id).in_(ids))
        )
    ).all():
        asked.setdefault(match_id or 0, set()).add(definition_id)
    views = []
    for match in matches:
        people = members.get(match.id or 0, [])
        ok = [u for u in people if u.id in memberships and is_available(memberships[u.id], now)]
        views.append(
            GroupView(match=match, members=people, available=ok, asked=frozenset(asked.get(match.id or 0, set())))
        )
    return views


def match_week(match: Match, at: datetime) -> int:
    assert match.created_at is not None
    return max(1, (at - match.created_at).days // 7 + 1)


async def send_prompts(core: Runtime, session: AsyncSession, program: Program, at: datetime) -> int:
    """This week's conversation prompt to every active group whose members aren't paused."""
    now = core.clock.now()
    workspace = await session.get(Workspace, program.workspace_id)
    assert workspace is not None
    group_chats = core.port(workspace.platform).capabilities.group_conversations
    extra = await custom_prompts(session, program)  # the program team's own questions, by week
    items = []
    groups = await active_groups(session, program, now)
    goals = await goals_by_match(session, [g.match.id for g in groups])
    for group in groups:
        match, members = group.match, group.members
        week = match_week(match, at)
        if week < 2 or week > program.track_weeks:
            continue
        if len(group.available) < len(members):
            continue  # someone is away: don't prompt a pair that can't meet
        blocks = prompt_blocks(program, week, extra=extra.get(week, []))
        reminder = goal_reminder(goals.get(match.id or 0, []), week)
        message = Message(
            summary=f"Week {week}: a question for your next chat",
            blocks=(*blocks, reminder) if reminder else tuple(blocks),
        )
        if group_chats:
            items.append(
                Outgoing(
                    key=f"match:{match.id}:prompt:{week}",
                    step="prompt",
                    match_id=match.id,
                    target=to_group([u.platform_user_id for u in members]),
                    message=message,
                    program_id=program.id,
                    round_id=match.round_id,
                )
            )
        else:  # one message each: say which match it is about (a mentor may have several mentees)
            items.extend(
                Outgoing(
                    key=f"match:{match.id}:prompt:{week}:user:{u.id}",
                    step="prompt",
                    match_id=match.id,
                    target=to_user(u.platform_user_id),
                    message=_about(message, u, members),
                    program_id=program.id,
                    round_id=match.round_id,
                )
                for u in members
            )
    return await enqueue(session, program.workspace_id, items, now)


def _about(message: Message, viewer: User, members: list[User]) -> Message:
    """The message with a first line naming the others in the match, for the one reading it."""
    about = about_line(viewer, members)
    if about is None:
        return message
    return message.model_copy(update={"blocks": (Context(text=Text.of(about)), *message.blocks)})


async def send_checkins(core: Runtime, session: AsyncSession, program: Program, week: int) -> int:
    (
        """A few days after each anchor: 'did you meet?' until they have, then a fit check and weekly pulses.

    The end-of-program survey is not a check-in: it follows the wrap-up when the track is over
    (bot/relationships/wrapup.py).
    """
        ""
    )
    now = core.clock.now()
    asks: list[SurveyAsk] = []
    for group in await active_groups(session, program, now):
        match, recipients, asked = group.match, group.available, group.asked
        if not recipients:
            continue
        mweek = match_week(match, now)
        if match.status != MatchStatus.MET.value:
            survey = DID_YOU_MEET
        elif GOOD_FIT not in asked:
            survey = GOOD_FIT
        elif (
            program.kind == ProgramKind.MENTORING.value
            and mweek == program.track_weeks // 2 + 1
            and MIDPOINT not in asked
        ):
            survey = MIDPOINT
        elif program.kind == ProgramKind.MENTORING.value:
            survey = PULSE
        else:
            continue  # peers who met and said it fits: nothing more to ask this round
        key = (
            f"match:{match.id}:{survey}:week:{week}"
            if survey in (DID_YOU_MEET, PULSE)
            else f"match:{match.id}:{survey}"
        )
        asks.append(SurveyAsk(survey, key, recipients, match=match, round_id=match.round_id, members=group.members))
    return await open_surveys(core, session, program, asks)


async def welcome_back(core: Runtime) -> int:
    """Tell people their pause is over (once), and clear it."""
    now = core.clock.now()
    async with core.db.transaction() as session:
        rows = (
            await session.exec(
                select(Membership, User, Program)
                .join(User, col(User.id) == Membership.user_id)
                .join(Program, col(Program.id) == Membership.program_id)
                .where(
                    col(Membership.paused_until).is_not(None),
                    col(Membership.paused_until) <= now,
                    Membership.status == MembershipStatus.ACTIVE.value,
                )
            )
        ).all()
        by_user: dict[int, tuple[User, list[Program], int, datetime]] = {}
        for membership, user, program in rows:
            assert membership.paused_until is not None
            entry = by_user.setdefault(user.id or 0, (user, [], program.workspace_id, membership.paused_until))
            entry[1].append(program)
            membership.paused_until = None
        total = 0
        for user, programs, workspace_id, until in by_user.values():
            names = ", ".join(p.name for p in programs)
            message = Message(
                summary="Welcome back!",
                blocks=(
                    Section(
                        text=Text.of(
                            f"👋 Welcome back! Your pause has ended, so you're in the next round of {names} again."
                        )
                    ),
                ),
            )
            total += await enqueue(
                session,
                workspace_id,
                [
                    Outgoing(
                        key=f"user:{user.id}:back:{until:%Y%m%d%H%M}",
                        step="welcome_back",
                        target=to_user(user.platform_user_id),
                        message=message,
                    )
                ],
                now,
            )
        return total
