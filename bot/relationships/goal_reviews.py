"""Goal reviews: halfway through a mentoring track (and at its end, in the wrap-up) each member sees the
pair's goals with one-tap status buttons; a tap saves the status and redraws the message with it ticked.

The halfway review is sent here (once per member, by its delivery key); the end-of-track review is the
first part of the wrap-up, which calls :func:`goal_review_message` with ``stage="end"``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.errors import CommandError
from bot.chat.registry import ButtonKind
from bot.delivery.outbox import Outgoing, enqueue, to_user
from bot.kernel.messages import Actions, Context, Header, Mention, Message, Section, Text
from bot.kernel.runtime import Runtime
from bot.programs.matches import members_by_match, members_of
from bot.programs.membership import is_available
from bot.relationships.goals import STATUS_ICONS, STATUS_LABELS, goals_by_match
from storage.enums import GoalStatus, MatchStatus, ProgramKind, ProgramStatus
from storage.tables import Delivery, Goal, Match, MatchMember, Membership, Program, User, Workspace

HALFWAY = "halfway"
END = "end"
STAGES = (HALFWAY, END)
REVIEW_STEP = "goal_review"


class GoalChoice(NamedTuple):
    goal_id: int
    stage: str
    status: str


SET_STATUS = ButtonKind("goal:status", GoalChoice)


class GoalReviewError(CommandError):
    """A status click that can't be applied; the text says why, and nothing was changed."""


def halfway_week(program: Program) -> int:
    return program.track_weeks // 2 + 1


def _others_text(others: list[User]) -> list:
    parts: list = []
    for index, user in enumerate(others):
        if index:
            parts.append(" and " if index == len(others) - 1 else ", ")
        parts.append(Mention(user_id=user.platform_user_id, name=user.display_name))
    return parts or ["your match"]


def _goal_blocks(goal: Goal, stage: str, authors: dict[int | None, str]) -> list:
    author = authors.get(goal.owner_user_id)
    line = f"{STATUS_ICONS[goal.status]} **{goal.text}** ({STATUS_LABELS[goal.status]})"
    buttons = tuple(
        SET_STATUS.button(
            f"✓ {label}" if status == goal.status else label.capitalize(),
            GoalChoice(goal.id or 0, stage, status),
            style="primary" if status == goal.status else None,
        )
        for status, label in STATUS_LABELS.items()
    )
    blocks: list = [Section(text=Text.of(line))]
    if author:
        blocks.append(Context(text=Text.of(f"Written by {author}")))
    blocks.append(Actions(elements=buttons))
    return blocks


def goal_review_message(match: Match, goals: list[Goal], viewer: User, others: list[User], stage: str) -> Message:
    """One member's goal review: each goal with its status and one-tap buttons (the current one ticked).

    ``stage`` is ``"halfway"`` or ``"end"``; the message names the others in the match.
    """
    title = "Halfway there: how are your goals going? 🎯" if stage == HALFWAY else "Your goals, looking back 🎯"
    ask = "You're halfway through." if stage == HALFWAY else "Your track is coming to its end."
    authors = {u.id: ("you" if u.id == viewer.id else u.display_name) for u in (viewer, *others)}
    blocks: list = [
        Header(text=title),
        Section(text=Text.of(f"{ask} Where does each goal you set with ", *_others_text(others), " stand? One tap:")),
    ]
    for goal in goals:
        blocks.extend(_goal_blocks(goal, stage, authors))
    if not goals:
        blocks.append(Section(text=Text.of("You haven't written any goals down (`agreement` does it).")))
    done = sum(g.status == GoalStatus.DONE.value for g in goals)
    summary = (
        f"Your goals with {', '.join(u.display_name for u in others) or 'your match'}: {done} of {len(goals)} done"
    )
    return Message(summary=summary, blocks=tuple(blocks))


def review_key(match: Match, stage: str, user: User) -> str:
    return f"match:{match.id}:goal_review:{stage}:user:{user.id}"


def review_outgoing(
    program: Program,
    match: Match,
    goals: list[Goal],
    members: list[User],
    stage: str,
    only: Callable[[User], bool] | None = None,
) -> list[Outgoing]:
    """One review per member (``only``: just the members it accepts), each once (its key names the match,
    the stage and the member)."""
    return [
        Outgoing(
            key=review_key(match, stage, u),
            step=REVIEW_STEP,
            target=to_user(u.platform_user_id),
            message=goal_review_message(match, goals, u, [o for o in members if o.id != u.id], stage),
            program_id=program.id,
            round_id=match.round_id,
            match_id=match.id,
        )
        for u in members
        if only is None or only(u)
    ]


async def set_goal_status(core: Runtime, session: AsyncSession, user: User, choice: GoalChoice) -> Message:
    """Save one status tap and return the redrawn review. Halfway buttons stop working once the match ended."""
    goal = await session.get(Goal, choice.goal_id)
    match = await session.get(Match, goal.match_id) if goal is not None else None
    if goal is None or match is None:
        raise GoalReviewError("That goal was changed since; use `goals` to see the current ones. Nothing was changed.")
    members = [u for _, u in await members_of(session, match.id)]
    if user.id not in {u.id for u in members}:
        raise GoalReviewError("That goal belongs to another match than yours; nothing was changed.")
    if match.status == MatchStatus.ENDED.value and choice.stage != END:
        raise GoalReviewError("That match has ended, so this review is closed; nothing was changed.")
    if choice.status not in STATUS_LABELS or choice.stage not in STAGES:
        raise GoalReviewError("That button is damaged; please use the latest message.")
    if goal.status != choice.status:
        goal.status = choice.status
        goal.updated_at = core.clock.now()
    goals = (await goals_by_match(session, [match.id])).get(match.id or 0, [])
    return goal_review_message(match, goals, user, [u for u in members if u.id != user.id], choice.stage)


# --- the halfway review ----------------------------------------------------------------------------------


async def _halfway_candidates(session: AsyncSession, now: datetime) -> list[tuple[Match, Program, Workspace]]:
    """Live mentoring matches with goals in their halfway week."""
    rows = (
        await session.exec(
            select(Match, Program, Workspace)
            .join(Program, col(Program.id) == Match.program_id)
            .join(Workspace, col(Workspace.id) == Program.workspace_id)
            .where(
                Program.kind == ProgramKind.MENTORING.value,
                Program.status == ProgramStatus.ACTIVE.value,
                col(Match.status) != MatchStatus.ENDED.value,
                col(Match.id).in_(select(Goal.match_id)),
            )
            .order_by(col(Match.id))
        )
    ).all()
    out = []
    for match, program, workspace in rows:
        assert match.created_at is not None
        if (now - match.created_at) // timedelta(weeks=1) + 1 == halfway_week(program):
            out.append((match, program, workspace))
    return out


async def send_halfway_reviews(core: Runtime) -> int:
    """In a mentoring pair's halfway week, each member not away gets the goal review (once each)."""
    now = core.clock.now()
    total = 0
    async with core.db.transaction() as session:
        candidates = await _halfway_candidates(session, now)
        if not candidates:
            return 0
        ids = [m.id for m, _, _ in candidates]
        done = set(
            (
                await session.exec(
                    select(Delivery.idempotency_key).where(
                        col(Delivery.match_id).in_(ids), Delivery.step == REVIEW_STEP
                    )
                )
            ).all()
        )
        goals = await goals_by_match(session, ids)
        members_of_match = await members_by_match(session, [i for i in ids if i is not None])
        memberships = await _memberships(session, candidates, members_of_match)
        for match, program, workspace in candidates:
            members = [u for _, u in members_of_match.get(match.id or 0, [])]
            away = _away(memberships, program, members, now)

            def due(u: User, match: Match = match, away: set[str] = away) -> bool:
                """Not sent yet and not away: the messages of the others are never drawn (every tick of the week)."""
                return review_key(match, HALFWAY, u) not in done and u.platform_user_id not in away

            items = review_outgoing(program, match, goals.get(match.id or 0, []), members, HALFWAY, only=due)
            total += await enqueue(session, workspace.id or 0, items, now)
    return total


async def _memberships(
    session: AsyncSession,
    candidates: list[tuple[Match, Program, Workspace]],
    members: dict[int, list[tuple[MatchMember, User]]],
) -> dict[tuple[int, int], Membership]:
    """The memberships of every candidate's members in its program, by (program id, user id): one query."""
    program_ids = sorted({p.id or 0 for _, p, _ in candidates})
    user_ids = sorted({u.id or 0 for rows in members.values() for _, u in rows})
    if not user_ids:
        return {}
    rows = await session.exec(
        select(Membership).where(col(Membership.program_id).in_(program_ids), col(Membership.user_id).in_(user_ids))
    )
    return {(m.program_id, m.user_id): m for m in rows.all()}


def _away(
    memberships: dict[tuple[int, int], Membership], program: Program, members: list[User], now: datetime
) -> set[str]:
    """Platform ids of the members who are paused or no longer in the program."""
    found = {
        u.id: memberships[(program.id or 0, u.id or 0)] for u in members if (program.id or 0, u.id or 0) in memberships
    }
    return {u.platform_user_id for u in members if u.id not in found or not is_available(found[u.id or 0], now)}
